"""Allow ``python -m seq2func``."""

from seq2func.cli import main

if __name__ == "__main__":
    raise SystemExit(main())

"""seq2func: learn chromatin accessibility and gene expression from DNA sequence.

The package holds every piece of logic of the seq2func Snakemake workflow; the rules only call
``python -m seq2func <subcommand>``. Heavy dependencies (TensorFlow) are imported lazily by the
modules that need them, so preprocessing jobs start fast.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("seq2func")
except PackageNotFoundError:  # running from a source tree without installation (PYTHONPATH=src)
    __version__ = "0.1.0"

__all__ = ["__version__"]

"""The CLI keeps freed memory in the process (glibc mallopt) before a subcommand runs."""

from __future__ import annotations

import ctypes
import platform

import pytest

from seq2func import cli
from seq2func.core import threads


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt is glibc's")
def test_glibc_accepts_every_setting() -> None:
    assert threads.retain_freed_memory() is True


def test_without_a_loadable_c_library_nothing_is_set(monkeypatch) -> None:
    def no_library(name):
        raise OSError("no dynamic loading")

    monkeypatch.setattr(ctypes, "CDLL", no_library)
    assert threads.retain_freed_memory() is False


def test_a_c_library_without_mallopt_is_left_alone(monkeypatch) -> None:
    class NoMallopt:
        def __init__(self, name: str) -> None:
            pass

        def __getattr__(self, attr: str):
            raise AttributeError(attr)

    monkeypatch.setattr(ctypes, "CDLL", NoMallopt)
    assert threads.retain_freed_memory() is False


def test_the_cli_applies_it_before_running_a_subcommand(monkeypatch, tmp_path) -> None:
    calls = []
    monkeypatch.setattr(cli, "retain_freed_memory", lambda: calls.append("mallopt") or True)
    # any subcommand: this one fails at once on its missing file (exit code 2, no traceback)
    assert cli.main(["validate-config", str(tmp_path / "missing.yaml")]) == 2
    assert calls == ["mallopt"]

"""Telling a SLURM without accounting storage from one with it, by what sacct answers.

The real case (a SLURM without slurmdbd) runs in tests/test_slurm.py; here sacct is a script
answering as each kind of cluster does.
"""

from __future__ import annotations

import os

import pytest

from knockseq.slurm import accounting_disabled


def fake_sacct(folder, body: str) -> None:
    folder.mkdir()
    (folder / "sacct").write_text(f"#!/bin/sh\n{body}\n")
    (folder / "sacct").chmod(0o755)


@pytest.mark.parametrize(
    ("body", "disabled"),
    [
        ('echo "Slurm accounting storage is disabled" >&2; exit 1', True),
        ('echo "12345"; exit 0', False),
        ('echo "sacct: error: Problem talking to the database: Connection refused" >&2; exit 1', False),
    ],
)
def test_sacct_answer(tmp_path, monkeypatch, body, disabled):
    fake_sacct(tmp_path / "bin", body)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    assert accounting_disabled() is disabled


def test_no_sacct_or_no_answer_is_not_disabled(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert accounting_disabled() is False
    fake_sacct(tmp_path / "bin", "sleep 30")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert accounting_disabled(timeout=0.5) is False

"""What a bad-input case is, the project it corrupts, and how a case is run through Snakemake."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[2]
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(PROJECT / "Snakefile")]

#: Where a case's error must be raised: before any job starts, or in the named rule's job
#: (the first job that reads the file), or nowhere (``"runs"``: the input must work).
STAGES = ("parse", "counts", "targets", "gene_sets", "runs")


@dataclass(frozen=True)
class Case:
    """One hostile input and what knockseq must say about it.

    Parameters
    ----------
    id : str
        Short slug, the test id.
    area : str
        Troubleshooting heading it belongs to (e.g. "Sample sheet").
    problem : str
        What the user did, in a few words, for the Troubleshooting table.
    setup : callable
        ``setup(project)`` writes the bad input into ``project`` (a copy of :func:`good_project`
        that has run once), editing ``config/config.yaml``, ``config/samples.tsv`` or the files
        they point at.
    message : str
        The exact error text (a substring of the output: knockseq's whole message, from the
        location to the end of its fix); empty for ``stage == "runs"``.
    stage : str
        One of :data:`STAGES`.
    """

    id: str
    area: str
    problem: str
    setup: Callable[[Path], None]
    message: str
    stage: str

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise ValueError(f"{self.id}: stage {self.stage!r} not in {STAGES}")
        if (self.stage == "runs") != (self.message == ""):
            raise ValueError(f"{self.id}: a message is required unless the input must run")


def good_project(dest: Path) -> Path:
    """A copy of the bundled example (config, sample sheet, htseq-count files) in ``dest``."""
    shutil.copytree(PROJECT / "config", dest / "config")
    shutil.copytree(PROJECT / "example", dest / "example")
    return dest


# ---- small editing helpers for cases -------------------------------------------------------------


def edit_config(project: Path, **changes: object) -> None:
    """Set top-level keys of ``config/config.yaml`` (a value of ``DELETE`` removes the key)."""
    path = project / "config" / "config.yaml"
    config = yaml.safe_load(path.read_text())
    for key, value in changes.items():
        if value is DELETE:
            config.pop(key, None)
        else:
            config[key] = value
    path.write_text(yaml.safe_dump(config, sort_keys=False))


DELETE = object()


def read_sheet(project: Path) -> list[list[str]]:
    """The sample sheet's rows (header first) as lists of fields."""
    return [line.split("\t") for line in (project / "config" / "samples.tsv").read_text().splitlines()]


def write_sheet(project: Path, rows: list[list[str]], sep: str = "\t", newline: str = "\n") -> None:
    """Write the sample sheet back from rows of fields."""
    (project / "config" / "samples.tsv").write_text(newline.join(sep.join(r) for r in rows) + newline)


# ---- running a case ------------------------------------------------------------------------------


def snakemake(project: Path, *args: str) -> subprocess.CompletedProcess:
    """Run Snakemake on ``project`` (one core, no profile), capturing its output."""
    return subprocess.run(
        [*SNAKEMAKE, "--directory", str(project), "--cores", "1", "--workflow-profile", "none", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )


def snapshot(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder``."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


_JOB = re.compile(r"^(?:local)?rule (\w+):$", re.MULTILINE)


def started_jobs(output: str) -> list[str]:
    """Names of the rules whose jobs Snakemake started, from its log output."""
    return _JOB.findall(output)

"""The hostile-input corpus (``tests/badinputs/``), every case through Snakemake on a project that has run.

For each case: the exact message is printed (and written to the failing job's log), it is raised
at the stage the case names and no job runs before it that the error could have spared, and no
earlier result under ``results/`` is overwritten or deleted. Inputs that must work are run to the
count table, which must equal the good run's byte for byte.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import docgen
import pytest
from badinputs.cases import CASES
from badinputs.harness import good_project, snakemake, snapshot, started_jobs
from badinputs.troubleshooting import DOC, NAME, SCRIPT, section


@pytest.fixture(scope="module")
def ran_project(tmp_path_factory) -> Path:
    """The bundled example after one successful run (results/ and Snakemake's metadata)."""
    project = good_project(tmp_path_factory.mktemp("good"))
    result = snakemake(project)
    assert result.returncode == 0, result.stderr[-3000:]
    return project


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 60


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_bad_input(case, ran_project: Path, tmp_path: Path):
    project = tmp_path / "project"
    shutil.copytree(ran_project, project, symlinks=True)
    before = snapshot(project / "results")
    case.setup(project)
    if case.stage == "runs":
        result = snakemake(project, "results/counts/counts.tsv")
        assert result.returncode == 0, result.stderr[-3000:]
        assert (project / "results/counts/counts.tsv").read_bytes() == (
            ran_project / "results/counts/counts.tsv"
        ).read_bytes()
        return
    result = snakemake(project)
    output = result.stdout + result.stderr
    assert result.returncode != 0
    assert case.message in output, output[-3000:]
    # knockseq's message is the last thing the run prints, not buried above Snakemake's own lines.
    assert result.stderr.rstrip().endswith(case.message), result.stderr[-3000:]
    if case.stage == "parse":
        assert started_jobs(output) == []
    else:
        assert started_jobs(output) == [case.stage]
        assert case.message in (project / "logs" / f"{case.stage}.log").read_text()
    assert snapshot(project / "results") == before


def test_troubleshooting_page_matches_the_corpus():
    """docs/troubleshooting.md is the corpus's, generated (run the script below to update it)."""
    page = DOC.read_text()
    assert docgen.current(page, NAME, SCRIPT) == docgen.wrapped(section(), NAME, SCRIPT), (
        f"run: python {SCRIPT} --write"
    )

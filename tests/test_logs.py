"""Every failure of a job reaches its log file, through the real workflow.

Snakemake says "check log file(s) for error details", and on a cluster nobody sees a job's
stderr: a user error must be one clear line there, a bug its full traceback, a warning its text.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from test_workflow import copy_example, snakemake

CONTRAST = "knockdown_vs_control"
KNOCKDOWN = f"results/knockdown/{CONTRAST}.json"
TIMESTAMP = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}"
# Asking for the knockdown output alone skips the targets check, so the knockdown job meets the target.
USER_ERROR = (
    f"column 'contrasts.{CONTRAST}.targets': knockdown target 'ppp3ca' of contrast '{CONTRAST}' is neither a "
    "gene id nor a gene name of the DE results. Close gene names: PPP3CA. Fix: give the target's symbol exactly "
    "as the data name it (case matters) or its gene id, in the contrast's targets (or knockdown.targets)."
)


@pytest.fixture(scope="module")
def user_error_run(tmp_path_factory) -> tuple[Path, subprocess.CompletedProcess, str, str]:
    """The example with a mistyped knockdown target and a covariate of one level (about 25 s).

    Returns the work folder, the Snakemake run and the de and knockdown logs as the run left them.
    """
    workdir = copy_example(tmp_path_factory.mktemp("logs"))
    config = workdir / "config/config.yaml"
    text = config.read_text()
    assert "targets: [PPP3CA, PPP3CB]" in text and "design: []" in text
    config.write_text(
        text.replace("targets: [PPP3CA, PPP3CB]", "targets: [ppp3ca]").replace("design: []", "design: [line]")
    )
    sheet = workdir / "config/samples.tsv"
    lines = sheet.read_text().splitlines()
    sheet.write_text("\n".join([lines[0] + "\tline"] + [line + "\tMCF7" for line in lines[1:]]) + "\n")
    run = snakemake(workdir, "--cores", "2", KNOCKDOWN, check=False)
    assert run.returncode != 0
    logs = workdir / "logs"
    return workdir, run, (logs / f"de/{CONTRAST}.log").read_text(), (logs / f"knockdown/{CONTRAST}.log").read_text()


def test_user_error_is_one_line_in_the_log_and_on_stderr(user_error_run):
    _, run, _, log = user_error_run
    assert re.fullmatch(f"{TIMESTAMP} knockseq ERROR: {re.escape(USER_ERROR)}\n", log)
    assert "Traceback" not in run.stderr
    assert re.search(f"^{TIMESTAMP} knockseq ERROR: {re.escape(USER_ERROR)}$", run.stderr, re.MULTILINE)


def test_warnings_reach_the_log(user_error_run):
    _, _, de_log, _ = user_error_run
    # The covariate of one level is dropped with a UserWarning from inside the DE job.
    assert re.search(
        rf"^{TIMESTAMP} py\.warnings WARNING: \S+\.py:\d+: UserWarning: covariate 'line' has a "
        rf"single level \('MCF7'\) in the samples of contrast '{CONTRAST}' and was dropped from the design",
        de_log,
        re.MULTILINE,
    )


def test_bug_keeps_its_traceback_in_the_log(user_error_run):
    workdir, _, _, _ = user_error_run
    # A DE table truncated to nothing between two runs: reading it fails inside pandas, which no
    # user input can cause once the DE step has written the file, so it is reported as a bug.
    (workdir / f"results/de/{CONTRAST}.tsv").write_bytes(b"")
    run = snakemake(workdir, "--cores", "2", KNOCKDOWN, "--allowed-rules", "knockdown", check=False)
    assert run.returncode != 0
    log = (workdir / f"logs/knockdown/{CONTRAST}.log").read_text()
    for text in (log, run.stderr):
        assert (
            "knockseq ERROR: a bug in knockseq (not in your input); please report it with this log.\nTraceback" in text
        )
        assert "\npandas.errors.EmptyDataError: No columns to parse from file\n" in text
    assert log.count("Traceback (most recent call last)") == 1


def test_a_step_that_succeeds_ends_its_log_with_its_time(user_error_run):
    _, _, de_log, knockdown_log = user_error_run
    # the DE job of that run succeeded (its warning above); bench/compare_r.py sums these times
    assert re.search(rf"\n{TIMESTAMP} knockseq INFO: step done in \d+\.\d{{3}} s\n$", de_log)
    assert "step done" not in knockdown_log

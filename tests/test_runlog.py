"""Reading a failed run's log back: which jobs failed, and each one's knockseq message."""

from __future__ import annotations

import pytest

from knockseq.errors import InputError
from knockseq.runlog import failed_jobs, failure_report, job_error
from knockseq.step import run_step

RUN_LOG = """\
[Mon Dec  7 13:00:51 2026]
Error in rule counts:
    message: None
    jobid: 1
    output: results/counts/counts.tsv (update)
    log: {log} (check log file(s) for error details)
Error in rule fit:
    jobid: 4
    log: {missing}, logs/slurm/fit/1.log (check log file(s) for error details)
Shutting down, this might take some time.
"""


def failed_step(log, error: Exception) -> None:
    def step():
        raise error

    with pytest.raises(SystemExit):
        run_step(step, log=log)


def test_a_failed_steps_message_is_read_back_from_its_log(tmp_path):
    log = tmp_path / "counts.log"
    failed_step(log, InputError("bad row.", path="a.tsv", row=3, fix="fix it."))
    assert job_error(log) == "a.tsv, row 3: bad row. Fix: fix it."


def test_a_bugs_traceback_comes_with_its_message(tmp_path):
    log = tmp_path / "de.log"
    failed_step(log, ValueError("boom"))
    message = job_error(log).splitlines()
    assert message[0] == "a bug in knockseq (not in your input); please report it with this log."
    assert message[1] == "Traceback (most recent call last):" and message[-1] == "ValueError: boom"


def test_the_run_log_names_each_failed_job_and_its_logs(tmp_path):
    log = tmp_path / "counts.log"
    failed_step(log, InputError("bad row.", path="a.tsv", row=3))
    run_log = tmp_path / "run.log"
    run_log.write_text(RUN_LOG.format(log=log, missing=tmp_path / "fit.log"))
    assert failed_jobs(run_log) == [
        ("counts", [str(log)]),
        ("fit", [str(tmp_path / "fit.log"), "logs/slurm/fit/1.log"]),
    ]
    # The fit job left no log (killed on a cluster): only the counts job's message is reported.
    assert failure_report([run_log]) == f"knockseq: the counts job failed (log: {log}):\na.tsv, row 3: bad row."
    assert job_error(tmp_path / "none.log") is None
    assert failure_report([tmp_path / "run.log"][:0]) is None

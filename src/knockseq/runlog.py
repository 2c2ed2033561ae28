"""What a failed run tells its user last: each failed job's own knockseq message.

Snakemake ends a failed run with its own lines (the failed rule's block, then ``WorkflowError: At
least one job did not complete successfully.``), far below the message the job wrote (file,
row, fix). The workflow's ``onerror`` handler reads the run's log, finds the jobs that failed and
the log files they name, and prints each one's knockseq message as the run's last lines.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

#: The start of a record written with :data:`knockseq.step.LOG_FORMAT` (its asctime).
_RECORD = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
_ERROR = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} knockseq ERROR: ")
_FAILED_RULE = re.compile(r"^Error in rule (\S+):$")
_JOB_LOG = re.compile(r"^\s+log: (.+?)(?: \(check log file\(s\) for error details\))?$")


def failed_jobs(run_log: str | os.PathLike) -> list[tuple[str, list[str]]]:
    """The jobs a Snakemake run log reports as failed.

    Parameters
    ----------
    run_log : str or PathLike
        ``.snakemake/log/*.snakemake.log`` of the run (Snakemake's ``onerror`` gets its path).

    Returns
    -------
    list of (str, list of str)
        Per failed job, in the log's order: its rule and the log files it names.
    """
    jobs: list[tuple[str, list[str]]] = []
    for line in Path(run_log).read_text(errors="replace").splitlines():
        if match := _FAILED_RULE.match(line):
            jobs.append((match.group(1), []))
        elif jobs and not jobs[-1][1] and (match := _JOB_LOG.match(line)):
            jobs[-1][1].extend(path.strip() for path in match.group(1).split(","))
    return jobs


def job_error(job_log: str | os.PathLike) -> str | None:
    """The last knockseq ERROR record of a job's log (its following lines included, e.g. a
    traceback), without the time stamp; None when the log has none or does not exist."""
    try:
        lines = Path(job_log).read_text(errors="replace").splitlines()
    except OSError:
        return None
    starts = [i for i, line in enumerate(lines) if _ERROR.match(line)]
    if not starts:
        return None
    record = [_ERROR.sub("", lines[starts[-1]])]
    for line in lines[starts[-1] + 1 :]:
        if _RECORD.match(line):
            break
        record.append(line)
    return "\n".join(record).rstrip()


def failure_report(run_logs: Sequence[str | os.PathLike]) -> str | None:
    """The text printed last when a run fails: each failed job's rule, log and knockseq message.

    Parameters
    ----------
    run_logs : sequence of str or PathLike
        The run's log files (what Snakemake's ``onerror`` gets as ``log``).

    Returns
    -------
    str or None
        None when no failed job left a knockseq message (the run failed elsewhere, e.g. a
        cluster job killed before it wrote one): Snakemake's own lines then stand.
    """
    entries = []
    for rule, logs in [job for run_log in run_logs for job in failed_jobs(run_log)]:
        for log in logs:
            if (message := job_error(log)) is not None:
                entries.append(f"knockseq: the {rule} job failed (log: {log}):\n{message}")
                break
    return "\n\n".join(entries) or None

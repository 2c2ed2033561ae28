"""Running one pipeline step from a Snakemake script: logging and error reporting.

Snakemake tells the user to "check log file(s) for error details", and on a cluster nobody sees a
job's stderr: so everything a step has to say (its log records, Python warnings, its error)
goes to the job's log file as well as to stderr.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

from knockseq.errors import InputError

T = TypeVar("T")

#: Format of every record, in the log file and on stderr.
LOG_FORMAT = "%(asctime)s %(name)s %(levelname)s: %(message)s"


def run_step(func: Callable[..., T], *args: Any, log: str | os.PathLike | None = None, **kwargs: Any) -> T:
    """Call ``func(*args, **kwargs)`` as one step of the workflow.

    Log records and Python warnings (captured by :func:`logging.captureWarnings`) go to ``log``
    and to stderr. An :class:`InputError` is written there as one ``knockseq ERROR`` line,
    without a traceback: the user has a mistake to fix, not code to debug. Any other exception
    is a bug: it is written with its full traceback. Either way the process ends with status 1
    (Snakemake then deletes the step's outputs and keeps the log). A step that succeeds ends its
    log with ``step done in S s`` (``func``'s wall time, without the interpreter's start and
    imports), which ``bench/compare_r.py`` sums to measure the workflow's own overhead.

    Parameters
    ----------
    func : callable
        The step's entry function.
    *args, **kwargs
        Passed to ``func``.
    log : str or PathLike, optional
        Log file of the job (overwritten).

    Returns
    -------
    object
        What ``func`` returns.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log is not None:
        handlers.append(logging.FileHandler(log, mode="w"))
    logging.basicConfig(level=logging.INFO, format=LOG_FORMAT, handlers=handlers, force=True)
    logging.captureWarnings(True)
    logger = logging.getLogger("knockseq")
    start = time.perf_counter()
    try:
        result = func(*args, **kwargs)
        logger.info("step done in %.3f s", time.perf_counter() - start)
        return result
    except InputError as error:
        logger.error("%s", error)
    except Exception:
        logger.exception("a bug in knockseq (not in your input); please report it with this log.")
    sys.exit(1)

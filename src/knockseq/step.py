"""Running one pipeline step from a Snakemake script: logging and user-error reporting."""

from __future__ import annotations

import logging
import os
import sys
from typing import Any, Callable, TypeVar

from knockseq.errors import InputError

T = TypeVar("T")


def run_step(func: Callable[..., T], *args: Any, log: str | os.PathLike | None = None, **kwargs: Any) -> T:
    """Call ``func(*args, **kwargs)`` as one step of the workflow.

    Log records of knockseq go to ``log`` and to stderr. An :class:`InputError` is printed once,
    as one message without a traceback, and ends the process with status 1 (Snakemake then
    deletes the step's outputs). Any other exception is a bug and keeps its traceback.

    Parameters
    ----------
    func : callable
        The step's entry function.
    log : str or PathLike, optional
        Log file of the job.
    """
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log is not None:
        handlers.append(logging.FileHandler(log, mode="w"))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s", handlers=handlers, force=True)
    try:
        return func(*args, **kwargs)
    except InputError as error:
        logging.getLogger("knockseq").error("%s", error)
        sys.exit(1)

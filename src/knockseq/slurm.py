"""What the workflow checks of the SLURM cluster it submits to.

Snakemake's SLURM executor follows its jobs with ``sacct`` whenever ``sacct`` is installed. On a
cluster without accounting storage (no slurmdbd) ``sacct`` answers every query with "Slurm
accounting storage is disabled", and the run waits on finished jobs forever, printing nothing.
"""

from __future__ import annotations

import subprocess

#: What ``sacct`` prints (to stderr, exit status 1) where SLURM keeps no accounting.
DISABLED = "accounting storage is disabled"


def accounting_disabled(timeout: float = 30) -> bool:
    """Whether ``sacct`` answers that this cluster's accounting storage is disabled.

    Parameters
    ----------
    timeout : float
        Seconds to wait for ``sacct``; a controller that does not answer counts as not disabled
        (the executor then reports its own errors).

    Returns
    -------
    bool
        True only when ``sacct`` ran and said so.
    """
    try:
        result = subprocess.run(
            ["sacct", "--noheader", "--allocations", "--format=JobID"],
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return DISABLED in (result.stdout + result.stderr).lower()

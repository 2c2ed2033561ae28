"""Peak memory and wall time of the ``fit``, ``de`` and ``vst`` steps against samples x genes.

Each point runs in a fresh Python process (so peak RSS is that step's alone; ``de`` reads a fit
pickled by another process first, as the workflow's ``de`` job does): two groups of
``samples / 2``, negative binomial counts with DESeq2's mean-dispersion shape (``0.01 + 1 / mean``,
log-normal means, seed 0), ``compat: r``, default pre-filter, one CPU. The numbers are what
``knockseq.resources`` is calibrated on (``docs/resources.md``).

Usage: ``.venv/bin/python bench/resources.py [--points 6x20000 24x20000 96x20000 24x60000]
[--steps fit de vst]``
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd


def synthetic(n_samples: int, n_genes: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``counts.tsv``-shaped table (n_genes rows) and a two-group sheet (n_samples rows)."""
    rng = np.random.default_rng(seed)
    mean = rng.lognormal(mean=5, sigma=2, size=n_genes)[:, None] * rng.uniform(0.7, 1.3, n_samples)[None, :]
    dispersion = 0.01 + 1 / mean
    values = rng.negative_binomial(1 / dispersion, 1 / (1 + mean * dispersion))
    samples = [f"s{i:03d}" for i in range(n_samples)]
    counts = pd.DataFrame(values, columns=samples)
    ids = [f"G{i:05d}" for i in range(n_genes)]
    counts.insert(0, "gene_name", ids)
    counts.insert(0, "gene_id", ids)
    sheet = pd.DataFrame({"sample": samples, "condition": ["control", "knockdown"] * (n_samples // 2)})
    return counts, sheet


def measure(step: str, n_samples: int, n_genes: int, fit_path: str) -> dict[str, float]:
    """Seconds and peak RSS (MiB) of one step in this process, and the RSS before it.

    ``fit`` pickles its fit to ``fit_path``, which ``de`` then reads (Wald test, filtering and
    apeGLM shrinkage of the one contrast).
    """
    from knockseq.de import contrast_results, fit_design, read_fit, vst, write_fit
    from knockseq.fits import FitSpec

    counts, sheet = synthetic(n_samples, n_genes)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    if step == "fit":
        spec = FitSpec("condition", "control", tuple(sheet["sample"]), (), 10, "r", "batched", True)
        write_fit(fit_design(counts, sheet, spec, n_cpus=1), fit_path)
    elif step == "de":
        contrast = {"name": "kd", "variable": "condition", "test": "knockdown", "reference": "control"}
        contrast_results(read_fit(fit_path), contrast, alpha=0.1, shrink=True, n_cpus=1)
    else:
        vst(counts, sheet, ["condition"], blind=True, compat="r", engine="batched")
    seconds = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "step": step,
        "samples": n_samples,
        "genes": n_genes,
        "seconds": seconds,
        "peak_mib": peak,
        "before_mib": before,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", nargs="+", default=["6x20000", "24x20000", "96x20000", "24x60000"])
    parser.add_argument("--steps", nargs="+", default=["fit", "de", "vst"], choices=["fit", "de", "vst"])
    parser.add_argument("--child", nargs=4, metavar=("STEP", "SAMPLES", "GENES", "FIT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        warnings.simplefilter("ignore")
        print(json.dumps(measure(args.child[0], int(args.child[1]), int(args.child[2]), args.child[3])))
        return
    print("| step | samples | genes | seconds | peak RSS MiB | RSS before the step MiB |\n|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for point in args.points:
            n_samples, n_genes = point.split("x")
            fit_path = f"{tmp}/{point}.pkl"
            # de needs the point's fit on disk: fit runs first whenever de is asked for
            steps = ["fit"] * ("de" in args.steps and "fit" not in args.steps) + args.steps
            for step in steps:
                out = subprocess.run(
                    [sys.executable, __file__, "--child", step, n_samples, n_genes, fit_path],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                row = json.loads(out.stdout.strip().splitlines()[-1])
                print(
                    f"| {step} | {row['samples']} | {row['genes']:,} | {row['seconds']:.1f} | {row['peak_mib']:.0f} "
                    f"| {row['before_mib']:.0f} |",
                    flush=True,
                )


if __name__ == "__main__":
    main()

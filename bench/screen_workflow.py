"""A synthetic siRNA screen through the whole workflow with 1, 10 and 50 contrasts: wall and CPU.

The screen is ``tests/screen.py``'s (3 batches x (10 siRNAs + NTC) = 33 samples, 20,000 genes,
seed 1), with gene names taken from the shipped hallmark collection and ER core set (so GSEA and
the direct-target test have genes to test) and ``design: [batch]``. Contrast k compares siRNA
(k mod 10) with NTC and checks its target gene; 50 contrasts repeat the ten comparisons under
other names, which costs the workflow what 50 distinct siRNAs would (one fit, 50 of every
per-contrast job). Each size runs from an empty folder with ``snakemake --cores 2`` (all outputs:
plots and summary included), timed from outside: wall clock, and user + system CPU of Snakemake
and every job it started. The jobs' own ``step done in`` lines are summed per rule to show where
the time goes. ``--no-contrast-figures`` runs the screen with ``plots: {contrasts: false}`` (every
table, verdict and summary figure, no per-contrast figures) and writes
``bench/results/screen_workflow_no_contrast_figures.md``.

Usage: ``.venv/bin/python bench/screen_workflow.py [--contrasts 1 10 50] [--genes 20000]
[--no-contrast-figures] [--out FILE]``
"""

from __future__ import annotations

import argparse
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from compare_r import source_state, step_seconds, workflow_command  # noqa: E402
from screen import CONTROL, make_screen, sirna_name, target_name  # noqa: E402

from knockseq.genesets import builtin_path, read_gmt  # noqa: E402


def symbols() -> list[str]:
    """Gene symbols of the shipped collections, ER core first, in a fixed order."""
    names = []
    for name in ("er_core", "hallmark"):
        for genes in read_gmt(builtin_path(name)).values():
            names += [gene for gene in genes if gene not in names]
    return names


def write_project(folder: Path, n_contrasts: int, n_genes: int, contrast_figures: bool = True) -> None:
    """Counts, sheet and config of the screen with ``n_contrasts`` contrasts in ``folder``; without
    ``contrast_figures`` the config sets ``plots: {contrasts: false}``."""
    counts, sheet = make_screen(n_genes=n_genes, seed=1)
    known = symbols()
    # Genes 0-9 stay the siRNAs' targets; the next ones take real symbols.
    names = list(counts["gene_name"])
    for i, symbol in enumerate(known, start=10):
        if i < len(names):
            names[i] = symbol
    counts["gene_name"] = names
    counts.drop(columns="gene_name").to_csv(folder / "counts.tsv", sep="\t", index=False)
    counts[["gene_id", "gene_name"]].to_csv(folder / "genes.tsv", sep="\t", index=False)
    sheet.to_csv(folder / "samples.tsv", sep="\t", index=False)
    contrasts = {
        f"c{k + 1:02d}_{sirna_name(k % 10)}": {
            "variable": "sirna_target",
            "test": sirna_name(k % 10),
            "reference": CONTROL,
            "targets": [target_name(k % 10)],
        }
        for k in range(n_contrasts)
    }
    config = {
        "samples": "samples.tsv",
        "counts": "counts.tsv",
        "annotation": "genes.tsv",
        "design": ["batch"],
        "contrasts": contrasts,
        "plots": {"contrasts": contrast_figures},
    }
    (folder / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))


def run(folder: Path) -> dict:
    """Run the workflow in ``folder``: wall, CPU, jobs and the jobs' own seconds per rule."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    result = subprocess.run(workflow_command(folder, folder / "config.yaml", 2), capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if result.returncode != 0:
        raise SystemExit(f"the workflow failed in {folder}:\n{result.stderr[-3000:]}")
    steps: dict[str, list[float]] = defaultdict(list)
    for log in (folder / "logs").rglob("*.log"):
        if "slurm" in log.parts:
            continue
        seconds = step_seconds(log)
        if seconds is not None:
            steps[_rule_of(log, folder)].append(seconds)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return {"wall": wall, "cpu": cpu, "jobs": sum(len(v) for v in steps.values()), "steps": steps}


def _rule_of(log: Path, folder: Path) -> str:
    """The rule a job log belongs to, from its path under logs/ (see the rules' ``log:``)."""
    parts = log.relative_to(folder / "logs").parts
    if len(parts) == 1:
        return log.stem
    if parts[0] == "de":
        return "fit" if log.stem.startswith("fit_") else "de"
    if parts[0] == "plots":
        named = {"qc": "plots_qc", "verdicts": "plots_verdict"}
        return named.get(log.stem, "plots_fit" if log.stem.startswith("fit_") else "plots_contrast")
    if parts[0] == "qc":
        return "vst"
    return parts[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contrasts", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--genes", type=int, default=20_000)
    parser.add_argument("--no-contrast-figures", dest="figures", action="store_false")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    out = args.out or ROOT / f"bench/results/screen_workflow{'' if args.figures else '_no_contrast_figures'}.md"
    rows = {}
    for n in args.contrasts:
        folder = Path(tempfile.mkdtemp(prefix=f"knockseq-screen-{n}-"))
        write_project(folder, n, args.genes, args.figures)
        rows[n] = run(folder)
        print(
            f"{n} contrasts: wall {rows[n]['wall']:.1f} s, CPU {rows[n]['cpu']:.1f} s, {rows[n]['jobs']} jobs",
            flush=True,
        )
        shutil.rmtree(folder)
    first = min(rows)
    lines = [
        "# A screen through the whole workflow (`bench/screen_workflow.py`)",
        "",
        f"{source_state()}; {platform.processor() or platform.machine()}, `snakemake --cores 2`, "
        f"33 samples x {args.genes:,} genes, `design: [batch]`, "
        + ("every output (plots, summary)" if args.figures else "`plots: {contrasts: false}` (no per-contrast figures)")
        + " from an empty folder.",
        "",
        "| contrasts | wall | CPU (user + sys) | jobs | wall / one contrast's | wall per added contrast |",
        "|---|---|---|---|---|---|",
    ]
    for n, row in rows.items():
        added = (row["wall"] - rows[first]["wall"]) / (n - first) if n != first else float("nan")
        lines.append(
            f"| {n} | {row['wall']:.1f} s | {row['cpu']:.1f} s | {row['jobs']} "
            f"| {row['wall'] / rows[first]['wall']:.2f} | {'' if n == first else f'{added:.1f} s'} |"
        )
    lines += [
        "",
        "Seconds inside the jobs (their `step done in` lines), per rule, summed:",
        "",
        "| rule | " + " | ".join(f"{n} contrasts" for n in rows) + " |",
        "|---|" + "---|" * len(rows),
    ]
    rules = sorted({rule for row in rows.values() for rule in row["steps"]})
    for rule in rules:
        cells = [f"{sum(rows[n]['steps'].get(rule, [])):.1f} s ({len(rows[n]['steps'].get(rule, []))})" for n in rows]
        lines.append(f"| {rule} | " + " | ".join(cells) + " |")
    out.write_text("\n".join(lines) + "\n")
    print(out.read_text())


if __name__ == "__main__":
    main()

"""knockseq against R DESeq2 + fgsea, side by side, in one run: wall time, peak memory, ratio.

Every measurement runs in a fresh process (knockseq's through this script's ``one`` subcommand,
R's through ``bench/r/*.R``), the two tools alternating so that load from other processes hits
both alike; each figure is the median of ``--repeats`` runs with min and max. Times are taken
inside the process around the library calls (data loading and imports excluded, on both sides);
peak RSS is the whole process's (``VmHWM``). Cases (``--quick`` shrinks every one, for the test
suite):

- ``airway``: airway ``~ cell + dex``, every gene (no pre-filter), fit + Wald + filtering;
  knockseq also with apeGLM shrinkage (R's apeglm is not installed, so R has no such row);
- ``synthetic_<n>x<genes>``: seeded negative-binomial matrices whose gene means and dispersions
  are drawn from R's airway fit, ``~ batch + condition``;
- ``screen_33x20k``: ``tests/screen.py``'s 10-siRNA screen, one fit and ten contrasts;
- ``pipeline``: airway end to end through the workflow, against the sum of its jobs' own library
  calls (each job's log ends with their time), and a no-op rerun;
- ``gsea_*``: the airway Wald ranking against the hallmark sets: knockseq (gseapy multilevel,
  the workflow's default) vs ``fgseaMultilevel`` and ``fgseaSimple`` (1000 permutations).

Usage (after ``sudo bash ../shared/vendor/r/install-r-baseline.sh``)::

    .venv/bin/python bench/compare_r.py [--repeats 3] [--quick] [--out bench/results/DATE.md]

writes the Markdown table and ``<out stem>_scaling.png`` (DE time against samples).
``--pipeline --out bench/results/airway_pipeline.md`` measures the ``pipeline`` case alone (no R).
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KNOCKSEQ_SHARED", ROOT.parent / "shared")).resolve()
R_DIR = Path(__file__).resolve().parent / "r"


@dataclass(frozen=True)
class Case:
    """One side-by-side comparison: files both tools read and what each runs on them."""

    name: str
    kind: str  # "de" or "gsea"
    files: dict[str, str]
    design: str = ""
    contrasts: tuple[str, ...] = ()  # variable:test:reference
    samples: int = 0
    genes: int = 0


# ---- inputs ---------------------------------------------------------------------------------


def _airway(work: Path, quick: bool) -> Case:
    counts = pd.read_csv(SHARED / "data/airway/counts.tsv.gz", sep="\t", index_col=0)
    if quick:
        counts = counts.iloc[:3000]
    sheet = pd.read_csv(SHARED / "data/airway/samples.tsv", sep="\t", index_col=0).loc[counts.columns]
    return _write_de(work, "airway", counts, sheet, "~ cell + dex", ("dex:trt:untrt",))


def _synthetic(work: Path, n_samples: int, n_genes: int, seed: int = 0) -> Case:
    """Counts with gene means and dispersions resampled from R's airway fit (fixed seed)."""
    fit = pd.read_csv(SHARED / "reference/airway_cell_dex.deseq2.tsv", sep="\t")
    disp = pd.read_csv(SHARED / "reference/airway_cell_dex.dispersions.tsv", sep="\t")
    pairs = fit.merge(disp, on="gene_id")[["baseMean", "dispersion"]].dropna()
    pairs = pairs[pairs["baseMean"] > 0]
    rng = np.random.default_rng(seed)
    drawn = pairs.iloc[rng.integers(0, len(pairs), n_genes)].to_numpy()
    condition = np.tile(["control", "treated"], n_samples // 2 + 1)[:n_samples]
    batch = np.repeat(["b1", "b2"], (n_samples + 1) // 2)[:n_samples]
    lfc = np.where(rng.random(n_genes) < 0.1, rng.normal(0, 1, n_genes), 0.0)
    mu = drawn[:, :1] * np.exp(np.log(2) * lfc[:, None] * (condition == "treated")[None, :])
    size = 1 / drawn[:, 1:]
    counts = rng.negative_binomial(size, size / (size + mu))
    samples = [f"s{i + 1:03d}" for i in range(n_samples)]
    table = pd.DataFrame(counts, index=[f"G{i:05d}" for i in range(n_genes)], columns=samples)
    sheet = pd.DataFrame({"condition": condition, "batch": batch}, index=samples)
    name = f"synthetic_{n_samples}x{n_genes // 1000}k"
    return _write_de(work, name, table, sheet, "~ batch + condition", ("condition:treated:control",))


def _screen(work: Path, n_genes: int) -> Case:
    sys.path.insert(0, str(ROOT / "tests"))
    from screen import CONTROL, make_screen, sirna_name

    counts, sheet = make_screen(n_genes=n_genes, seed=1)
    table = counts.drop(columns="gene_name").set_index("gene_id")
    sheet = sheet.set_index("sample")[["sirna_target", "batch"]]
    contrasts = tuple(f"sirna_target:{sirna_name(k)}:{CONTROL}" for k in range(10))
    name = f"screen_{len(sheet)}x{n_genes // 1000}k"
    return _write_de(work, name, table, sheet, "~ batch + sirna_target", contrasts)


def _write_de(
    work: Path, name: str, counts: pd.DataFrame, sheet: pd.DataFrame, design: str, contrasts: tuple[str, ...]
) -> Case:
    folder = work / name
    folder.mkdir(parents=True, exist_ok=True)
    counts.rename_axis("gene_id").to_csv(folder / "counts.tsv", sep="\t")
    sheet.rename_axis("sample").to_csv(folder / "samples.tsv", sep="\t")
    return Case(
        name,
        "de",
        {"counts": str(folder / "counts.tsv"), "samples": str(folder / "samples.tsv")},
        design,
        contrasts,
        counts.shape[1],
        counts.shape[0],
    )


def cases(work: Path, quick: bool) -> list[Case]:
    """Every case, its input files written under ``work``."""
    gsea = Case(
        "gsea_hallmark",
        "gsea",
        {
            "ranks": str(SHARED / "reference/airway_cell_dex.fgsea_hallmark.ranks.tsv"),
            "gmt": str(SHARED / "data/genesets/h.all.v7.0.symbols.gmt"),
        },
    )
    if quick:
        return [_airway(work, True), _synthetic(work, 6, 2000), _screen(work, 1000), gsea]
    return [
        _airway(work, False),
        *(_synthetic(work, n, 20_000) for n in (6, 24, 96, 384)),
        _synthetic(work, 6, 60_000),
        _screen(work, 20_000),
        gsea,
    ]


# ---- one measurement, in its own process -----------------------------------------------------


def knockseq_de(case: Case, shrink: bool, out: Path) -> float:
    """Seconds of knockseq's fit + every contrast's results (this process)."""
    from knockseq.config import config_defaults
    from knockseq.de import contrast_results, fit_design
    from knockseq.fits import fit_spec

    de = config_defaults(ROOT / "workflow/schemas/config.schema.yaml")["de"]
    counts = pd.read_csv(case.files["counts"], sep="\t", dtype={"gene_id": str})
    counts.insert(1, "gene_name", counts["gene_id"])
    sheet = pd.read_csv(case.files["samples"], sep="\t", dtype=str)
    covariates = [term.strip() for term in case.design.strip("~ ").split("+")][:-1]
    contrasts = [
        dict(zip(("variable", "test", "reference"), c.split(":")), name=c.split(":")[1]) for c in case.contrasts
    ]
    warnings.simplefilter("ignore")
    start = time.perf_counter()
    # min_count 0: every gene, as R's DESeq() without a pre-filter
    spec = fit_spec(contrasts[0], sheet, covariates, {**de, "min_count": 0})
    fit = fit_design(counts, sheet, spec, n_cpus=os.cpu_count() or 1)
    results = [contrast_results(fit, c, alpha=0.1, shrink=shrink, n_cpus=os.cpu_count() or 1) for c in contrasts]
    seconds = time.perf_counter() - start
    results[0].table.to_csv(out, sep="\t", index=False)
    return seconds


def knockseq_gsea(case: Case, out: Path) -> float:
    """Seconds of knockseq's preranked GSEA with the workflow's default options (this process)."""
    import gseapy  # noqa: F401 (imported before the clock starts, as fgsea's library() in R: 1.3 s)

    from knockseq.config import config_defaults
    from knockseq.enrichment import run_gsea
    from knockseq.genesets import read_gmt

    options = config_defaults(ROOT / "workflow/schemas/config.schema.yaml")["gsea"]
    ranks = pd.read_csv(case.files["ranks"], sep="\t")
    table = pd.DataFrame(
        {"gene_id": ranks["symbol"], "gene_name": ranks["symbol"], "baseMean": 1.0, "stat": ranks["stat"]}
    )
    sets = read_gmt(case.files["gmt"])
    start = time.perf_counter()
    result = run_gsea(table, sets, **options)
    seconds = time.perf_counter() - start
    result.to_csv(out, sep="\t", index=False)
    return seconds


def source_state() -> str:
    """Which knockseq was measured: the commit, and whether the working tree had changes."""

    def git(*args: str) -> str:
        return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, check=True).stdout

    try:
        commit = git("rev-parse", "--short", "HEAD").strip()
        # the benchmarks' own result files do not count: a run rewrites them
        changed = git("status", "--porcelain", "--untracked-files=no", "--", ".", ":!bench/results").strip()
    except (OSError, subprocess.CalledProcessError):
        return "knockseq outside a git checkout"
    return f"knockseq commit {commit}" + (" with uncommitted changes" if changed else " (clean working tree)")


def peak_mib() -> float:
    """Peak resident memory of this process so far (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


@dataclass(frozen=True)
class Run:
    """What one process measured: seconds of the library calls and peak RSS (MiB)."""

    seconds: float
    peak_mib: float


def _run(command: list[str]) -> subprocess.CompletedProcess:
    """Run a command that must succeed, its output captured."""
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stderr[-3000:]}")
    return result


def measure(command: list[str]) -> Run:
    """Run ``command``, whose last stdout line is ``{"seconds": S, "peak_mib": M}``."""
    return Run(**json.loads(_run(command).stdout.strip().splitlines()[-1]))


def child(args: argparse.Namespace) -> None:
    """The ``one`` subcommand: one knockseq measurement in this process, one JSON line."""
    case = Case(**json.loads(args.case))
    seconds = knockseq_gsea(case, args.out) if case.kind == "gsea" else knockseq_de(case, args.shrink, args.out)
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib()}))


def commands(case: Case, out: Path) -> dict[str, list[str]]:
    """Tool label -> command line of one measurement of ``case``, its table written to ``out``."""
    mine = [sys.executable, __file__, "one", "--case", json.dumps(case.__dict__)]
    if case.kind == "gsea":
        return {
            "knockseq": [*mine, "--out", str(out / "knockseq.tsv")],
            "fgseaMultilevel": [
                "Rscript",
                str(R_DIR / "fgsea.R"),
                case.files["ranks"],
                case.files["gmt"],
                "multilevel",
                str(out / "fgseaMultilevel.tsv"),
            ],
            "fgseaSimple": [
                "Rscript",
                str(R_DIR / "fgsea.R"),
                case.files["ranks"],
                case.files["gmt"],
                "simple",
                str(out / "fgseaSimple.tsv"),
            ],
        }
    runs = {
        "knockseq": [*mine, "--out", str(out / "knockseq.tsv")],
        "R DESeq2": [
            "Rscript",
            str(R_DIR / "deseq2.R"),
            case.files["counts"],
            case.files["samples"],
            case.design,
            ",".join(case.contrasts),
            str(out / "r.tsv"),
        ],
    }
    if case.name.startswith("airway"):
        runs["knockseq + apeGLM"] = [*mine, "--shrink", "--out", str(out / "knockseq_shrunk.tsv")]
    return runs


def agreement(case: Case, out: Path) -> str:
    """How far knockseq's answer is from R's in this case, in one cell of text."""
    if case.kind == "gsea":
        ours = pd.read_csv(out / "knockseq.tsv", sep="\t").set_index("gene_set")
        theirs = pd.read_csv(out / "fgseaMultilevel.tsv", sep="\t").set_index("pathway")
        merged = ours.join(theirs, how="inner", rsuffix="_r").dropna(subset=["NES", "NES_r"])
        nes = (merged["NES"] - merged["NES_r"]).abs().max()
        return f"{len(merged)} sets; NES max diff {nes:.3f}"
    ours = pd.read_csv(out / "knockseq.tsv", sep="\t", dtype={"gene_id": str}).set_index("gene_id")
    theirs = pd.read_csv(out / "r.tsv", sep="\t", dtype={"gene_id": str}).set_index("gene_id")
    both = ours.join(theirs, how="inner", rsuffix="_r")
    a, b = (set(both.index[both[col] < 0.05]) for col in ("padj", "padj_r"))
    jaccard = len(a & b) / len(a | b) if a | b else 1.0
    # over genes both tested (padj in both), as the README's R-agreement table: a gene with no reads
    # in one group has an unbounded log2FC that each tool stops at a different value
    tested = both["padj"].notna() & both["padj_r"].notna()
    lfc = (both["log2FoldChange"] - both["log2FoldChange_r"])[tested].abs().max()
    return f"padj<0.05 Jaccard {jaccard:.4f} ({len(a)} vs {len(b)}); log2FC max diff {lfc:.1e}"


def summarise(runs: list[Run]) -> dict[str, float]:
    """Median, min and max seconds and the median peak RSS of repeated runs."""
    seconds = [r.seconds for r in runs]
    return {
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "peak_mib": statistics.median(r.peak_mib for r in runs),
    }


def _timed_run(command: list[str]) -> float:
    """Wall seconds of a command that must succeed."""
    start = time.perf_counter()
    _run(command)
    return time.perf_counter() - start


#: The line a job's log ends with when its step succeeds (knockseq.step.run_step).
STEP_DONE = re.compile(r"step done in ([0-9.]+) s")


def workflow_command(project: Path, configfile: Path, cores: int, *extra: str) -> list[str]:
    """``python -m snakemake`` with this checkout's Snakefile, quiet, in ``project``."""
    return [
        sys.executable,
        "-m",
        "snakemake",
        "--snakefile",
        str(ROOT / "Snakefile"),
        "--directory",
        str(project),
        "--configfile",
        str(configfile),
        "--cores",
        str(cores),
        "--quiet",
        *extra,
    ]


def step_seconds(log: Path) -> float | None:
    """Seconds of a job's own library call, from its log's ``step done in`` line (None without one)."""
    found = STEP_DONE.findall(log.read_text())
    return float(found[-1]) if found else None


def pipeline_rows(work: Path) -> list[str]:
    """End to end on airway through the workflow, its bare library calls, and a no-op rerun."""
    project = work / "pipeline"
    (project / "config").mkdir(parents=True, exist_ok=True)
    counts = pd.read_csv(SHARED / "data/airway/counts.tsv.gz", sep="\t", dtype={"gene_id": str})
    counts.to_csv(project / "counts.tsv", sep="\t", index=False)
    sheet = pd.read_csv(SHARED / "data/airway/samples.tsv", sep="\t", dtype=str)
    sheet.rename(columns={sheet.columns[0]: "sample", "dex": "condition"}).to_csv(
        project / "config/samples.tsv", sep="\t", index=False
    )
    (project / "config/config.yaml").write_text(
        json.dumps(
            {
                "samples": "config/samples.tsv",
                "counts": "counts.tsv",
                "design": ["cell"],
                "annotation": str(SHARED / "data/annotation/human_ensembl_gene_names.tsv.gz"),
                "contrasts": {"dex": {"variable": "condition", "test": "trt", "reference": "untrt"}},
                "gene_sets": [{"builtin": "er_core"}, {"gmt": str(SHARED / "data/genesets/h.all.v7.0.symbols.gmt")}],
            }
        )
    )
    snakemake = workflow_command(
        project, project / "config/config.yaml", os.cpu_count(), "--workflow-profile", "none", "all"
    )
    whole, noop = (_timed_run(snakemake) for _ in range(2))
    steps = [seconds for log in (project / "logs").rglob("*.log") if (seconds := step_seconds(log)) is not None]
    bare = sum(steps)
    return [
        f"| airway end to end (workflow, every rule, {os.cpu_count()} cores) | {whole:.1f} |",
        f"| the same jobs' library calls, summed ({len(steps)} jobs, in-process, no start-up) | {bare:.1f} |",
        f"| pipeline overhead: end to end / summed calls - 1 | {100 * (whole / bare - 1):.0f}% |",
        f"| airway no-op rerun | {noop:.1f} |",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command")
    one = sub.add_parser("one", help="internal: one knockseq measurement")
    one.add_argument("--case", required=True)
    one.add_argument("--shrink", action="store_true")
    one.add_argument("--out", type=Path, required=True)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="small inputs, for the test suite")
    parser.add_argument("--out", type=Path, default=ROOT / f"bench/results/{datetime.date.today()}.md")
    parser.add_argument(
        "--pipeline", action="store_true", help="only the airway pipeline's overhead and no-op rerun (no R)"
    )
    args = parser.parse_args()
    if args.command == "one":
        child(args)
        return
    if args.pipeline:
        with tempfile.TemporaryDirectory() as tmp:
            rows = pipeline_rows(Path(tmp))
        args.out.write_text(
            "\n".join(
                [
                    "# The airway pipeline against its library calls (`bench/compare_r.py --pipeline`)",
                    "",
                    f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; from "
                    f"{source_state()}.",
                    "",
                    "| pipeline | seconds |",
                    "|---|---|",
                    *rows,
                ]
            )
            + "\n"
        )
        print(args.out.read_text())
        return

    lines = [
        f"# knockseq vs R DESeq2 + fgsea ({datetime.date.today()})",
        "",
        f"{os.cpu_count()} CPUs, {platform.platform()}, Python {platform.python_version()}; "
        f"median of {args.repeats} runs [min-max], seconds of the library calls; peak RSS of the process. "
        f"`python bench/compare_r.py` made this file from {source_state()}.",
        "",
        "| case | samples x genes | tool | seconds | peak MiB | ratio to R | agreement with R |",
        "|---|---|---|---|---|---|---|",
    ]
    scaling: dict[str, list[tuple[int, float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        for case in cases(work, args.quick):
            out = work / case.name / "out"
            out.mkdir(parents=True, exist_ok=True)
            runs: dict[str, list[Run]] = {}
            for _ in range(args.repeats):
                for tool, command in commands(case, out).items():
                    runs.setdefault(tool, []).append(measure(command))
            stats = {tool: summarise(r) for tool, r in runs.items()}
            baseline = stats.get("R DESeq2", stats.get("fgseaMultilevel"))
            shape = f"{case.samples} x {case.genes:,}" if case.kind == "de" else "hallmark, 1 ranking"
            note = agreement(case, out)
            for tool, s in stats.items():
                ratio = s["median"] / baseline["median"]
                lines.append(
                    f"| {case.name} | {shape} | {tool} | {s['median']:.2f} [{s['min']:.2f}-{s['max']:.2f}] "
                    f"| {s['peak_mib']:.0f} | {ratio:.2f} | {note if tool == 'knockseq' else ''} |"
                )
                if case.name.startswith("synthetic") and case.genes == (2000 if args.quick else 20_000):
                    scaling.setdefault(tool, []).append((case.samples, s["median"]))
            print(lines[-1], flush=True)
        if not args.quick:  # the workflow's own tests run it end to end already
            lines += ["", "| pipeline | seconds |", "|---|---|", *pipeline_rows(work)]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    _plot(scaling, args.out.with_name(args.out.stem + "_scaling.png"))
    print(f"wrote {args.out}")


def _plot(scaling: dict[str, list[tuple[int, float]]], path: Path) -> None:
    """DE seconds against samples, one line per tool, log-log."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(5, 3.5))
    for tool, points in scaling.items():
        samples, seconds = zip(*sorted(points))
        axes.plot(samples, seconds, marker="o", label=tool)
    axes.set(xscale="log", yscale="log", xlabel="samples", ylabel="seconds (fit + Wald + filtering)")
    axes.legend(frameon=False)
    figure.tight_layout()
    figure.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(figure)


if __name__ == "__main__":
    main()

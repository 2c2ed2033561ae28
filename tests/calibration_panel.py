"""The verdict's calibration panel: real datasets from ../shared and seeded simulations, each run
through knockseq's own steps (counts, DE, knockdown check, GSEA, verdict) with the options a run
uses by default (the schema's), and the hallmark GMT from ../shared.

``python tests/calibration_panel.py`` prints the README's calibration table; tests/test_calibration.py
asserts every case's verdict.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from conftest import PROJECT, shared_path  # noqa: E402

from knockseq.config import config_defaults  # noqa: E402
from knockseq.counts import build_counts  # noqa: E402
from knockseq.de import run_contrast  # noqa: E402
from knockseq.enrichment import run_gsea  # noqa: E402
from knockseq.genesets import builtin_path, er_core_genes, load_gene_sets, read_gmt  # noqa: E402
from knockseq.knockdown import assess_knockdown  # noqa: E402
from knockseq.verdict import adjust_across_contrasts, decide, direct_target_evidence  # noqa: E402

DEFAULTS = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")
ANNOTATION = "data/annotation/human_ensembl_gene_names.tsv.gz"
#: Hallmark sets of proliferation, growth, metabolism, secretion and stress: what a broad change
#: in growth moves (the kinase-siRNA screens of issue 15 shifted MYC targets, the unfolded protein
#: response and protein secretion as much as the ER sets).
GROWTH = (
    "HALLMARK_E2F_TARGETS",
    "HALLMARK_G2M_CHECKPOINT",
    "HALLMARK_MYC_TARGETS_V1",
    "HALLMARK_MYC_TARGETS_V2",
    "HALLMARK_MITOTIC_SPINDLE",
    "HALLMARK_MTORC1_SIGNALING",
    "HALLMARK_UNFOLDED_PROTEIN_RESPONSE",
    "HALLMARK_PROTEIN_SECRETION",
    "HALLMARK_GLYCOLYSIS",
    "HALLMARK_OXIDATIVE_PHOSPHORYLATION",
    "HALLMARK_CHOLESTEROL_HOMEOSTASIS",
    "HALLMARK_FATTY_ACID_METABOLISM",
    "HALLMARK_HYPOXIA",
    "HALLMARK_TNFA_SIGNALING_VIA_NFKB",
    "HALLMARK_P53_PATHWAY",
    "HALLMARK_UV_RESPONSE_UP",
    "HALLMARK_APOPTOSIS",
    "HALLMARK_ADIPOGENESIS",
    "HALLMARK_XENOBIOTIC_METABOLISM",
    "HALLMARK_ANDROGEN_RESPONSE",
)


@dataclass(frozen=True)
class Case:
    """One panel case: what it is, what a reviewer expects, and how to build it."""

    name: str
    kind: str
    expected: tuple[str, ...]
    build: str
    args: tuple = ()


@dataclass(frozen=True)
class Run:
    """A case's verdict and the DE table it rests on."""

    verdict: dict
    de: pd.DataFrame


@dataclass(frozen=True)
class Steps:
    """One contrast's step outputs, up to the verdict."""

    gsea: pd.DataFrame
    knockdown: dict
    de: pd.DataFrame
    metadata: dict
    direct: dict


@functools.cache
def gene_sets(sources: tuple[str, ...] = ("er_core", "hallmark")):
    """The builtin collections (the schema's default is both)."""
    return load_gene_sets([{"builtin": name} for name in sources], cache_dir="unused")


def contrast_steps(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    contrast: dict,
    design: list[str],
    reverse: bool = False,
    sources: tuple[str, ...] = ("er_core", "hallmark"),
) -> Steps:
    """Run DE, the knockdown check, GSEA and the direct-target test as the workflow does, with default options.

    ``reverse`` reports the contrast with test and reference swapped from the same fit: the Wald
    test is antisymmetric (tests/test_de.py checks that swapping them negates the results), so
    the table is negated instead of fitted again.
    """
    de_options = DEFAULTS["de"]
    contrast = {"variable": "condition", "where": {}, "targets": [], **contrast}
    result = run_contrast(
        counts,
        samples,
        contrast=contrast,
        design=design,
        compat=de_options["compat"],
        engine=de_options["engine"],
        alpha=de_options["alpha"],
        min_count=de_options["min_count"],
        cooks=de_options["cooks"],
        shrink=False,
    )
    if reverse:
        negated = ["log2FoldChange", "stat"]
        result.table[negated] = -result.table[negated]
        contrast = {
            **contrast,
            "name": f"{contrast['name']}_reversed",
            "test": contrast["reference"],
            "reference": contrast["test"],
        }
        result.metadata.update(contrast=contrast["name"], test=contrast["test"], reference=contrast["reference"])
    knockdown = assess_knockdown(
        result.table, result.normalized_counts, samples, contrast, contrast["targets"], DEFAULTS["knockdown"]
    )
    options = DEFAULTS["gsea"]
    gsea = run_gsea(
        result.table,
        gene_sets(sources),
        ranking=options["ranking"],
        permutations=options["permutations"],
        min_size=options["min_size"],
        max_size=options["max_size"],
        seed=options["seed"],
        method=options["method"],
        threads=1,
    )
    direct = direct_target_evidence(result.table, result.normalized_counts, samples, result.metadata)
    return Steps(gsea, knockdown, result.table, result.metadata, direct)


def verdicts_of(steps: list[Steps], sources: tuple[str, ...] = ("er_core", "hallmark")) -> list[Run]:
    """The verdicts of one run's contrasts: their direct-target p-values adjusted together."""
    fdr = adjust_across_contrasts({step.metadata["contrast"]: step.direct for step in steps})
    runs = []
    for step in steps:
        verdict = decide(
            step.gsea,
            step.knockdown,
            step.de,
            gene_sets(sources).provenance,
            step.direct,
            direct_fdr=fdr[step.metadata["contrast"]],
            n_adjusted=sum(q is not None for q in fdr.values()),
            thresholds=DEFAULTS["verdict"],
            de_settings=step.metadata,
        )
        runs.append(Run(verdict, step.de))
    return runs


def verdict_of(
    counts: pd.DataFrame,
    samples: pd.DataFrame,
    contrast: dict,
    design: list[str],
    reverse: bool = False,
    sources: tuple[str, ...] = ("er_core", "hallmark"),
) -> Run:
    """One contrast's verdict (a run of one contrast)."""
    return verdicts_of([contrast_steps(counts, samples, contrast, design, reverse, sources)], sources)[0]


# --- real data ---------------------------------------------------------------------------------


@functools.cache
def quantifier_counts(tool: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The simulated calcineurin knockdown as one quantifier saw it (see test_counts.TOOLS)."""
    from test_counts import TOOLS, sheet

    folder = shared_path("data/quantifiers")
    quant, options = TOOLS[tool]
    samples = sheet(quant)
    counts, _, _ = build_counts(
        samples,
        base_dir=folder,
        annotation=folder / "reference/genes.gtf.gz",
        **{key: folder / value for key, value in options.items()},
    )
    return counts, samples


def quantifier(tool: str, keep: tuple[str, ...] = ()) -> Run:
    counts, samples = quantifier_counts(tool)
    if keep:
        samples = samples[samples["sample"].isin(keep)].reset_index(drop=True)
    contrast = {
        "name": f"calcineurin_kd_{tool}",
        "test": "knockdown",
        "reference": "control",
        "targets": ["PPP3CA", "PPP3CB"],
    }
    return verdict_of(counts, samples, contrast, [])


@functools.cache
def counts_of(dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count table and sheet of a shared estradiol dataset, ``mcf7`` or ``t47d``."""
    folder, table = {"mcf7": ("data/mcf7_e2", "1_counts_file.csv"), "t47d": ("data/t47d_e2", "counts.tsv.gz")}[dataset]
    samples = pd.read_csv(shared_path(f"{folder}/samples.tsv"), sep="\t", dtype=str)
    counts, _, _ = build_counts(
        samples, base_dir=".", counts=shared_path(f"{folder}/{table}"), annotation=shared_path(ANNOTATION)
    )
    return counts, samples


def estradiol(dataset: str, reverse: bool = False, keep: tuple[str, ...] = ()) -> Run:
    counts, samples = counts_of(dataset)
    control = "control" if dataset == "mcf7" else "vehicle"
    if dataset == "t47d":
        samples = samples[samples["mutation"] == "WT"]
    if keep:
        samples = samples[samples["sample"].isin(keep)]
    contrast = {"name": f"{dataset}_E2_vs_{control}", "test": "E2", "reference": control}
    return verdict_of(counts, samples.reset_index(drop=True), contrast, [], reverse)


def t47d_permuted() -> Run:
    """T47D WT, each group 2 vehicle + 2 E2 samples: the estradiol effect cancels."""
    counts, samples = counts_of("t47d")
    wt = samples[samples["mutation"] == "WT"].copy()
    group_a = {"veh_WT_rep1", "veh_WT_rep2", "E2_WT_rep1", "E2_WT_rep2"}
    wt["condition"] = np.where(wt["sample"].isin(group_a), "A", "B")
    return verdict_of(counts, wt.reset_index(drop=True), {"name": "t47d_permuted", "test": "B", "reference": "A"}, [])


def airway() -> Run:
    samples = pd.read_csv(shared_path("data/airway/samples.tsv"), sep="\t", dtype=str).rename(
        columns={"dex": "condition"}
    )
    counts, _, _ = build_counts(
        samples, base_dir=".", counts=shared_path("data/airway/counts.tsv.gz"), annotation=shared_path(ANNOTATION)
    )
    return verdict_of(counts, samples, {"name": "airway_dex", "test": "trt", "reference": "untrt"}, ["cell"])


def pasilla() -> Run:
    samples = pd.read_csv(shared_path("data/pasilla/samples.tsv"), sep="\t", dtype=str)
    counts, _, _ = build_counts(samples, base_dir=".", counts=shared_path("data/pasilla/counts.tsv.gz"))
    return verdict_of(
        counts,
        samples,
        {"name": "pasilla_kd", "test": "treated", "reference": "untreated", "targets": ["FBgn0261552"]},
        ["type"],
    )


# --- simulations -------------------------------------------------------------------------------


@functools.cache
def t47d_baseline() -> pd.DataFrame:
    """Per-gene baseline of the simulations: T47D WT vehicle, mean normalised count, with symbols.

    Every hallmark gene and 6,000 other expressed genes (seeded pick), so a fit takes seconds.
    """
    counts, samples = counts_of("t47d")
    vehicle = samples.loc[(samples["mutation"] == "WT") & (samples["condition"] == "vehicle"), "sample"]
    raw = counts.set_index("gene_id")[list(vehicle)].astype(float)
    logs = np.log(raw.replace(0, np.nan))
    size_factors = np.exp((logs - logs.mean(axis=1).to_numpy()[:, None]).dropna().median())
    mean = (raw / size_factors).mean(axis=1)
    table = pd.DataFrame({"gene_name": counts.set_index("gene_id")["gene_name"], "mean": mean})
    table = table[(table["mean"] >= 5) & table["gene_name"].notna()]
    table = table[~table["gene_name"].duplicated(keep=False)]
    hallmark = {g for genes in read_gmt(builtin_path("hallmark")).values() for g in genes}
    hallmark |= {*er_core_genes(), "ESR1", "PPP3CA", "PPP3CB"}
    in_sets = table["gene_name"].isin(hallmark)
    others = table[~in_sets].sample(n=6000, random_state=20261130)
    return pd.concat([table[in_sets], others]).sort_index()


def simulate_counts(
    groups: dict[str, dict[str, float]], n: int, seed: int, baseline: pd.DataFrame | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Negative-binomial counts around a baseline (:func:`t47d_baseline` by default), n samples per group.

    Dispersion follows a DESeq2-like trend ``0.02 + 0.5 / mean``; size factors U(0.7, 1.3);
    ``groups`` maps each group (``condition`` level) to its true log2 fold changes by symbol.
    """
    base = t47d_baseline() if baseline is None else baseline
    rng = np.random.default_rng(seed)
    dispersion = 0.02 + 0.5 / base["mean"].to_numpy()
    columns = {}
    samples = []
    for group, log2fc in groups.items():
        lfc = base["gene_name"].map(log2fc).fillna(0.0).to_numpy()
        for i in range(1, n + 1):
            mu = base["mean"].to_numpy() * rng.uniform(0.7, 1.3) * 2.0**lfc
            shape = 1 / dispersion
            columns[f"{group}_{i}"] = rng.poisson(rng.gamma(shape, mu / shape))
            samples.append((f"{group}_{i}", group))
    counts = pd.DataFrame(columns, index=base.index).rename_axis("gene_id").reset_index()
    counts.insert(1, "gene_name", base["gene_name"].to_numpy())
    return counts, pd.DataFrame(samples, columns=["sample", "condition"])


def simulate(
    name: str,
    log2fc: dict[str, float],
    n: int,
    seed: int,
    targets: list[str],
    baseline: pd.DataFrame | None = None,
    sources: tuple[str, ...] = ("er_core", "hallmark"),
) -> Run:
    """n control vs n treated samples (:func:`simulate_counts`); ``log2fc`` is the treated samples' change."""
    counts, sheet = simulate_counts({"control": {}, "treated": log2fc}, n, seed, baseline)
    contrast = {"name": name, "test": "treated", "reference": "control", "targets": targets}
    return verdict_of(counts, sheet, contrast, [], sources=sources)


def growth_shift(seed: int, low: float = -0.9, high: float = -0.3) -> dict[str, float]:
    """The genes of 20 growth and stress hallmark sets, but not the direct ER targets, fall by low..high log2."""
    sets = read_gmt(builtin_path("hallmark"))
    genes = sorted({g for s in GROWTH for g in sets[s]} - set(er_core_genes()))
    rng = np.random.default_rng(seed)
    return dict(zip(genes, rng.uniform(low, high, len(genes))))


def global_shift() -> Run:
    """The genes of 20 growth and stress hallmark sets fall by 0.3-0.9 log2; the direct ER targets do not."""
    return simulate("global_shift", growth_shift(7), 3, 11, [])


def weak_knockdown() -> Run:
    """The targets keep about 70% of their expression; every ER set's genes fall by 0.4-1.0 log2."""
    sets = read_gmt(builtin_path("hallmark"))
    er_genes = sorted(set(sets["HALLMARK_ESTROGEN_RESPONSE_EARLY"]) | set(er_core_genes()))
    rng = np.random.default_rng(8)
    lfc = dict(zip(er_genes, rng.uniform(-1.0, -0.4, len(er_genes))))
    lfc.update(PPP3CA=-0.5, PPP3CB=-0.5)
    return simulate("weak_knockdown", lfc, 4, 12, ["PPP3CA", "PPP3CB"])


#: Genes of an ER program: without ER their mRNA is (nearly) absent (ER-negative lines, other tissues).
ER_PROGRAM = ("ESR1", "GREB1", "PGR", "TFF1", "MYB", "EGR3")


@functools.cache
def er_negative_baseline() -> pd.DataFrame:
    """:func:`t47d_baseline` with the ER program removed: ESR1 and its marker targets at 1-3 reads."""
    base = t47d_baseline().copy()
    program = base["gene_name"].isin(ER_PROGRAM)
    base.loc[program, "mean"] = np.linspace(1.0, 3.0, int(program.sum()))
    return base


#: Two direct targets that many non-ER programs move too (carbonic anhydrase XII, keratin 19).
TWO_GENES = {"CA12": -2.5, "KRT19": -2.5}


def er_negative() -> Run:
    """ER-negative cells, a large non-ER knockdown: growth sets fall and two core genes with them."""
    return simulate("er_negative", {**growth_shift(21), **TWO_GENES}, 3, 22, [], baseline=er_negative_baseline())


def two_genes() -> Run:
    """ER-positive cells: the hallmark estrogen-response genes outside the ER core set fall by 0.2-0.5
    log2 and two direct targets fall far (log2 -2.5); the other twelve direct targets do not move."""
    sets = read_gmt(builtin_path("hallmark"))
    hallmark_er = sorted(
        (set(sets["HALLMARK_ESTROGEN_RESPONSE_EARLY"]) | set(sets["HALLMARK_ESTROGEN_RESPONSE_LATE"]))
        - set(er_core_genes())
    )
    rng = np.random.default_rng(31)
    return simulate(
        "two_genes", {**dict(zip(hallmark_er, rng.uniform(-0.5, -0.2, len(hallmark_er)))), **TWO_GENES}, 3, 32, []
    )


def no_hallmark() -> Run:
    """The simulated knockdown with only the ER core set loaded (no hallmark collection)."""
    counts, samples = quantifier_counts("featurecounts")
    contrast = {
        "name": "calcineurin_kd_er_core_only",
        "test": "knockdown",
        "reference": "control",
        "targets": ["PPP3CA", "PPP3CB"],
    }
    return verdict_of(counts, samples, contrast, [], sources=("er_core",))


#: The siRNAs of the simulated screen: two that suppress the ER program, eight that do not.
SCREEN_ER = ("siER_strong", "siER_mild")
SCREEN_NULL = tuple(f"siNULL{k}" for k in range(1, 9))


@functools.cache
def screen_runs() -> dict[str, Run]:
    """A 10-siRNA screen (3 samples per group, one shared fit): every contrast's verdict, adjusted together.

    ``siER_strong`` lowers every hallmark estrogen-response and ER core gene by 0.6-1.2 log2,
    ``siER_mild`` by 0.3-0.8; each null siRNA lowers its own target (log2 -2) and 40 random genes
    by 0.5-1.5 log2 (off-target effects).
    """
    sets = read_gmt(builtin_path("hallmark"))
    er_genes = sorted(
        set(sets["HALLMARK_ESTROGEN_RESPONSE_EARLY"])
        | set(sets["HALLMARK_ESTROGEN_RESPONSE_LATE"])
        | set(er_core_genes())
    )
    rng = np.random.default_rng(41)
    base = t47d_baseline()
    others = base.loc[~base["gene_name"].isin([*er_genes, *ER_PROGRAM]), "gene_name"].to_numpy()
    groups: dict[str, dict[str, float]] = {"NTC": {}}
    groups["siER_strong"] = dict(zip(er_genes, rng.uniform(-1.2, -0.6, len(er_genes))))
    groups["siER_mild"] = dict(zip(er_genes, rng.uniform(-0.8, -0.3, len(er_genes))))
    for level in SCREEN_NULL:
        picked = rng.choice(others, 41, replace=False)
        groups[level] = {**dict(zip(picked[1:], rng.uniform(-1.5, -0.5, 40))), picked[0]: -2.0}
    counts, sheet = simulate_counts(groups, 3, 42)
    steps = [
        contrast_steps(counts, sheet, {"name": level, "test": level, "reference": "NTC"}, [])
        for level in groups
        if level != "NTC"
    ]
    return {run.verdict["contrast"]: run for run in verdicts_of(steps)}


def screen_contrast(level: str) -> Run:
    return screen_runs()[level]


def screen_worst_null() -> Run:
    """The null siRNA whose direct-target p-value is smallest (the one most at risk of a false call)."""
    nulls = [screen_runs()[level] for level in SCREEN_NULL]
    return min(nulls, key=lambda run: run.verdict["direct_targets"].get("pvalue", 1.0))


#: What a negative control may give: anything but a call of ER suppression or activation.
NEGATIVE = ("unchanged", "inconclusive")

QUANTIFIER_TOOLS = ("star", "htseq", "featurecounts", "featurecounts_table", "salmon", "kallisto", "rsem")

PANEL = (
    *(
        Case(f"simulated calcineurin knockdown, {tool}", "positive", ("suppressed",), "quantifier", (tool,))
        for tool in QUANTIFIER_TOOLS
    ),
    Case("MCF-7 estradiol vs control", "positive", ("activated",), "estradiol", ("mcf7",)),
    Case("MCF-7 control vs estradiol (reversed)", "positive", ("suppressed",), "estradiol", ("mcf7", True)),
    Case("T-47D WT estradiol vs vehicle", "positive", ("activated",), "estradiol", ("t47d",)),
    Case("T-47D WT vehicle vs estradiol (reversed)", "positive", ("suppressed",), "estradiol", ("t47d", True)),
    Case("T-47D WT balanced label permutation", "negative", NEGATIVE, "t47d_permuted"),
    Case("airway dexamethasone (not breast)", "negative", NEGATIVE, "airway"),
    Case("pasilla RNAi (fly: no ER sets)", "negative", ("inconclusive",), "pasilla"),
    Case("simulated global proliferation shift", "negative", NEGATIVE, "global_shift"),
    Case("simulated weak knockdown (70% remaining)", "borderline", ("suppressed",), "weak_knockdown"),
    Case(
        "MCF-7 estradiol, 2 vs 2",
        "borderline",
        ("activated", "inconclusive"),
        "estradiol",
        ("mcf7", False, ("SRR21043404", "SRR21043569", "SRR21043814", "SRR21043816")),
    ),
    Case(
        "simulated knockdown, 2 vs 2",
        "borderline",
        ("suppressed", "inconclusive"),
        "quantifier",
        ("featurecounts", ("control_1", "control_2", "knockdown_1", "knockdown_2")),
    ),
    Case("simulated ER-negative cells, large non-ER knockdown", "negative", ("inconclusive",), "er_negative"),
    Case("simulated two direct targets carry the set mean", "negative", NEGATIVE, "two_genes"),
    Case("simulated knockdown, ER core set only (no hallmark)", "negative", ("inconclusive",), "no_hallmark"),
    Case("10-siRNA screen: ER siRNA, strong", "positive", ("suppressed",), "screen_contrast", ("siER_strong",)),
    Case(
        "10-siRNA screen: ER siRNA, mild",
        "borderline",
        ("suppressed", "inconclusive"),
        "screen_contrast",
        ("siER_mild",),
    ),
    Case("10-siRNA screen: most significant of 8 null siRNAs", "negative", NEGATIVE, "screen_worst_null"),
)


@functools.cache
def run_case(case: Case) -> Run:
    return globals()[case.build](*case.args)


def table_row(case: Case, verdict: dict) -> str:
    sets = verdict["gene_sets"]
    nes = "/".join(
        f"{sets[s]['NES']:+.2f}" if sets[s]["status"] == "tested" else "-"
        for s in ("HALLMARK_ESTROGEN_RESPONSE_EARLY", "HALLMARK_ESTROGEN_RESPONSE_LATE")
    )
    direct = verdict["direct_targets"]
    if direct["status"] == "tested":
        camera = f"p {direct['camera']['pvalue']:.2g} / {direct['camera_ranks']['pvalue']:.2g}, FDR {direct['fdr']:.2g}"
        effect = direct["effect"]
        interval = f"{effect['mean_log2FoldChange']:+.2f} [{effect['ci_low']:+.2f}, {effect['ci_high']:+.2f}]"
    else:
        camera, interval = "not tested", "-"
    program = verdict["er_program"]
    best = program["best_marker"]
    expression = f"{_cpm(program['esr1_cpm'])} / " + (f"{best} {_cpm(program['markers'][best])}" if best else "-")
    spec = verdict["specificity"]
    others = (
        f"{spec['n_other_same_direction']}/{spec['n_sets_tested'] - len(spec['ranks'])}" if "ranks" in spec else "-"
    )
    return (
        f"| {case.name} | {case.kind} | {' or '.join(case.expected)} | **{verdict['verdict']}** | "
        f"{verdict['strength']} | {expression} | {nes} | {camera} | {interval} | {others} | "
        f"{verdict['knockdown']['status']} |"
    )


def _cpm(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.2g}"


HEADER = (
    "| case | kind | expected | verdict | strength | ESR1 / best marker CPM (reference) | EARLY/LATE NES | "
    "direct targets: CAMERA mean / rank p, FDR | direct targets: mean log2FC [95% CI] | "
    "other hallmark sets same direction | knockdown |\n|---|---|---|---|---|---|---|---|---|---|---|"
)


if __name__ == "__main__":
    print(HEADER)
    for case in PANEL:
        print(table_row(case, run_case(case).verdict), flush=True)

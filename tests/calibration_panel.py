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
from knockseq.genesets import er_core_genes, load_gene_sets, read_gmt  # noqa: E402
from knockseq.knockdown import assess_knockdown  # noqa: E402
from knockseq.verdict import build_verdict  # noqa: E402

DEFAULTS = config_defaults(PROJECT / "workflow/schemas/config.schema.yaml")
HALLMARK = "data/genesets/h.all.v7.0.symbols.gmt"
ANNOTATION = "data/annotation/human_ensembl_gene_names.tsv.gz"
#: Hallmark sets of proliferation, growth, metabolism, secretion and stress: what a broad change
#: in growth moves (the kinase-siRNA screens of issue 15 shifted MYC targets, the unfolded protein
#: response and protein secretion as much as the ER sets).
GROWTH = ("HALLMARK_E2F_TARGETS", "HALLMARK_G2M_CHECKPOINT", "HALLMARK_MYC_TARGETS_V1", "HALLMARK_MYC_TARGETS_V2",
          "HALLMARK_MITOTIC_SPINDLE", "HALLMARK_MTORC1_SIGNALING", "HALLMARK_UNFOLDED_PROTEIN_RESPONSE",
          "HALLMARK_PROTEIN_SECRETION", "HALLMARK_GLYCOLYSIS", "HALLMARK_OXIDATIVE_PHOSPHORYLATION",
          "HALLMARK_CHOLESTEROL_HOMEOSTASIS", "HALLMARK_FATTY_ACID_METABOLISM", "HALLMARK_HYPOXIA",
          "HALLMARK_TNFA_SIGNALING_VIA_NFKB", "HALLMARK_P53_PATHWAY", "HALLMARK_UV_RESPONSE_UP",
          "HALLMARK_APOPTOSIS", "HALLMARK_ADIPOGENESIS", "HALLMARK_XENOBIOTIC_METABOLISM",
          "HALLMARK_ANDROGEN_RESPONSE")


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


@functools.cache
def gene_sets():
    return load_gene_sets([{"builtin": "er_core"}, {"gmt": str(shared_path(HALLMARK))}], cache_dir="unused")


def verdict_of(counts: pd.DataFrame, samples: pd.DataFrame, contrast: dict, design: list[str],
               reverse: bool = False) -> Run:
    """Run DE, the knockdown check, GSEA and the verdict as the workflow does, with default options.

    ``reverse`` reports the contrast with test and reference swapped from the same fit: the Wald
    test is antisymmetric (tests/test_de.py checks that swapping them negates the results), so
    the table is negated instead of fitted again.
    """
    de_options = DEFAULTS["de"]
    contrast = {"variable": "condition", "where": {}, "targets": [], **contrast}
    result = run_contrast(counts, samples, contrast=contrast, design=design, compat=de_options["compat"],
                          engine=de_options["engine"],
                          alpha=de_options["alpha"], min_count=de_options["min_count"], cooks=de_options["cooks"],
                          shrink=False)
    if reverse:
        negated = ["log2FoldChange", "stat"]
        result.table[negated] = -result.table[negated]
        contrast = {**contrast, "name": f"{contrast['name']}_reversed", "test": contrast["reference"],
                    "reference": contrast["test"]}
        result.metadata.update(test=contrast["test"], reference=contrast["reference"])
    knockdown = assess_knockdown(result.table, result.normalized_counts, samples, contrast, contrast["targets"],
                                 DEFAULTS["knockdown"])
    options = DEFAULTS["gsea"]
    gsea = run_gsea(result.table, gene_sets(), ranking=options["ranking"], permutations=options["permutations"],
                    min_size=options["min_size"], max_size=options["max_size"], seed=options["seed"],
                    method=options["method"], threads=1)
    verdict = build_verdict(gsea, knockdown, result.table, result.normalized_counts, samples, result.metadata,
                            gene_sets().provenance, fdr=DEFAULTS["verdict"]["fdr"],
                            global_shift_share=DEFAULTS["verdict"]["global_shift_share"], contrast=contrast["name"])
    return Run(verdict, result.table)


# --- real data ---------------------------------------------------------------------------------

@functools.cache
def quantifier_counts(tool: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The simulated calcineurin knockdown as one quantifier saw it (see test_counts.TOOLS)."""
    from test_counts import TOOLS, sheet

    folder = shared_path("data/quantifiers")
    quant, options = TOOLS[tool]
    samples = sheet(quant)
    counts, _, _ = build_counts(samples, base_dir=folder, annotation=folder / "reference/genes.gtf.gz",
                                **{key: folder / value for key, value in options.items()})
    return counts, samples


def quantifier(tool: str, keep: tuple[str, ...] = ()) -> Run:
    counts, samples = quantifier_counts(tool)
    if keep:
        samples = samples[samples["sample"].isin(keep)].reset_index(drop=True)
    contrast = {"name": f"calcineurin_kd_{tool}", "test": "knockdown", "reference": "control",
                "targets": ["PPP3CA", "PPP3CB"]}
    return verdict_of(counts, samples, contrast, [])


@functools.cache
def counts_of(dataset: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Count table and sheet of a shared estradiol dataset, ``mcf7`` or ``t47d``."""
    folder, table = {"mcf7": ("data/mcf7_e2", "1_counts_file.csv"), "t47d": ("data/t47d_e2", "counts.tsv.gz")}[dataset]
    samples = pd.read_csv(shared_path(f"{folder}/samples.tsv"), sep="\t", dtype=str)
    counts, _, _ = build_counts(samples, base_dir=".", counts=shared_path(f"{folder}/{table}"),
                                annotation=shared_path(ANNOTATION))
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
        columns={"dex": "condition"})
    counts, _, _ = build_counts(samples, base_dir=".", counts=shared_path("data/airway/counts.tsv.gz"),
                                annotation=shared_path(ANNOTATION))
    return verdict_of(counts, samples, {"name": "airway_dex", "test": "trt", "reference": "untrt"}, ["cell"])


def pasilla() -> Run:
    samples = pd.read_csv(shared_path("data/pasilla/samples.tsv"), sep="\t", dtype=str)
    counts, _, _ = build_counts(samples, base_dir=".", counts=shared_path("data/pasilla/counts.tsv.gz"))
    return verdict_of(counts, samples, {"name": "pasilla_kd", "test": "treated", "reference": "untreated",
                                        "targets": ["FBgn0261552"]}, ["type"])


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
    hallmark = {g for genes in read_gmt(shared_path(HALLMARK)).values() for g in genes}
    hallmark |= {*er_core_genes(), "ESR1", "PPP3CA", "PPP3CB"}
    in_sets = table["gene_name"].isin(hallmark)
    others = table[~in_sets].sample(n=6000, random_state=20261130)
    return pd.concat([table[in_sets], others]).sort_index()


def simulate(name: str, log2fc: dict[str, float], n: int, seed: int, targets: list[str]) -> Run:
    """Negative-binomial counts around :func:`t47d_baseline`, n control vs n treated samples.

    Dispersion follows a DESeq2-like trend ``0.02 + 0.5 / mean``; size factors U(0.7, 1.3);
    ``log2fc`` maps symbols to the treated samples' true log2 fold change.
    """
    base = t47d_baseline()
    rng = np.random.default_rng(seed)
    lfc = base["gene_name"].map(log2fc).fillna(0.0).to_numpy()
    dispersion = 0.02 + 0.5 / base["mean"].to_numpy()
    columns = {}
    samples = []
    for group in ("control", "treated"):
        for i in range(1, n + 1):
            mu = base["mean"].to_numpy() * rng.uniform(0.7, 1.3) * (2.0 ** lfc if group == "treated" else 1.0)
            shape = 1 / dispersion
            columns[f"{group}_{i}"] = rng.poisson(rng.gamma(shape, mu / shape))
            samples.append((f"{group}_{i}", group))
    counts = pd.DataFrame(columns, index=base.index).rename_axis("gene_id").reset_index()
    counts.insert(1, "gene_name", base["gene_name"].to_numpy())
    sheet = pd.DataFrame(samples, columns=["sample", "condition"])
    return verdict_of(counts, sheet, {"name": name, "test": "treated", "reference": "control", "targets": targets}, [])


def global_shift() -> Run:
    """The genes of 20 growth and stress hallmark sets fall by 0.3-0.9 log2; the direct ER targets do not."""
    sets = read_gmt(shared_path(HALLMARK))
    genes = sorted({g for s in GROWTH for g in sets[s]} - set(er_core_genes()))
    rng = np.random.default_rng(7)
    return simulate("global_shift", dict(zip(genes, rng.uniform(-0.9, -0.3, len(genes)))), 3, 11, [])


def weak_knockdown() -> Run:
    """The targets keep about 70% of their expression; every ER set's genes fall by 0.4-1.0 log2."""
    sets = read_gmt(shared_path(HALLMARK))
    er_genes = sorted(set(sets["HALLMARK_ESTROGEN_RESPONSE_EARLY"]) | set(er_core_genes()))
    rng = np.random.default_rng(8)
    lfc = dict(zip(er_genes, rng.uniform(-1.0, -0.4, len(er_genes))))
    lfc.update(PPP3CA=-0.5, PPP3CB=-0.5)
    return simulate("weak_knockdown", lfc, 4, 12, ["PPP3CA", "PPP3CB"])


#: What a negative control may give: anything but a call of ER suppression or activation.
NEGATIVE = ("unchanged", "inconclusive")

QUANTIFIER_TOOLS = ("star", "htseq", "featurecounts", "featurecounts_table", "salmon", "kallisto", "rsem")

PANEL = (
    *(Case(f"simulated calcineurin knockdown, {tool}", "positive", ("suppressed",), "quantifier", (tool,))
      for tool in QUANTIFIER_TOOLS),
    Case("MCF-7 estradiol vs control", "positive", ("activated",), "estradiol", ("mcf7",)),
    Case("MCF-7 control vs estradiol (reversed)", "positive", ("suppressed",), "estradiol", ("mcf7", True)),
    Case("T-47D WT estradiol vs vehicle", "positive", ("activated",), "estradiol", ("t47d",)),
    Case("T-47D WT vehicle vs estradiol (reversed)", "positive", ("suppressed",), "estradiol", ("t47d", True)),
    Case("T-47D WT balanced label permutation", "negative", NEGATIVE, "t47d_permuted"),
    Case("airway dexamethasone (not breast)", "negative", NEGATIVE, "airway"),
    Case("pasilla RNAi (fly: no ER sets)", "negative", ("inconclusive",), "pasilla"),
    Case("simulated global proliferation shift", "negative", NEGATIVE, "global_shift"),
    Case("simulated weak knockdown (70% remaining)", "borderline", ("suppressed",), "weak_knockdown"),
    Case("MCF-7 estradiol, 2 vs 2", "borderline", ("activated", "inconclusive"), "estradiol",
         ("mcf7", False, ("SRR21043404", "SRR21043569", "SRR21043814", "SRR21043816"))),
    Case("simulated knockdown, 2 vs 2", "borderline", ("suppressed", "inconclusive"), "quantifier",
         ("featurecounts", ("control_1", "control_2", "knockdown_1", "knockdown_2"))),
)


@functools.cache
def run_case(case: Case) -> Run:
    return globals()[case.build](*case.args)


def table_row(case: Case, verdict: dict) -> str:
    sets = verdict["gene_sets"]
    nes = "/".join(f"{sets[s]['NES']:+.2f}" if sets[s]["status"] == "tested" else "-"
                   for s in ("HALLMARK_ESTROGEN_RESPONSE_EARLY", "HALLMARK_ESTROGEN_RESPONSE_LATE"))
    direct = verdict["direct_targets"]
    camera = f"{direct['t']:+.2f} (p {direct['pvalue']:.2g})" if direct["status"] == "tested" else "not tested"
    spec = verdict["specificity"]
    others = f"{spec['n_other_same_direction']}/{spec['n_sets_tested'] - len(spec['ranks'])}" if "ranks" in spec else "-"
    return (f"| {case.name} | {case.kind} | {' or '.join(case.expected)} | **{verdict['verdict']}** | "
            f"{verdict['strength']} | "
            f"{nes} | {camera} | {others} | {verdict['knockdown']['status']} |")


if __name__ == "__main__":
    print("| case | kind | expected | verdict | strength | EARLY/LATE NES | direct targets CAMERA t | "
          "other hallmark sets same direction | knockdown |")
    print("|---|---|---|---|---|---|---|---|---|")
    for case in PANEL:
        print(table_row(case, run_case(case).verdict), flush=True)

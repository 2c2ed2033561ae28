import os
import re
import sys

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate

# The package lives in src/; putting it on the path here (and in PYTHONPATH, which every job
# inherits, in a conda env or on a cluster node alike) means the workflow runs from a checkout
# without installing the package into each environment.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)
os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)

from knockseq.config import parse_contrasts, read_sample_sheet
from knockseq.errors import InputError
from knockseq.fits import fit_groups, fit_spec
from knockseq.schema import validate_config
from knockseq.resources import FIT, VST, counts_shape, de_threads, job_resources

# The jobs the verdicts wait on (gene_sets, fit, de, knockdown, gsea, direct_targets, verdict) start before QC and plots
# when they compete for cores or cluster slots: the answer comes first, the plots fill the gaps.
VERDICT_PATH = 10


# With --configfile the user's file is the whole configuration. Loading config/config.yaml as
# well would deep-merge the bundled example's contrasts and paths into the user's run.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


try:
    # The one check of the config: schema (defaults filled in), with messages naming the key
    # and the fix, and every input path it names.
    validate_config(config, os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml"),
                    source=", ".join(map(str, workflow.configfiles)) or "the config")
    SAMPLES = read_sample_sheet(config["samples"], counts_table=config["counts"] is not None)
    validate(SAMPLES, "../schemas/samples.schema.yaml")
    # Every cross-field check, the design's too (replicates, confounding, rank), so a bad design
    # stops the run before any job starts rather than after the counts are built.
    CONTRASTS = {c.name: c for c in parse_contrasts(config, SAMPLES, config["samples"])}
    # Contrasts with the same samples, variable, reference, covariates and fit options share
    # one DESeq2 fit (results/de/fits/{fit}.pkl), as R's results(dds, contrast=) share DESeq(dds).
    FITS = fit_groups([c.as_dict() for c in CONTRASTS.values()], SAMPLES, config["design"], config["de"])
    FIT_OF = {name: fit for fit, names in FITS.items() for name in names}
    # Cores of the fit and de jobs (one where the engine is vectorised in one process).
    DE_THREADS = de_threads(config["de"]["compat"], config["de"]["engine"])
except InputError as error:
    raise WorkflowError(f"knockseq: {error}") from None


wildcard_constraints:
    contrast="|".join(re.escape(name) for name in CONTRASTS),


def quant_inputs(wildcards):
    """Every quantifier output the count table is built from (files or folders)."""
    if config["counts"] is not None:
        return [config["counts"]]
    return list(SAMPLES["quant"])


def reference_inputs(wildcards):
    """Annotation and tx2gene files, when configured."""
    return {key: config[key] for key in ("annotation", "tx2gene") if config[key] is not None}


def local_gmt_inputs(wildcards):
    """Local GMT files among the configured gene set sources."""
    return [source["gmt"] for source in config["gene_sets"] if "gmt" in source]


def contrast_spec(wildcards):
    """The contrast of this job as a plain dict."""
    return CONTRASTS[wildcards.contrast].as_dict()


def fit_path(wildcards):
    """The pickled fit shared by this job's contrast."""
    return f"results/de/fits/{FIT_OF[wildcards.contrast]}.pkl"


def fit_params(wildcards):
    """What the fit of this job depends on (the same for every contrast it serves)."""
    first = CONTRASTS[FITS[wildcards.fit][0]].as_dict()
    return fit_spec(first, SAMPLES, config["design"], config["de"]).as_dict()


def all_outputs():
    """Final outputs of every configured contrast."""
    steps = ["de/{contrast}.tsv", "knockdown/{contrast}.json", "gsea/{contrast}.tsv", "ora/{contrast}.tsv", "verdict/{contrast}.json"]
    qc = ["results/counts/counts.tsv", "results/counts/targets.tsv", "results/qc/vst_blind.tsv", "results/qc/vst_design.tsv"]
    summary = ["results/summary/verdicts.tsv", "results/summary/er_targets_heatmap.png"]
    plots = ["results/plots/qc/pca.png", "results/plots/verdicts.html"] + expand(
        ["results/plots/{contrast}/volcano.png", "results/plots/{contrast}/gsea_curves.png",
         "results/plots/{contrast}/er_leading_edge.png"], contrast=list(CONTRASTS)
    ) + expand("results/plots/fits/{fit}/dispersions.png", fit=list(FITS))
    return qc + summary + plots + expand([f"results/{s}" for s in steps], contrast=list(CONTRASTS))


def print_verdicts():
    """The one-line verdict of each contrast, printed when the run succeeds."""
    import json

    from knockseq.verdict import summary_line

    for name in CONTRASTS:
        path = f"results/verdict/{name}.json"
        if os.path.exists(path):
            with open(path) as handle:
                print(summary_line(json.load(handle)))
    print("Summary of every contrast: results/summary/verdicts.tsv; ER target heatmap: "
          "results/summary/er_targets_heatmap.png (and .svg).")
    print("Plots (PNG, SVG and their values as TSV): results/plots/. HTML report of every figure: "
          "snakemake --report report.html (add the --configfile and --directory of this run).")

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
from knockseq.design import build_design
from knockseq.errors import InputError


# With --configfile the user's file is the whole configuration. Loading config/config.yaml as
# well would deep-merge the bundled example's contrasts and paths into the user's run.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


validate(config, "../schemas/config.schema.yaml")

try:
    SAMPLES = read_sample_sheet(config["samples"], counts_table=config["counts"] is not None)
    validate(SAMPLES, "../schemas/samples.schema.yaml")
    CONTRASTS = {c.name: c for c in parse_contrasts(config, SAMPLES, config["samples"])}
    # The design checks (replicates, confounding, rank) run here too, so a bad design stops the
    # run before any job starts rather than after the counts are built.
    for contrast in CONTRASTS.values():
        build_design(SAMPLES, contrast.as_dict(), config["design"], sheet_path=config["samples"])
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


def all_outputs():
    """Final outputs of every configured contrast."""
    steps = ["de/{contrast}.tsv", "knockdown/{contrast}.json", "gsea/{contrast}.tsv", "ora/{contrast}.tsv", "verdict/{contrast}.json"]
    qc = ["results/counts/counts.tsv", "results/qc/vst_blind.tsv", "results/qc/vst_design.tsv"]
    return qc + expand([f"results/{s}" for s in steps], contrast=list(CONTRASTS))


def print_verdicts():
    """The one-line verdict of each contrast, printed when the run succeeds."""
    import json

    from knockseq.verdict import summary_line

    for name in CONTRASTS:
        path = f"results/verdict/{name}.json"
        if os.path.exists(path):
            with open(path) as handle:
                print(summary_line(json.load(handle)))

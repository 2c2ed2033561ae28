import os
import re
import sys

from snakemake.utils import validate

# The package lives in src/; putting it on the path here (and in PYTHONPATH, which every job
# inherits, in a conda env or on a cluster node alike) means the workflow runs from a checkout
# without installing the package into each environment.
SRC = os.path.join(workflow.basedir, "src")
sys.path.insert(0, SRC)
os.environ.update(PYTHONPATH=os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p))

from knockseq.configfile import read_config_file
from knockseq.datasets import compare_groups, load_datasets
from knockseq.errors import InputError
from knockseq.schema import check_schema
from knockseq.resources import FIT, VST, counts_shape, de_threads, job_resources

# The jobs the verdicts wait on (gene_sets, fit, de, knockdown, gsea, verdict)
# start before QC and plots when they compete for cores or cluster slots: the answer comes
# first, the plots fill the gaps.
VERDICT_PRIORITY = 10


def stop(error):
    """End the run on a user's mistake with knockseq's message alone: no WorkflowError frame
    around it (which reads as a crash), and nothing after it."""
    print(f"knockseq: {error}", file=sys.stderr)
    raise SystemExit(1)


# Snakemake reads config files leniently (a repeated key silently replaces the first); each is
# read again strictly, and the bundled one before Snakemake does, so bad YAML is named with its line.
try:
    for _path in workflow.overwrite_configfiles or ["config/config.yaml"]:
        if os.path.exists(_path):
            read_config_file(_path)
except InputError as error:
    stop(error)

# With --configfile the user's file is the whole configuration. Loading config/config.yaml as
# well would deep-merge the bundled example's contrasts and paths into the user's run.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


try:
    # The one check of the config: schema (defaults filled in), with messages naming the key
    # and the fix; then each dataset's settings, input paths, sheet and contrasts, the design's
    # checks included (replicates, confounding, rank), so a bad design stops the run before any
    # job starts rather than after the counts are built. A run without `datasets:` is one
    # dataset named "" whose outputs are results/...
    SOURCE = ", ".join(map(str, workflow.configfiles)) or "the config"
    check_schema(config, os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml"), source=SOURCE)
    DATASETS = load_datasets(
        config, os.path.join(workflow.basedir, "workflow/schemas/config.schema.yaml"), source=SOURCE
    )
    for _dataset in DATASETS.values():
        validate(_dataset.samples, "../schemas/samples.schema.yaml")
    GROUPS = compare_groups(config.get("compare") or {}, DATASETS, SOURCE)
except InputError as error:
    stop(error)

#: True for a run over several datasets (`datasets:`): every per-dataset path gains a
#: {dataset} folder, and results/summary/ spans them all.
MULTI = "" not in DATASETS
DS = "{dataset}/" if MULTI else ""
#: Report subcategories: of per-contrast figures, and of a dataset's other outputs.
SUBCATEGORY = "{dataset}: {contrast}" if MULTI else "{contrast}"
DATASET = "{dataset}" if MULTI else None


wildcard_constraints:
    # (?!) matches nothing: without datasets no path has a {dataset} folder.
    dataset="|".join(re.escape(name) for name in DATASETS if name) or "(?!)",
    contrast="|".join(sorted({re.escape(c) for d in DATASETS.values() for c in d.contrasts})),
    fit="|".join(sorted({re.escape(f) for d in DATASETS.values() for f in d.fits})),


def results(path):
    """A per-dataset output path pattern: results/PATH, or results/{dataset}/PATH over datasets."""
    return f"results/{DS}{path}"


def logs(path):
    """A per-dataset log path pattern: logs/PATH, or logs/{dataset}/PATH over datasets."""
    return f"logs/{DS}{path}"


def dataset(wildcards):
    """The Dataset of a job."""
    return DATASETS[wildcards.dataset if MULTI else ""]


def setting(key):
    """An input or params function: the job's dataset's value of config key ``key``."""
    return lambda wildcards: dataset(wildcards).config[key]


def sheet_path(wildcards):
    """The job's dataset's sample sheet."""
    return dataset(wildcards).config["samples"]


def counts_table(wildcards):
    """True when the job's dataset reads one count table (its sheet then needs no quant column)."""
    return dataset(wildcards).config["counts"] is not None


def quant_inputs(wildcards):
    """Every quantifier output the count table is built from (files or folders)."""
    settings = dataset(wildcards).config
    if settings["counts"] is not None:
        return [settings["counts"]]
    return list(dataset(wildcards).samples["quant"])


def reference_inputs(wildcards):
    """Annotation and tx2gene files, when configured."""
    settings = dataset(wildcards).config
    return {key: settings[key] for key in ("annotation", "tx2gene") if settings[key] is not None}


def local_gmt_inputs(wildcards):
    """Local GMT files among the configured gene set sources."""
    return [source["gmt"] for source in dataset(wildcards).config["gene_sets"] if "gmt" in source]


def contrast_spec(wildcards):
    """The contrast of this job as a plain dict."""
    return dataset(wildcards).contrasts[wildcards.contrast].as_dict()


def fit_path(wildcards):
    """The pickled fit shared by this job's contrast."""
    ds = dataset(wildcards)
    return f"{ds.results}de/fits/{ds.fit_of(wildcards.contrast)}.pkl"


def fit_params(wildcards):
    """What the fit of this job depends on (the same for every contrast it serves)."""
    return dataset(wildcards).fit_params(wildcards.fit)


def de_threads_of(wildcards):
    """Cores of the fit and de jobs (one where the engine is vectorised in one process)."""
    de = dataset(wildcards).config["de"]
    return de_threads(de["compat"], de["engine"])


def contrast_outputs(step):
    """An input function: ``results/.../STEP`` of every contrast of the job's dataset."""
    return lambda wildcards: [
        dataset(wildcards).results + step.format(contrast=c) for c in dataset(wildcards).contrasts
    ]


def dataset_rule(step, ds):
    """The name of a per-dataset step's job: STEP, or STEP_NAME over datasets."""
    return f"{step}_{ds.name}" if ds.name else step


def ora_tables(ds):
    """DE table -> ORA table of each contrast of dataset ``ds``."""
    return {f"{ds.results}de/{c}.tsv": f"{ds.results}ora/{c}.tsv" for c in ds.contrasts}


def ora_settings(ds):
    """Keyword arguments of :func:`knockseq.enrichment.write_ora_tables` from ``ds``'s config."""
    ora, gsea = ds.config["ora"], ds.config["gsea"]
    return {
        "alpha": ora["padj"],
        "min_abs_lfc": ora["min_abs_lfc"],
        "min_size": gsea["min_size"],
        "max_size": gsea["max_size"],
    }


#: A contrast's files its verdict reads, by :func:`knockseq.verdict.write_dataset_verdicts`'s key.
VERDICT_EVIDENCE = {
    "gsea": "gsea/{contrast}.tsv",
    "knockdown": "knockdown/{contrast}.json",
    "table": "de/{contrast}.tsv",
    "metadata": "de/{contrast}.json",
    "direct": "direct_targets/{contrast}.json",
}


def verdict_paths(ds):
    """Contrast -> its evidence files and its verdict (``verdict``), of dataset ``ds``."""
    return {
        c: {
            **{key: ds.results + path.format(contrast=c) for key, path in VERDICT_EVIDENCE.items()},
            "verdict": f"{ds.results}verdict/{c}.json",
        }
        for c in ds.contrasts
    }


def dataset_outputs(ds):
    """Final outputs of every contrast and fit of one dataset."""
    outputs = [
        f"{ds.results}{path}"
        for path in (
            "counts/counts.tsv",
            "counts/targets.tsv",
            "qc/vst_blind.tsv",
            "qc/vst_design.tsv",
            "summary/verdicts.tsv",
            "summary/er_targets_heatmap.png",
            "summary/forest.png",
            "plots/qc/pca.png",
            "plots/verdicts.html",
        )
    ]
    steps = ["de/{c}.tsv", "knockdown/{c}.json", "gsea/{c}.tsv", "ora/{c}.tsv", "verdict/{c}.json"]
    if ds.config["plots"]["contrasts"]:
        steps += [f"plots/{{c}}/{figure}.png" for figure in ("volcano", "gsea_curves", "er_leading_edge")]
    for contrast in ds.contrasts:
        outputs += [ds.results + step.format(c=contrast) for step in steps]
    outputs += [f"{ds.results}plots/fits/{fit}/dispersions.png" for fit in ds.fits]
    return outputs


def all_outputs():
    """Final outputs of every dataset, and of the run-wide summary over datasets."""
    outputs = [path for ds in DATASETS.values() for path in dataset_outputs(ds)]
    if MULTI:
        outputs += [
            f"results/summary/{name}"
            for name in ("verdicts.tsv", "er_targets_heatmap.png", "forest.png", "compare.tsv", "verdicts.html")
        ]
    return outputs


def print_verdicts():
    """The one-line verdict of each contrast (and each compared group), printed when the run succeeds."""
    import json

    from knockseq.verdict import summary_line

    for ds in DATASETS.values():
        for name in ds.contrasts:
            path = f"{ds.results}verdict/{name}.json"
            if os.path.exists(path):
                with open(path) as handle:
                    print(f"{ds.name}/" * bool(ds.name) + summary_line(json.load(handle)))
    summary = "results/summary" if MULTI else f"{DATASETS[''].results}summary"
    if MULTI and os.path.exists("results/summary/compare.tsv"):
        from knockseq.io import read_table

        for line in read_table("results/summary/compare.tsv")["line"]:
            print(line)
    print(
        f"Summary of every contrast: {summary}/verdicts.tsv; ER target heatmap: {summary}/er_targets_heatmap.png, "
        f"forest plot: {summary}/forest.png (and .svg)."
    )
    print(
        f"Plots (PNG, SVG and their values as TSV): results/{'DATASET/' * MULTI}plots/. HTML report of every "
        "figure: snakemake --report report.html (add the --configfile and --directory of this run)."
    )


def print_failures(log):
    """End a failed run with each failed job's own knockseq message (file, row, fix), so those are
    the last lines its user reads; Snakemake's own closing lines stay when no job left one."""
    from knockseq.runlog import failure_report

    failures = failure_report(log)
    if failures is not None:
        print(f"\n{failures}", file=sys.stderr)
        # Ends the run here, after Snakemake's lock is released (it is a context manager), and
        # before its closing WorkflowError buries the message.
        raise SystemExit(1)


def follow_jobs_without_accounting():
    """On a SLURM without accounting storage, follow the jobs with squeue instead of sacct, which
    would only ever answer that accounting is disabled (the run would wait on finished jobs)."""
    from knockseq.slurm import accounting_disabled

    plugin, settings = workflow.executor_plugin, workflow.executor_settings
    if plugin is None or plugin.name != "slurm" or getattr(settings, "status_command", None) != "sacct":
        return
    if accounting_disabled():
        settings.status_command = "squeue"
        print(
            "knockseq: this SLURM keeps no accounting (sacct: accounting storage is disabled); "
            "following the jobs with squeue (--slurm-status-command squeue).",
            file=sys.stderr,
        )


def fit_cost(wildcards, input):
    """Samples x genes of a fit: its samples, and every gene of the table (before the pre-filter)."""
    return len(fit_params(wildcards)["samples"]), counts_shape(input.counts)[1]

# knockseq: knockdown RNA-seq -> PyDESeq2 -> hallmark estrogen-response GSEA -> verdict.
# Configuration: config/config.yaml (documents every option), or --configfile my.yaml.

from snakemake.utils import min_version

min_version("9.0")


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/counts.smk"
include: "workflow/rules/de.smk"
include: "workflow/rules/enrichment.smk"
include: "workflow/rules/summary.smk"
include: "workflow/rules/plots.smk"


# Seconds of work each, and gene_sets may download MSigDB, which compute nodes often cannot: on a
# cluster these run in the main Snakemake process, not as SLURM jobs.
localrules:
    all,
    gene_sets,
    knockdown,
    targets,
    summary,
    plots_contrast,
    plots_fit,
    plots_qc,
    verdict_page,


rule all:
    default_target: True
    input:
        all_outputs(),


onstart:
    follow_jobs_without_accounting()


onsuccess:
    print_verdicts()


onerror:
    print_failures(log)

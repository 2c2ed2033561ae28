# knockseq: knockdown RNA-seq -> PyDESeq2 -> hallmark estrogen-response GSEA -> verdict.
# Configuration: config/config.yaml (documents every option), or --configfile my.yaml.

from snakemake.utils import min_version

min_version("9.0")


include: "workflow/rules/common.smk"
include: "workflow/rules/counts.smk"
include: "workflow/rules/de.smk"
include: "workflow/rules/enrichment.smk"


rule all:
    input:
        all_outputs(),
    default_target: True


onsuccess:
    print_verdicts()

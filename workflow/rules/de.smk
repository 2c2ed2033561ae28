rule de:
    input:
        counts="results/counts/counts.tsv",
        sheet=config["samples"],
    output:
        table=report("results/de/{contrast}.tsv", caption="../report/de.rst", category="Differential expression"),
        normalized_counts="results/de/{contrast}.normalized_counts.tsv",
        size_factors="results/de/{contrast}.size_factors.tsv",
        metadata="results/de/{contrast}.json",
    params:
        contrast=contrast_spec,
        design=config["design"],
        de=config["de"],
    log:
        "logs/de/{contrast}.log",
    threads: 2
    resources:
        mem_mb=8000,
        runtime=120,
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/de.py"


rule knockdown:
    input:
        table="results/de/{contrast}.tsv",
        normalized="results/de/{contrast}.normalized_counts.tsv",
        sheet=config["samples"],
    output:
        report("results/knockdown/{contrast}.json", caption="../report/knockdown.rst", category="Knockdown"),
    params:
        contrast=contrast_spec,
        knockdown=config["knockdown"],
    log:
        "logs/knockdown/{contrast}.log",
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/knockdown.py"


rule vst:
    input:
        counts="results/counts/counts.tsv",
        sheet=config["samples"],
    output:
        report("results/qc/vst_{mode}.tsv", caption="../report/vst.rst", category="Counts"),
    params:
        design=["condition"] + config["design"],
        compat=config["de"]["compat"],
    wildcard_constraints:
        mode="blind|design",
    log:
        "logs/qc/vst_{mode}.log",
    resources:
        mem_mb=8000,
        runtime=60,
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/vst.py"

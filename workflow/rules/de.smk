def fit_cost(wildcards, input):
    """Samples x genes of a fit: its samples, and every gene of the table (before the pre-filter)."""
    return len(fit_params(wildcards)["samples"]), counts_shape(input.counts)[1]


rule fit:
    input:
        counts=results("counts/counts.tsv"),
        sheet=sheet_path,
    output:
        results("de/fits/{fit}.pkl"),
    params:
        # The spec, not the contrasts served: adding a contrast must not refit.
        spec=fit_params,
    log:
        logs("de/fit_{fit}.log"),
    threads: de_threads_of
    resources:
        **job_resources(
            config["resources"],
            "fit",
            mem_mb=lambda wildcards, input: FIT.mem_mb(*fit_cost(wildcards, input)),
            runtime=lambda wildcards, input: FIT.runtime(*fit_cost(wildcards, input)),
        ),
    priority: VERDICT_PATH
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/fit.py"


rule de:
    input:
        fit=fit_path,
    output:
        table=report(results("de/{contrast}.tsv"), caption="../report/de.rst", category="Differential expression"),
        normalized_counts=results("de/{contrast}.normalized_counts.tsv"),
        size_factors=results("de/{contrast}.size_factors.tsv"),
        metadata=results("de/{contrast}.json"),
    params:
        contrast=contrast_spec,
        de=setting("de"),
    log:
        logs("de/{contrast}.log"),
    threads: de_threads_of
    resources:
        **job_resources(config["resources"], "de", mem_mb=8000, runtime=120),
    priority: VERDICT_PATH
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/de.py"


rule knockdown:
    input:
        table=results("de/{contrast}.tsv"),
        normalized=results("de/{contrast}.normalized_counts.tsv"),
        sheet=sheet_path,
    output:
        report(results("knockdown/{contrast}.json"), caption="../report/knockdown.rst", category="Knockdown"),
    params:
        contrast=contrast_spec,
        knockdown=setting("knockdown"),
    log:
        logs("knockdown/{contrast}.log"),
    priority: VERDICT_PATH
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/knockdown.py"


rule vst:
    input:
        counts=results("counts/counts.tsv"),
        sheet=sheet_path,
    output:
        report(results("qc/vst_{mode}.tsv"), caption="../report/vst.rst", category="Counts"),
    params:
        design=lambda wildcards: ["condition"] + dataset(wildcards).config["design"],
        compat=lambda wildcards: dataset(wildcards).config["de"]["compat"],
        engine=lambda wildcards: dataset(wildcards).config["de"]["engine"],
    wildcard_constraints:
        mode="blind|design",
    log:
        logs("qc/vst_{mode}.log"),
    resources:
        **job_resources(
            config["resources"],
            "vst",
            mem_mb=lambda wildcards, input: VST.mem_mb(*counts_shape(input.counts)),
            runtime=lambda wildcards, input: VST.runtime(*counts_shape(input.counts)),
        ),
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/vst.py"

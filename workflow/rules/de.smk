rule fit:
    input:
        counts=results("counts/counts.tsv"),
        sheet=sheet_path,
    output:
        results("de/fits/{fit}.pkl"),
    log:
        logs("de/fit_{fit}.log"),
    priority: VERDICT_PRIORITY
    conda:
        "../../envs/knockseq.yaml"
    threads: de_threads_of
    resources:
        **job_resources(
            config["resources"],
            "fit",
            mem_mb=lambda wildcards, input: FIT.mem_mb(*fit_cost(wildcards, input)),
            runtime=lambda wildcards, input: FIT.runtime(*fit_cost(wildcards, input)),
        ),
    params:
        # The spec, not the contrasts served: adding a contrast must not refit.
        spec=fit_params,
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
        direct_targets=results("direct_targets/{contrast}.json"),
    log:
        logs("de/{contrast}.log"),
    priority: VERDICT_PRIORITY
    conda:
        "../../envs/knockseq.yaml"
    threads: de_threads_of
    resources:
        **job_resources(config["resources"], "de", mem_mb=8000, runtime=120),
    params:
        contrast=contrast_spec,
        de=setting("de"),
    script:
        "../scripts/de.py"


rule knockdown:
    input:
        table=results("de/{contrast}.tsv"),
        normalized=results("de/{contrast}.normalized_counts.tsv"),
        sheet=sheet_path,
    output:
        report(results("knockdown/{contrast}.json"), caption="../report/knockdown.rst", category="Knockdown"),
    log:
        logs("knockdown/{contrast}.log"),
    priority: VERDICT_PRIORITY
    conda:
        "../../envs/knockseq.yaml"
    params:
        contrast=contrast_spec,
        knockdown=setting("knockdown"),
    script:
        "../scripts/knockdown.py"


rule vst:
    input:
        counts=results("counts/counts.tsv"),
        sheet=sheet_path,
    output:
        report(results("qc/vst_{mode}.tsv"), caption="../report/vst.rst", category="Counts"),
    log:
        logs("qc/vst_{mode}.log"),
    wildcard_constraints:
        mode="blind|design",
    conda:
        "../../envs/knockseq.yaml"
    resources:
        **job_resources(
            config["resources"],
            "vst",
            mem_mb=lambda wildcards, input: VST.mem_mb(*counts_shape(input.counts)),
            runtime=lambda wildcards, input: VST.runtime(*counts_shape(input.counts)),
        ),
    params:
        design=lambda wildcards: ["condition"] + dataset(wildcards).config["design"],
        compat=lambda wildcards: dataset(wildcards).config["de"]["compat"],
        engine=lambda wildcards: dataset(wildcards).config["de"]["engine"],
    script:
        "../scripts/vst.py"

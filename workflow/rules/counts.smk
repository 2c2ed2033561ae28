rule counts:
    input:
        unpack(reference_inputs),
        sheet=sheet_path,
        quant=quant_inputs,
    output:
        # update(): a rerun that fails on a bad input restores the previous table instead of deleting it.
        counts=update(report(results("counts/counts.tsv"), caption="../report/counts.rst", category="Counts")),
        qc=update(report(results("counts/qc.tsv"), caption="../report/qc.rst", category="Counts")),
    log:
        logs("counts.log"),
    conda:
        "../../envs/knockseq.yaml"
    resources:
        **job_resources(config["resources"], "counts", mem_mb=4000, runtime=30),
    params:
        format=setting("format"),
        strandedness=setting("strandedness"),
        counts_from_abundance=setting("counts_from_abundance"),
        counts_table=setting("counts"),
    script:
        "../scripts/counts.py"


rule targets:
    input:
        counts=results("counts/counts.tsv"),
    output:
        # update(): a rerun that fails on a bad target keeps the previous table.
        update(results("counts/targets.tsv")),
    log:
        logs("targets.log"),
    # A misspelt target must stop the run before the fit starts (nothing depends on this job's
    # output, so that editing targets or adding a contrast reruns only this check, not the fits).
    priority: 50
    conda:
        "../../envs/knockseq.yaml"
    params:
        targets=lambda wildcards: {name: list(c.targets) for name, c in dataset(wildcards).contrasts.items()},
    script:
        "../scripts/targets.py"

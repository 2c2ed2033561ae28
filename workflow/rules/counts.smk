rule counts:
    input:
        unpack(reference_inputs),
        sheet=config["samples"],
        quant=quant_inputs,
    output:
        counts=report("results/counts/counts.tsv", caption="../report/counts.rst", category="Counts"),
        qc=report("results/counts/qc.tsv", caption="../report/qc.rst", category="Counts"),
    params:
        format=config["format"],
        strandedness=config["strandedness"],
        counts_from_abundance=config["counts_from_abundance"],
        counts_table=config["counts"],
    log:
        "logs/counts.log",
    resources:
        **job_resources(config["resources"], "counts", mem_mb=4000, runtime=30),
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/counts.py"

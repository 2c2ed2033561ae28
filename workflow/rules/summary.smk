rule summary:
    input:
        expand("results/verdict/{contrast}.json", contrast=list(CONTRASTS)),
    output:
        table=report("results/summary/verdicts.tsv", caption="../report/summary.rst", category="Summary"),
        values="results/summary/er_targets_heatmap.tsv",
        png=report("results/summary/er_targets_heatmap.png", caption="../report/summary_heatmap.rst", category="Summary"),
        svg="results/summary/er_targets_heatmap.svg",
    log:
        "logs/summary.log",
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/summary.py"

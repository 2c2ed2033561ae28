rule summary:
    input:
        contrast_outputs("verdict/{contrast}.json"),
    output:
        table=report(
            results("summary/verdicts.tsv"), caption="../report/summary.rst", category="Summary", subcategory=DATASET
        ),
        values=results("summary/er_targets_heatmap.tsv"),
        png=report(
            results("summary/er_targets_heatmap.png"),
            caption="../report/summary_heatmap.rst",
            category="Summary",
            subcategory=DATASET,
        ),
        svg=results("summary/er_targets_heatmap.svg"),
        forest=report(
            results("summary/forest.png"),
            caption="../report/summary_forest.rst",
            category="Summary",
            subcategory=DATASET,
        ),
        forest_other=multiext(results("summary/forest"), ".svg", ".tsv"),
    log:
        logs("summary.log"),
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/summary.py"


if MULTI:

    # Seconds of work over the verdicts' JSON: in the main Snakemake process on a cluster.
    localrules:
        summary_run,

    rule summary_run:
        input:
            verdicts=[f"{ds.results}verdict/{c}.json" for ds in DATASETS.values() for c in ds.contrasts],
        output:
            table=report("results/summary/verdicts.tsv", caption="../report/summary.rst", category="Summary"),
            values="results/summary/er_targets_heatmap.tsv",
            png=report(
                "results/summary/er_targets_heatmap.png", caption="../report/summary_heatmap.rst", category="Summary"
            ),
            svg="results/summary/er_targets_heatmap.svg",
            forest=report("results/summary/forest.png", caption="../report/summary_forest.rst", category="Summary"),
            forest_other=multiext("results/summary/forest", ".svg", ".tsv"),
            compare=report("results/summary/compare.tsv", caption="../report/summary_compare.rst", category="Summary"),
            members="results/summary/compare_members.tsv",
            rst="results/summary/verdicts.rst",
            html=report("results/summary/verdicts.html", caption="../report/plot_verdicts.rst", category="Verdict"),
        log:
            "logs/summary.log",
        conda:
            "../../envs/knockseq.yaml"
        params:
            datasets=[ds.name for ds in DATASETS.values() for c in ds.contrasts],
            groups={group: [list(member) for member in members] for group, members in GROUPS.items()},
        script:
            "../scripts/summary_run.py"

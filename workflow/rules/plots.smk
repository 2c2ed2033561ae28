# Figures of every contrast, of every shared DESeq2 fit and of the samples, each with its plotted
# values as .tsv beside it, and the verdict page that heads the Snakemake report
# (workflow/report/workflow.rst includes it). A contrast's figures are one job: each job pays
# Python's and matplotlib's start-up, which costs more than drawing the figures.

#: A contrast's figures, each as PNG, SVG and TSV in results/plots/{contrast}/.
FIGURES = ["volcano", "ma", "pvalues", "targets", "gsea_curves", "gsea_sets", "er_leading_edge"]


rule plots_contrast:
    input:
        table=results("de/{contrast}.tsv"),
        metadata=results("de/{contrast}.json"),
        knockdown=results("knockdown/{contrast}.json"),
        normalized=results("de/{contrast}.normalized_counts.tsv"),
        gsea=results("gsea/{contrast}.tsv"),
        gmt=results("gene_sets/gene_sets.gmt"),
        provenance=results("gene_sets/provenance.json"),
        vst=results("qc/vst_design.tsv"),
        sheet=sheet_path,
    output:
        volcano=report(
            results("plots/{contrast}/volcano.png"),
            caption="../report/plot_volcano.rst",
            category="Differential expression",
            subcategory=SUBCATEGORY,
        ),
        ma=report(
            results("plots/{contrast}/ma.png"),
            caption="../report/plot_ma.rst",
            category="Differential expression",
            subcategory=SUBCATEGORY,
        ),
        pvalues=report(
            results("plots/{contrast}/pvalues.png"),
            caption="../report/plot_pvalues.rst",
            category="Differential expression",
            subcategory=SUBCATEGORY,
        ),
        targets=report(
            results("plots/{contrast}/targets.png"),
            caption="../report/plot_targets.rst",
            category="Knockdown",
            subcategory=SUBCATEGORY,
        ),
        curves=report(
            results("plots/{contrast}/gsea_curves.png"),
            caption="../report/plot_gsea_curves.rst",
            category="Enrichment",
            subcategory=SUBCATEGORY,
        ),
        sets=report(
            results("plots/{contrast}/gsea_sets.png"),
            caption="../report/plot_gsea_sets.rst",
            category="Enrichment",
            subcategory=SUBCATEGORY,
        ),
        heatmap=report(
            results("plots/{contrast}/er_leading_edge.png"),
            caption="../report/plot_er_leading_edge.rst",
            category="Enrichment",
            subcategory=SUBCATEGORY,
        ),
        other=multiext(
            results("plots/{contrast}/"),
            *(f"{figure}.{kind}" for figure in FIGURES for kind in ("svg", "tsv")),
        ),
    log:
        logs("plots/{contrast}.log"),
    conda:
        "../../envs/knockseq.yaml"
    params:
        counts_table=counts_table,
        ranking=lambda wildcards: dataset(wildcards).config["gsea"]["ranking"],
    script:
        "../scripts/plots_contrast.py"


rule plots_fit:
    input:
        fit=results("de/fits/{fit}.pkl"),
    output:
        dispersions=report(
            results("plots/fits/{fit}/dispersions.png"),
            caption="../report/plot_dispersions.rst",
            category="Quality control",
            subcategory="fit {fit}",
        ),
        size_factors=report(
            results("plots/fits/{fit}/size_factors.png"),
            caption="../report/plot_size_factors.rst",
            category="Quality control",
            subcategory="fit {fit}",
        ),
        other=multiext(
            results("plots/fits/{fit}/"), "dispersions.svg", "dispersions.tsv", "size_factors.svg", "size_factors.tsv"
        ),
    log:
        logs("plots/fit_{fit}.log"),
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/plots_fit.py"


rule plots_qc:
    input:
        vst=results("qc/vst_blind.tsv"),
        qc=results("counts/qc.tsv"),
        sheet=sheet_path,
    output:
        pca=report(
            results("plots/qc/pca.png"),
            caption="../report/plot_pca.rst",
            category="Quality control",
            subcategory=DATASET,
        ),
        distances=report(
            results("plots/qc/distances.png"),
            caption="../report/plot_distances.rst",
            category="Quality control",
            subcategory=DATASET,
        ),
        library=report(
            results("plots/qc/library_sizes.png"),
            caption="../report/plot_library_sizes.rst",
            category="Quality control",
            subcategory=DATASET,
        ),
        other=multiext(
            results("plots/qc/"),
            "pca.svg",
            "pca.tsv",
            "distances.svg",
            "distances.tsv",
            "library_sizes.svg",
            "library_sizes.tsv",
        ),
    log:
        logs("plots/qc.log"),
    conda:
        "../../envs/knockseq.yaml"
    params:
        counts_table=counts_table,
        covariates=setting("design"),
    script:
        "../scripts/plots_qc.py"


rule verdict_page:
    input:
        verdicts=contrast_outputs("verdict/{contrast}.json"),
        heatmap=results("summary/er_targets_heatmap.png"),
    output:
        rst=results("plots/verdicts.rst"),
        html=report(
            results("plots/verdicts.html"),
            caption="../report/plot_verdicts.rst",
            category="Verdict",
            subcategory=DATASET,
        ),
    log:
        logs("plots/verdicts.log"),
    conda:
        "../../envs/knockseq.yaml"
    script:
        "../scripts/plots_verdict.py"

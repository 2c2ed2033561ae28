"""Rule plots_gsea: running-score curves of the ER sets and the dot plot of every tested set."""

import os

from knockseq.genesets import read_gene_sets
from knockseq.io import read_table
from knockseq.plots.gsea import write_gsea_plots
from knockseq.step import run_step


def main(snakemake) -> None:
    write_gsea_plots(
        read_table(snakemake.input.table),
        read_gene_sets(snakemake.input.gmt, snakemake.input.provenance).sets,
        read_table(snakemake.input.gsea),
        snakemake.params.ranking,
        snakemake.wildcards.contrast,
        os.path.dirname(snakemake.output.curves),
    )


run_step(main, snakemake, log=snakemake.log[0])

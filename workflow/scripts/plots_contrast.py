"""Rule plots_contrast: every figure of one contrast."""

import os

from knockseq.config import read_sample_sheet
from knockseq.genesets import read_gene_sets
from knockseq.io import read_json, read_table
from knockseq.plots.contrast import write_contrast_plots
from knockseq.step import run_step


def main(snakemake) -> None:
    write_contrast_plots(
        read_table(snakemake.input.table),
        read_json(snakemake.input.metadata),
        read_json(snakemake.input.knockdown),
        read_table(snakemake.input.normalized),
        read_table(snakemake.input.gsea),
        read_gene_sets(snakemake.input.gmt, snakemake.input.provenance).sets,
        snakemake.params.ranking,
        read_table(snakemake.input.vst),
        read_sample_sheet(snakemake.input.sheet, counts_table=snakemake.params.counts_table),
        os.path.dirname(snakemake.output.volcano),
    )


run_step(main, snakemake, log=snakemake.log[0])

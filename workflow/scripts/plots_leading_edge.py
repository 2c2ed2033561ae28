"""Rule plots_leading_edge: heatmap of the ER leading-edge genes' VST values in one contrast."""

import json

from knockseq.config import read_sample_sheet
from knockseq.io import read_table
from knockseq.plots.gsea import write_leading_edge_plot
from knockseq.step import run_step


def main(snakemake) -> None:
    with open(snakemake.input.metadata) as meta:
        write_leading_edge_plot(
            read_table(snakemake.input.table),
            read_table(snakemake.input.gsea),
            read_table(snakemake.input.vst),
            json.load(meta),
            read_sample_sheet(snakemake.input.sheet, counts_table=snakemake.params.counts_table),
            snakemake.output.heatmap.removesuffix(".png"),
        )


run_step(main, snakemake, log=snakemake.log[0])

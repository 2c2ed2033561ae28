"""Rule plots_qc: PCA, sample distances and library sizes of every sample."""

import os

from knockseq.config import read_sample_sheet
from knockseq.io import read_table
from knockseq.plots.qc import write_qc_plots
from knockseq.step import run_step


def main(snakemake) -> None:
    write_qc_plots(
        read_table(snakemake.input.vst),
        read_sample_sheet(snakemake.input.sheet, counts_table=snakemake.params.counts_table),
        read_table(snakemake.input.qc),
        snakemake.params.covariates,
        os.path.dirname(snakemake.output.pca),
    )


run_step(main, snakemake, log=snakemake.log[0])

"""Rule plots_fit: dispersion estimates and size factors of one shared DESeq2 fit."""

import os

from knockseq.de import read_fit
from knockseq.plots.qc import write_fit_plots
from knockseq.step import run_step


def main(snakemake) -> None:
    write_fit_plots(read_fit(snakemake.input.fit), os.path.dirname(snakemake.output.dispersions))


run_step(main, snakemake, log=snakemake.log[0])

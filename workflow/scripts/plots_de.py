"""Rule plots_de: volcano, MA, p-value histogram and knockdown-target plots of one contrast."""

import json
import os

from knockseq.config import read_sample_sheet
from knockseq.io import read_table
from knockseq.plots.de import write_de_plots
from knockseq.step import run_step


def main(snakemake) -> None:
    with open(snakemake.input.metadata) as meta, open(snakemake.input.knockdown) as knockdown:
        write_de_plots(
            read_table(snakemake.input.table),
            json.load(meta),
            json.load(knockdown),
            read_table(snakemake.input.normalized),
            read_sample_sheet(snakemake.input.sheet, counts_table=snakemake.params.counts_table),
            os.path.dirname(snakemake.output.volcano),
        )


run_step(main, snakemake, log=snakemake.log[0])

"""Rule de: PyDESeq2 fit and Wald test of one contrast."""

import pandas as pd

from knockseq.config import read_sample_sheet
from knockseq.de import run_contrast, write_de
from knockseq.step import run_step


def main(snakemake) -> None:
    options = snakemake.params.de
    result = run_contrast(
        pd.read_csv(snakemake.input.counts, sep="\t"),
        read_sample_sheet(snakemake.input.sheet, counts_table=True),
        contrast=snakemake.params.contrast,
        design=snakemake.params.design,
        compat=options["compat"],
        alpha=options["alpha"],
        min_count=options["min_count"],
        cooks=options["cooks"],
        shrink=options["shrink"],
        n_cpus=snakemake.threads,
        sheet_path=snakemake.input.sheet,
    )
    write_de(result, dict(snakemake.output.items()))


run_step(main, snakemake, log=snakemake.log[0])

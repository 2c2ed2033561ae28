"""Rule knockdown: did the siRNA lower its targets?"""

import pandas as pd

from knockseq.config import read_sample_sheet
from knockseq.io import write_json
from knockseq.knockdown import assess_knockdown
from knockseq.step import run_step


def main(snakemake) -> None:
    options = dict(snakemake.params.knockdown)
    report = assess_knockdown(
        pd.read_csv(snakemake.input.table, sep="\t"),
        pd.read_csv(snakemake.input.normalized, sep="\t"),
        read_sample_sheet(snakemake.input.sheet, counts_table=True),
        snakemake.params.contrast,
        options.pop("targets"),
        options,
    )
    write_json(report, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

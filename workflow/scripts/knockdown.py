"""Rule knockdown: did the siRNA lower its targets?"""

from knockseq.config import read_sample_sheet
from knockseq.io import read_table, write_json
from knockseq.knockdown import assess_knockdown
from knockseq.step import run_step


def main(snakemake) -> None:
    report = assess_knockdown(
        read_table(snakemake.input.table),
        read_table(snakemake.input.normalized),
        read_sample_sheet(snakemake.input.sheet, counts_table=True),
        snakemake.params.contrast,
        snakemake.params.contrast["targets"],
        snakemake.params.knockdown,
    )
    write_json(report, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

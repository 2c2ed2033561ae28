"""Rule targets: find every contrast's knockdown targets in the count table, before any fit."""

from knockseq.io import read_table, write_tsv
from knockseq.knockdown import check_targets
from knockseq.step import run_step


def main(snakemake) -> None:
    found = check_targets(read_table(snakemake.input.counts), snakemake.params.targets, snakemake.input.counts)
    write_tsv(found, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

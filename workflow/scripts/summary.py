"""Rule summary: every contrast's verdict in one table, the ER targets' fold changes as a heatmap
and their mean effect as a forest plot."""

from pathlib import Path

from knockseq.io import read_json
from knockseq.step import run_step
from knockseq.summary import write_summary


def main(snakemake) -> None:
    write_summary([read_json(path) for path in snakemake.input], Path(snakemake.output.table).parent)


run_step(main, snakemake, log=snakemake.log[0])

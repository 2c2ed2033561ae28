"""Rule summary: every contrast's verdict in one table, and the ER targets' fold changes as a heatmap."""

import json

from knockseq.step import run_step
from knockseq.summary import write_summary


def main(snakemake) -> None:
    verdicts = []
    for path in snakemake.input:
        with open(path) as handle:
            verdicts.append(json.load(handle))
    write_summary(verdicts, snakemake.output.table, snakemake.output.png.removesuffix(".png"))


run_step(main, snakemake, log=snakemake.log[0])

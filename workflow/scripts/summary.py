"""Rule summary: every contrast's verdict in one table, the ER targets' fold changes as a heatmap
and their mean effect as a forest plot."""

import json
from pathlib import Path

from knockseq.step import run_step
from knockseq.summary import write_summary


def main(snakemake) -> None:
    verdicts = []
    for path in snakemake.input:
        with open(path) as handle:
            verdicts.append(json.load(handle))
    write_summary(verdicts, Path(snakemake.output.table).parent)


run_step(main, snakemake, log=snakemake.log[0])

"""Rule verdict_page: every contrast's verdict as the report's first page (reST and HTML)."""

import json

from knockseq.report import write_verdict_page
from knockseq.step import run_step


def main(snakemake) -> None:
    verdicts = []
    for path in snakemake.input.verdicts:
        with open(path) as handle:
            verdicts.append(json.load(handle))
    write_verdict_page(verdicts, snakemake.output.rst, snakemake.output.html, heatmap=snakemake.input.heatmap)


run_step(main, snakemake, log=snakemake.log[0])

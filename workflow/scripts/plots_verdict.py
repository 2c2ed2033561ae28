"""Rule verdict_page: every contrast's verdict as the report's first page (reST and HTML)."""

from knockseq.io import read_json
from knockseq.report import write_verdict_page
from knockseq.step import run_step


def main(snakemake) -> None:
    verdicts = [read_json(path) for path in snakemake.input.verdicts]
    write_verdict_page(verdicts, snakemake.output.rst, snakemake.output.html, heatmap=snakemake.input.heatmap)


run_step(main, snakemake, log=snakemake.log[0])

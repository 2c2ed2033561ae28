"""Rule summary_run: the summary across every dataset of the run, the compared groups pooled, and
the report's first page."""

from pathlib import Path

from knockseq.io import read_json
from knockseq.report import write_verdict_page
from knockseq.step import run_step
from knockseq.summary import write_summary


def main(snakemake) -> None:
    verdicts = [read_json(path) for path in snakemake.input.verdicts]
    groups = {name: [tuple(member) for member in members] for name, members in snakemake.params.groups.items()}
    datasets = list(snakemake.params.datasets)
    write_summary(verdicts, Path(snakemake.output.table).parent, datasets=datasets, groups=groups)
    write_verdict_page(
        verdicts,
        snakemake.output.rst,
        snakemake.output.html,
        datasets=datasets,
        compare=snakemake.output.compare,
        heatmap=snakemake.output.png,
    )


run_step(main, snakemake, log=snakemake.log[0])

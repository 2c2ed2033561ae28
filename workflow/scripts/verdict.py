"""Rule verdict: whether ER targets are suppressed, for every contrast of one dataset."""

from knockseq.step import run_step
from knockseq.verdict import write_dataset_verdicts


def main(snakemake) -> None:
    write_dataset_verdicts(snakemake.params.contrasts, snakemake.input.provenance, snakemake.params.thresholds)


run_step(main, snakemake, log=snakemake.log[0])

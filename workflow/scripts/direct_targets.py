"""Rule direct_targets: the ER program's expression and the CAMERA tests of the direct ER targets."""

import json

from knockseq.config import read_sample_sheet
from knockseq.io import read_table, write_json
from knockseq.step import run_step
from knockseq.verdict import direct_target_evidence


def main(snakemake) -> None:
    with open(snakemake.input.metadata) as handle:
        de_settings = json.load(handle)
    evidence = direct_target_evidence(
        read_table(snakemake.input.table),
        read_table(snakemake.input.normalized),
        read_sample_sheet(snakemake.input.sheet, counts_table=True),
        de_settings,
    )
    write_json(evidence, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

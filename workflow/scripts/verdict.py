"""Rule verdict: decide whether ER targets are suppressed in one contrast."""

import json

from knockseq.config import read_sample_sheet
from knockseq.io import read_table
from knockseq.step import run_step
from knockseq.verdict import build_verdict, write_verdict


def main(snakemake) -> None:
    inputs = snakemake.input
    loaded = {}
    for key in ("knockdown", "provenance", "metadata"):
        with open(inputs[key]) as handle:
            loaded[key] = json.load(handle)
    verdict = build_verdict(
        read_table(inputs.gsea),
        loaded["knockdown"],
        read_table(inputs.table),
        read_table(inputs.normalized),
        read_sample_sheet(inputs.sheet, counts_table=True),
        loaded["metadata"],
        loaded["provenance"],
        fdr=snakemake.params.verdict["fdr"],
        global_shift_share=snakemake.params.verdict["global_shift_share"],
        contrast=snakemake.wildcards.contrast,
    )
    write_verdict(verdict, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

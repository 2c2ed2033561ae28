"""Rule verdict: decide whether ER targets are suppressed in one contrast."""

import json

import pandas as pd

from knockseq.step import run_step
from knockseq.verdict import decide, write_verdict


def main(snakemake) -> None:
    inputs = snakemake.input
    with open(inputs.knockdown) as handle:
        knockdown = json.load(handle)
    with open(inputs.provenance) as handle:
        provenance = json.load(handle)
    with open(inputs.metadata) as handle:
        de_settings = json.load(handle)
    verdict = decide(
        pd.read_csv(inputs.gsea, sep="\t"),
        knockdown,
        pd.read_csv(inputs.table, sep="\t"),
        provenance,
        fdr=snakemake.params.verdict["fdr"],
        contrast=snakemake.wildcards.contrast,
        de_settings=de_settings,
    )
    write_verdict(verdict, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

"""Rule verdict: decide whether ER targets are suppressed in one contrast."""

import json
from pathlib import Path

from knockseq.io import read_table
from knockseq.step import run_step
from knockseq.verdict import adjust_across_contrasts, decide, write_verdict


def _json(path: str) -> dict:
    with open(path) as handle:
        return json.load(handle)


def main(snakemake) -> None:
    inputs = snakemake.input
    contrast = snakemake.wildcards.contrast
    direct = {Path(path).name.removesuffix(".json"): _json(path) for path in inputs.direct}
    fdr = adjust_across_contrasts(direct)
    verdict = decide(
        read_table(inputs.gsea),
        _json(inputs.knockdown),
        read_table(inputs.table),
        _json(inputs.provenance),
        direct[contrast],
        direct_fdr=fdr[contrast],
        n_adjusted=sum(value is not None for value in fdr.values()),
        thresholds=snakemake.params.verdict,
        de_settings=_json(inputs.metadata),
    )
    write_verdict(verdict, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

"""Rule fit: one PyDESeq2 fit, shared by the contrasts of its group."""

from knockseq.config import read_sample_sheet
from knockseq.datasets import dataset_config
from knockseq.de import fit_design, write_fit
from knockseq.fits import FitSpec, configured_fit_groups
from knockseq.io import read_table
from knockseq.step import run_step


def main(snakemake) -> None:
    sheet = read_sample_sheet(snakemake.input.sheet, counts_table=True)
    fit = fit_design(
        read_table(snakemake.input.counts),
        sheet,
        FitSpec.from_dict(snakemake.params.spec),
        contrasts=configured_fit_groups(
            dataset_config(snakemake.config, getattr(snakemake.wildcards, "dataset", "")), sheet, snakemake.input.sheet
        )[snakemake.wildcards.fit],
        n_cpus=snakemake.threads,
        sheet_path=snakemake.input.sheet,
    )
    write_fit(fit, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

"""Rule de: Wald test and apeGLM shrinkage of one contrast on its shared fit."""

from knockseq.config import read_sample_sheet
from knockseq.de import contrast_results, read_fit, write_de
from knockseq.fits import configured_fit_groups
from knockseq.step import run_step


def main(snakemake) -> None:
    fit = read_fit(snakemake.input.fit)
    sheet = read_sample_sheet(snakemake.input.sheet, counts_table=True)
    result = contrast_results(
        fit,
        snakemake.params.contrast,
        alpha=snakemake.params.de["alpha"],
        shrink=snakemake.params.de["shrink"],
        n_cpus=snakemake.threads,
        sharing=configured_fit_groups(snakemake.config, sheet, snakemake.input.sheet)[fit.fit_id],
    )
    write_de(result, dict(snakemake.output.items()))


run_step(main, snakemake, log=snakemake.log[0])

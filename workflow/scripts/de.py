"""Rule de: Wald test and apeGLM shrinkage of one contrast on its shared fit."""

from knockseq.de import contrast_results, read_fit, write_de
from knockseq.step import run_step


def main(snakemake) -> None:
    fit = read_fit(snakemake.input.fit)
    result = contrast_results(
        fit,
        snakemake.params.contrast,
        alpha=snakemake.params.de["alpha"],
        shrink=snakemake.params.de["shrink"],
        n_cpus=snakemake.threads,
    )
    write_de(result, dict(snakemake.output.items()))


run_step(main, snakemake, log=snakemake.log[0])

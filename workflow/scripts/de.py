"""Rule de: Wald test and apeGLM shrinkage of one contrast on its shared fit, then the CAMERA
tests of its direct ER targets."""

from knockseq.de import contrast_results, read_fit, write_de
from knockseq.step import run_step
from knockseq.verdict.direct import write_direct_targets


def main(snakemake) -> None:
    fit = read_fit(snakemake.input.fit)
    result = contrast_results(
        fit,
        snakemake.params.contrast,
        alpha=snakemake.params.de["alpha"],
        shrink=snakemake.params.de["shrink"],
        n_cpus=snakemake.threads,
    )
    outputs = dict(snakemake.output.items())
    write_de(result, outputs)
    # The direct-target tests depend on this result and the fit's sheet alone, so they rerun
    # exactly when the DE does; a job of their own would cost each contrast another start-up.
    write_direct_targets(result, fit.sheet, outputs["direct_targets"])


run_step(main, snakemake, log=snakemake.log[0])

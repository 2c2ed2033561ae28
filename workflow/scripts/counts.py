"""Rule counts: read every sample's quantifier output, write the merged count table and QC."""

from knockseq.config import read_sample_sheet
from knockseq.counts import build_counts, write_counts
from knockseq.step import run_step


def main(snakemake) -> None:
    params = snakemake.params
    sheet = read_sample_sheet(snakemake.input.sheet, counts_table=params.counts_table is not None)
    table, qc, _ = build_counts(
        sheet,
        base_dir=".",
        counts=params.counts_table,
        format=params.format,
        strandedness=params.strandedness,
        tx2gene=snakemake.input.get("tx2gene"),
        annotation=snakemake.input.get("annotation"),
        counts_from_abundance=params.counts_from_abundance,
        sheet_path=snakemake.input.sheet,
    )
    write_counts(table, qc, snakemake.output.counts, snakemake.output.qc)


run_step(main, snakemake, log=snakemake.log[0])

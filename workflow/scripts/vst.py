"""Rule vst: variance-stabilised expression of every sample, for QC."""

from knockseq.config import read_sample_sheet
from knockseq.de import vst
from knockseq.io import read_table, write_tsv
from knockseq.step import run_step


def main(snakemake) -> None:
    counts = read_table(snakemake.input.counts)
    values = vst(
        counts,
        read_sample_sheet(snakemake.input.sheet, counts_table=True),
        snakemake.params.design,
        blind=snakemake.wildcards.mode == "blind",
        compat=snakemake.params.compat,
        engine=snakemake.params.engine,
        sheet_path=snakemake.input.sheet,
    )
    values.insert(0, "gene_name", counts.set_index("gene_id")["gene_name"].reindex(values.index))
    write_tsv(values.rename_axis("gene_id").reset_index(), snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

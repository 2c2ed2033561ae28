"""Rule ora: over-representation of one contrast's down- and up-regulated genes."""

from knockseq.enrichment import run_ora
from knockseq.genesets import read_gene_sets
from knockseq.io import read_table, write_tsv
from knockseq.step import run_step


def main(snakemake) -> None:
    ora, gsea = snakemake.params.ora, snakemake.params.gsea
    table = run_ora(
        read_table(snakemake.input.table),
        read_gene_sets(snakemake.input.gmt, snakemake.input.provenance),
        alpha=ora["padj"],
        min_abs_lfc=ora["min_abs_lfc"],
        min_size=gsea["min_size"],
        max_size=gsea["max_size"],
    )
    write_tsv(table, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

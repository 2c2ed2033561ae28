"""Rule gene_sets: load every configured gene-set source into one GMT with provenance."""

from knockseq.genesets import check_gmt_genes, load_gene_sets, write_gene_sets
from knockseq.io import read_table
from knockseq.step import run_step


def main(snakemake) -> None:
    collection = load_gene_sets(snakemake.params.sources, cache_dir=snakemake.params.cache)
    counts = read_table(snakemake.input.counts)
    check_gmt_genes(collection, counts["gene_id"], counts["gene_name"])
    write_gene_sets(collection, snakemake.output.gmt, snakemake.output.provenance)


run_step(main, snakemake, log=snakemake.log[0])

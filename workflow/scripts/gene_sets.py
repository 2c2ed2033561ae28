"""Rule gene_sets: load every configured gene-set source into one GMT with provenance."""

from knockseq.genesets import load_gene_sets, write_gene_sets
from knockseq.step import run_step


def main(snakemake) -> None:
    collection = load_gene_sets(snakemake.params.sources, cache_dir=snakemake.params.cache)
    write_gene_sets(collection, snakemake.output.gmt, snakemake.output.provenance)


run_step(main, snakemake, log=snakemake.log[0])

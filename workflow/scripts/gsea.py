"""Rule gsea: preranked GSEA of one contrast's DE table."""

from knockseq.enrichment import run_gsea
from knockseq.genesets import read_gene_sets
from knockseq.io import read_table, write_tsv
from knockseq.step import run_step


def main(snakemake) -> None:
    options = snakemake.params.gsea
    table = run_gsea(
        read_table(snakemake.input.table),
        read_gene_sets(snakemake.input.gmt, snakemake.input.provenance),
        ranking=options["ranking"],
        permutations=options["permutations"],
        min_size=options["min_size"],
        max_size=options["max_size"],
        seed=options["seed"],
        method=options["method"],
        threads=snakemake.threads,
    )
    write_tsv(table, snakemake.output[0])


run_step(main, snakemake, log=snakemake.log[0])

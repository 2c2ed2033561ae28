"""Rule ora: over-representation of each contrast's down- and up-regulated genes, one dataset."""

from knockseq.enrichment import write_ora_tables
from knockseq.step import run_step


def main(snakemake) -> None:
    write_ora_tables(
        snakemake.params.tables, snakemake.input.gmt, snakemake.input.provenance, **snakemake.params.settings
    )


run_step(main, snakemake, log=snakemake.log[0])

"""knockseq: knockdown RNA-seq from quantifier outputs to a verdict on ER target genes."""

__version__ = "0.1.0"

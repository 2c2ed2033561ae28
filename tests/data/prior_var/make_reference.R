# R DESeq2's log-dispersion prior variance on airway subsets with 1, 2 and 3 residual degrees of
# freedom (the simulation branch of estimateDispersionsPriorVar), for tests/test_engine_rules.py.
# (3-sample subsets were tried until one gave a value above the 0.25 floor: samples 2, 3, 5.)
# Usage: Rscript make_reference.R ../../../../shared/data/airway > reference.tsv  (DESeq2 1.38.3)
suppressPackageStartupMessages(library(DESeq2))
airway <- commandArgs(trailingOnly = TRUE)[1]
counts <- as.matrix(read.delim(file.path(airway, "counts.tsv.gz"), row.names = 1, check.names = FALSE))
coldata <- read.delim(file.path(airway, "samples.tsv"), row.names = 1, stringsAsFactors = TRUE)
coldata$dex <- relevel(coldata$dex, ref = "untrt")
runs <- list(
  list(samples = colnames(counts)[c(2, 3, 5)], design = ~ dex),
  list(samples = colnames(counts)[1:4], design = ~ dex),
  list(samples = colnames(counts), design = ~ cell + dex)
)
cat("samples\tdesign\tdf\tprior_var\n")
for (run in runs) {
  dds <- DESeqDataSetFromMatrix(counts[, run$samples], coldata[run$samples, ], run$design)
  dds <- estimateSizeFactors(dds)
  dds <- estimateDispersionsGeneEst(dds, quiet = TRUE)
  dds <- estimateDispersionsFit(dds, quiet = TRUE)
  m <- ncol(dds)
  p <- ncol(model.matrix(run$design, colData(dds)))
  prior <- DESeq2:::estimateDispersionsPriorVar(dds, modelMatrix = model.matrix(run$design, colData(dds)))
  cat(sprintf("%s\t%s\t%d\t%.10g\n", paste(run$samples, collapse = ","), deparse(run$design), m - p, prior))
}

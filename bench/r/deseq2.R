# R DESeq2's side of bench/compare_r.py: DESeq() + results() for each contrast, timed in-process.
# Usage: Rscript deseq2.R COUNTS.tsv SAMPLES.tsv DESIGN CONTRASTS OUT.tsv
#   CONTRASTS: variable:test:reference[,variable:test:reference...]; OUT.tsv gets the first one's table.
# Prints one JSON line: {"seconds": wall seconds of DESeq() and every results() call, "peak_mib": VmHWM}.
suppressPackageStartupMessages(library(DESeq2))
args <- commandArgs(trailingOnly = TRUE)
counts <- as.matrix(read.delim(args[1], row.names = 1, check.names = FALSE))
coldata <- read.delim(args[2], row.names = 1, stringsAsFactors = TRUE)[colnames(counts), , drop = FALSE]
contrasts <- lapply(strsplit(strsplit(args[4], ",")[[1]], ":"), identity)
reference <- contrasts[[1]][3]
coldata[[contrasts[[1]][1]]] <- relevel(coldata[[contrasts[[1]][1]]], ref = reference)
start <- proc.time()[["elapsed"]]
dds <- DESeqDataSetFromMatrix(counts, coldata, as.formula(args[3]))
dds <- DESeq(dds, quiet = TRUE)
tables <- lapply(contrasts, function(k) results(dds, contrast = k, alpha = 0.1))
seconds <- proc.time()[["elapsed"]] - start
out <- as.data.frame(tables[[1]])
write.table(cbind(gene_id = rownames(out), out), args[5], sep = "\t", quote = FALSE, row.names = FALSE)
hwm <- grep("^VmHWM:", readLines("/proc/self/status"), value = TRUE)
peak <- as.numeric(strsplit(trimws(sub("VmHWM:", "", hwm)), " +")[[1]][1]) / 1024
cat(sprintf('{"seconds": %.4f, "peak_mib": %.1f}\n', seconds, peak))

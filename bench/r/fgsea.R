# fgsea's side of bench/compare_r.py: preranked GSEA of one ranking, timed in-process.
# Usage: Rscript fgsea.R RANKS.tsv (symbol, stat) SETS.gmt multilevel|simple OUT.tsv
# Prints one JSON line: {"seconds": wall seconds of the fgsea call, "peak_mib": VmHWM}.
suppressPackageStartupMessages(library(fgsea))
args <- commandArgs(trailingOnly = TRUE)
ranks <- read.delim(args[1])
stats <- setNames(ranks$stat, ranks$symbol)
pathways <- gmtPathways(args[2])
set.seed(42)
start <- proc.time()[["elapsed"]]
res <- if (args[3] == "multilevel") {
  fgseaMultilevel(pathways, stats, minSize = 15, maxSize = 500, nproc = 1)
} else {
  fgseaSimple(pathways, stats, nperm = 1000, minSize = 15, maxSize = 500, nproc = 1)
}
seconds <- proc.time()[["elapsed"]] - start
write.table(data.frame(pathway = res$pathway, NES = res$NES, padj = res$padj), args[4], sep = "\t",
            quote = FALSE, row.names = FALSE)
hwm <- grep("^VmHWM:", readLines("/proc/self/status"), value = TRUE)
peak <- as.numeric(strsplit(trimws(sub("VmHWM:", "", hwm)), " +")[[1]][1]) / 1024
cat(sprintf('{"seconds": %.4f, "peak_mib": %.1f}\n', seconds, peak))

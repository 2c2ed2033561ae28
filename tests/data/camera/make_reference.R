# Reference values of limma's CAMERA for tests/test_camera.py, on data generated here (seeded).
# Run from this folder: Rscript make_reference.R   (limma 3.54.1, R 4.2.2: Debian bookworm's
# r-bioc-limma and r-base-core).
suppressPackageStartupMessages(library(limma))
set.seed(20260101)
G <- 300; n <- 8
batch <- factor(rep(c("a", "b"), each = 4))
condition <- factor(rep(c("control", "kd", "control", "kd"), each = 2), levels = c("control", "kd"))
design <- model.matrix(~ batch + condition)
y <- matrix(rnorm(G * n, mean = 6), G, n, dimnames = list(sprintf("g%03d", 1:G), sprintf("s%d", 1:n)))
# set1: 20 genes sharing a sample-level factor (inter-gene correlation) and shifted down in kd
shared <- rnorm(n)
y[1:20, ] <- y[1:20, ] + matrix(rep(shared, each = 20), 20, n) - outer(rep(0.8, 20), as.numeric(condition == "kd"))
# set2: 15 independent genes, unchanged; set3: 10 genes up in kd, independent
y[51:60, ] <- y[51:60, ] + outer(rep(0.7, 10), as.numeric(condition == "kd"))
# set4: 10 genes in two anti-correlated halves (a sample-level factor added to 5, subtracted from
# the other 5: negative mean inter-gene correlation), shifted down in kd
opposed <- rnorm(n)
y[71:80, ] <- y[71:80, ] + outer(rep(c(1, -1), each = 5), opposed) - outer(rep(0.6, 10), as.numeric(condition == "kd"))
# set5: 8 genes, two of them far down in kd and six unchanged (a set mean carried by two genes)
y[91:92, ] <- y[91:92, ] - outer(rep(3, 2), as.numeric(condition == "kd"))
sets <- list(set1 = 1:20, set2 = 31:45, set3 = 51:60, set4 = 71:80, set5 = 91:98)
fit <- eBayes(lmFit(y, design))
stat <- zscoreT(fit$t[, "conditionkd"], df = fit$df.total)
rows <- lapply(names(sets), function(s) {
  igc <- interGeneCorrelation(y[sets[[s]], ], design)
  pr <- cameraPR(stat, sets[s], inter.gene.cor = igc$correlation, sort = FALSE)
  full <- camera(y, sets[s], design, contrast = "conditionkd", inter.gene.cor = NA, sort = FALSE)
  negcor <- camera(y, sets[s], design, contrast = "conditionkd", inter.gene.cor = NA, allow.neg.cor = TRUE, sort = FALSE)
  ranks <- camera(y, sets[s], design, contrast = "conditionkd", inter.gene.cor = NA, use.ranks = TRUE, sort = FALSE)
  ranks_negcor <- camera(y, sets[s], design, contrast = "conditionkd", inter.gene.cor = NA, use.ranks = TRUE,
                         allow.neg.cor = TRUE, sort = FALSE)
  data.frame(set = s, correlation = igc$correlation, vif = igc$vif, pvalue_fixed_cor = pr$PValue,
             pvalue = full$PValue, direction = as.character(full$Direction),
             pvalue_allow_neg_cor = negcor$PValue,
             pvalue_ranks = ranks$PValue, direction_ranks = as.character(ranks$Direction),
             pvalue_ranks_allow_neg_cor = ranks_negcor$PValue)
})
write.table(data.frame(gene = rownames(y), y, check.names = FALSE), "expression.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
write.table(data.frame(gene = rownames(y), stat = stat), "statistic.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
write.table(data.frame(sample = colnames(y), design, check.names = FALSE), "design.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
write.table(data.frame(set = rep(names(sets), lengths(sets)), gene = rownames(y)[unlist(sets)]), "sets.tsv", sep = "\t", quote = FALSE, row.names = FALSE)
write.table(do.call(rbind, rows), "reference.tsv", sep = "\t", quote = FALSE, row.names = FALSE)

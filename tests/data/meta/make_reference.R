# Reference values of metafor's random-effects model for tests/test_meta.py, on fixed inputs.
# Run from this folder: Rscript make_reference.R   (metafor 3.8.1, R 4.2.2: Debian bookworm's
# r-cran-metafor and r-base-core).
suppressPackageStartupMessages(library(metafor))
inputs <- read.delim("inputs.tsv")
rows <- lapply(split(inputs, inputs$case), function(d) {
  fit <- rma(yi = d$yi, sei = d$sei, method = "REML")
  data.frame(case = d$case[1], k = fit$k, estimate = as.numeric(fit$beta), se = fit$se, ci_low = fit$ci.lb,
             ci_high = fit$ci.ub, pvalue = fit$pval, tau2 = fit$tau2, i2 = fit$I2, q = fit$QE, q_pvalue = fit$QEp)
})
write.table(do.call(rbind, rows), "reference.tsv", sep = "\t", quote = FALSE, row.names = FALSE)

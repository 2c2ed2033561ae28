# Histograms of DESeq2's simulated log-dispersion residuals, for knockseq's prior-variance step.
# estimateDispersionsPriorVar (DESeq2 1.38, R/core.R), for 1-3 residual degrees of freedom, draws
# after set.seed(2), for each of 200 prior variances x in seq(0, 8, length = 200),
#   log(rchisq(1e4, df)) + rnorm(1e4, 0, sqrt(x)) - log(df)
# and histograms it on breaks -20:20/2. Those draws depend on df alone, so this table replaces
# them: one row per (df, grid index), the number of draws inside the breaks and the 40 bin counts.
# Usage: Rscript make_prior_var_simulation.R OUT.tsv   (R 4.2.2; then gzip -9n OUT.tsv)
args <- commandArgs(trailingOnly = TRUE)
brks <- -20:20 / 2
grid <- seq(from = 0, to = 8, length = 200)
rows <- list()
for (df in 1:3) {
  set.seed(2)
  for (i in seq_along(grid)) {
    draws <- log(rchisq(1e4, df = df)) + rnorm(1e4, 0, sqrt(grid[i])) - log(df)
    draws <- draws[draws > min(brks) & draws < max(brks)]
    h <- hist(draws, breaks = brks, plot = FALSE)
    rows[[length(rows) + 1]] <- c(df, i - 1, length(draws), h$counts)
  }
}
table <- do.call(rbind, rows)
colnames(table) <- c("df", "grid_index", "n", sprintf("bin%02d", 1:40))
write.table(table, args[1], sep = "\t", quote = FALSE, row.names = FALSE)

# The R flexmix peer of bench_rates_fit: fits each data set of a manifest written by
# bench_rates_fit (id,k,d,n,data,init) with flexmix's EM -- Gaussian linear experts
# (FLXMRglm) and a multinomial-logit (softmax) gate on the same inputs (FLXPmultinom) --
# starting from the same posterior as ours (cluster = the n x k posterior matrix), with the
# same tolerance and iteration cap, and minprior = 0 so no component is dropped. Prints one
# JSON document: per data set the median elapsed seconds per fit (the posterior given, so
# no init is timed), iterations, log-likelihood and fitted parameters.
# Usage: Rscript flexmix_fit.R MANIFEST OUTPUT [tolerance] [iter.max] [min_seconds] [max_repeats]
suppressPackageStartupMessages(library(flexmix))
args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) stop("usage: flexmix_fit.R MANIFEST OUTPUT [tol] [iter.max] [min_s] [max_rep]")
manifest <- read.csv(args[1], stringsAsFactors = FALSE)
tolerance <- if (length(args) >= 3) as.numeric(args[3]) else 1e-10
iter_max <- if (length(args) >= 4) as.integer(args[4]) else 1000L
min_seconds <- if (length(args) >= 5) as.numeric(args[5]) else 2
max_repeats <- if (length(args) >= 6) as.integer(args[6]) else 20L

num <- function(v) paste0("[", paste(sprintf("%.17g", v), collapse = ", "), "]")
mat <- function(m) paste0("[", paste(apply(m, 1, num), collapse = ", "), "]")

rows <- character(0)
for (r in seq_len(nrow(manifest))) {
  row <- manifest[r, ]
  data <- read.csv(row$data)
  post <- as.matrix(read.csv(row$init))
  xs <- paste0("x", seq_len(row$d))
  formula <- as.formula(paste("y ~", paste(xs, collapse = " + ")))
  gate <- as.formula(paste("~", paste(xs, collapse = " + ")))
  fit_once <- function() {
    flexmix(formula, data = data, k = row$k, cluster = post,
            model = FLXMRglm(family = "gaussian"), concomitant = FLXPmultinom(gate),
            control = list(tolerance = tolerance, iter.max = iter_max, minprior = 0))
  }
  times <- numeric(0)
  cpu <- numeric(0)
  cpu_now <- function() { t <- proc.time(); t[["user.self"]] + t[["sys.self"]] }
  begin <- proc.time()[["elapsed"]]
  repeat {
    start <- proc.time()[["elapsed"]]
    cpu_start <- cpu_now()
    fit <- fit_once()
    times <- c(times, proc.time()[["elapsed"]] - start)
    cpu <- c(cpu, cpu_now() - cpu_start)
    if (proc.time()[["elapsed"]] - begin >= min_seconds || length(times) >= max_repeats) break
  }
  experts <- parameters(fit) # rows coef.(Intercept), coef.x1.., sigma; a column per component
  gate_coef <- parameters(fit, which = "concomitant") # (1 + d) x k, component 1 the reference
  rows <- c(rows, sprintf(paste0(
    "{\"id\": \"%s\", \"k\": %d, \"d\": %d, \"n\": %d, \"fits_timed\": %d, ",
    "\"median_seconds\": %.6e, \"min_seconds\": %.6e, \"median_cpu_seconds\": %.6e, \"iterations\": %d, \"converged\": %s, ",
    "\"log_likelihood\": %.17g, \"components\": %d, \"expert_coef\": %s, \"sigma\": %s, ",
    "\"gate_coef\": %s}"),
    row$id, row$k, row$d, row$n, length(times), median(times), min(times), median(cpu), fit@iter,
    if (fit@converged) "true" else "false", fit@logLik, fit@k,
    mat(t(experts[seq_len(1 + row$d), , drop = FALSE])), num(experts[2 + row$d, ]),
    mat(t(gate_coef))))
  message(sprintf("flexmix_fit: %s %d fits, median %.4g s, %d iterations", row$id,
                  length(times), median(times), fit@iter))
}
info <- sprintf(paste0("{\"R\": \"%s\", \"flexmix\": \"%s\", \"nnet\": \"%s\", ",
                       "\"blas\": \"%s\"}"),
                R.version.string, as.character(packageVersion("flexmix")),
                as.character(packageVersion("nnet")),
                gsub("\"", "'", paste(extSoftVersion()[["BLAS"]], collapse = " ")))
doc <- sprintf(paste0("{\"benchmark\": \"rates_fit_flexmix\", \"peer\": %s, \"tolerance\": %.3g, ",
                      "\"iter_max\": %d, \"sizes\": [\n    %s\n]}\n"),
               info, tolerance, iter_max, paste(rows, collapse = ",\n    "))
writeLines(doc, args[2], sep = "")

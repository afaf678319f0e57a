# Kaplan-Meier medians with 95% CIs (survfit defaults: conf.type "log") and log-rank tests
# (survdiff) from R's survival package, as reference values for tests/clinical/test_km_reference.py.
# Run: Rscript tests/clinical/reference/km_reference.R   (from the repository root; Debian r-cran-survival)
library(survival)
out <- "tests/clinical/reference"

cases <- list(
  # Six uncensored events at days 10..60: S = 0.5 exactly on [30, 40).
  six_events = data.frame(time = c(10, 20, 30, 40, 50, 60), status = 1, group = "a"),
  # Tied event times: S = 0.5 exactly on [20, 30).
  ties = data.frame(time = c(10, 10, 20, 20, 30, 30, 40, 40), status = 1, group = "a"),
  # Curve ends at exactly 0.5 (last two censored): median is the midpoint to the last time.
  ends_at_half = data.frame(time = c(1, 2, 3, 4), status = c(1, 1, 0, 0), group = "a"),
  # Censoring before the drop: S = 3/4, then 1/2 exactly on [3, 6).
  censored_half = data.frame(time = c(1, 2, 3, 4, 6), status = c(0, 1, 1, 0, 1), group = "a"),
  # Ties of events and censorings at the same day.
  tied_censoring = data.frame(
    time = c(2, 2, 2, 4, 4, 6, 8, 8), status = c(1, 1, 0, 1, 0, 1, 1, 0), group = "a"
  ),
  # Never below 0.5: median not reached.
  not_reached = data.frame(time = c(5, 10, 15, 20), status = c(1, 0, 0, 0), group = "a")
)
# Real trial data shipped with R: lung (NCCTG advanced lung cancer), OS by sex.
lung_data <- data.frame(time = lung$time, status = as.integer(lung$status == 2),
                        group = ifelse(lung$sex == 1, "male", "female"))
cases$lung_sex <- lung_data
# veteran (VA lung cancer trial), by cell type (4 groups).
cases$veteran_celltype <- data.frame(time = veteran$time, status = veteran$status,
                                     group = as.character(veteran$celltype))

medians <- NULL
logrank <- NULL
for (name in names(cases)) {
  data <- cases[[name]]
  write.table(data, file.path(out, paste0("km_case_", name, ".tsv")), sep = "\t",
              quote = FALSE, row.names = FALSE)
  fit <- survfit(Surv(time, status) ~ group, data = data)
  q <- quantile(fit, probs = 0.5)
  groups <- sub("^group=", "", names(fit$strata))
  if (is.null(fit$strata)) groups <- unique(data$group)
  medians <- rbind(medians, data.frame(
    case = name, group = groups, n = as.vector(table(factor(data$group, levels = groups))),
    events = as.vector(tapply(data$status, factor(data$group, levels = groups), sum)),
    median = as.vector(q$quantile), lower = as.vector(q$lower), upper = as.vector(q$upper)
  ))
  if (length(groups) > 1) {
    test <- survdiff(Surv(time, status) ~ group, data = data)
    df <- length(test$n) - 1
    logrank <- rbind(logrank, data.frame(
      case = name, chisq = test$chisq, df = df, p = pchisq(test$chisq, df, lower.tail = FALSE)
    ))
  }
}
write.table(format(medians, digits = 15), file.path(out, "km_medians.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE, na = "")
write.table(format(logrank, digits = 15), file.path(out, "logrank.tsv"), sep = "\t",
            quote = FALSE, row.names = FALSE)
writeLines(c(R.version.string, paste("survival", packageVersion("survival"))),
           file.path(out, "R_VERSION.txt"))

# KM medians (quantile.survfit) and log-rank (survdiff) for the pharmaverse patients grouped by
# the responses worked out by hand in tests/realdata/test_clinical.py (LM best response; mixed
# response from the sign of each site's first change). Run from the repository root.
library(survival)
data <- read.delim("tests/realdata/data/clinical/pharmaverse_patients.tsv")
lm <- c("01-701-1015" = "CR/PR", "01-701-1118" = "CR/PR", "01-701-1133" = "CR/PR",
        "01-701-1028" = "SD", "01-701-1130" = "SD")
mixed <- c("01-701-1015" = "PL_up_LM_down", "01-701-1028" = "PL_up_LM_down",
           "01-701-1130" = "PL_up_LM_down", "01-701-1118" = "concordant",
           "01-701-1133" = "concordant")
out <- NULL
for (grouping in c("LM_response", "mixed_response")) {
  labels <- if (grouping == "LM_response") lm else mixed
  sub <- data[data$patient %in% names(labels), ]
  sub$group <- labels[sub$patient]
  for (endpoint in c("pfs", "os")) {
    time <- sub[[paste0(endpoint, "_days")]]
    event <- sub[[paste0(endpoint, "_event")]]
    fit <- survfit(Surv(time, event) ~ group, data = sub)
    q <- quantile(fit, probs = 0.5)
    test <- survdiff(Surv(time, event) ~ group, data = sub)
    out <- rbind(out, data.frame(
      endpoint = endpoint, grouping = grouping, group = sub("group=", "", names(fit$strata)),
      n = fit$n, median = as.vector(q$quantile), lower = as.vector(q$lower),
      upper = as.vector(q$upper), p = pchisq(test$chisq, 1, lower.tail = FALSE)
    ))
  }
}
write.table(format(out, digits = 15), "tests/realdata/data/clinical/pharmaverse_reference.tsv",
            sep = "\t", quote = FALSE, row.names = FALSE, na = "")

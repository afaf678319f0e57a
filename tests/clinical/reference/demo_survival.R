# KM medians/CIs (quantile.survfit) and log-rank p (survdiff) for the demo cohort's survival table,
# grouped as the demo run groups it (demo_groups.tsv: mixed response and LM best response, copied
# from a flat run's organ_response/mixed_response). Run from the repository root.
library(survival)
patients <- read.delim("resources/demo/clinical/patients.tsv")
groups <- read.delim("tests/clinical/reference/demo_groups.tsv")
data <- merge(patients, groups, by = "patient")
out <- NULL
for (grouping in unique(data$grouping)) {
  sub <- data[data$grouping == grouping, ]
  for (endpoint in c("pfs", "os")) {
    sub$time <- sub[[paste0(endpoint, "_days")]]
    sub$event <- sub[[paste0(endpoint, "_event")]]
    fit <- survfit(Surv(time, event) ~ group, data = sub)
    q <- quantile(fit, probs = 0.5)
    test <- survdiff(Surv(time, event) ~ group, data = sub)
    out <- rbind(out, data.frame(
      endpoint = endpoint, grouping = grouping, group = sub("group=", "", names(fit$strata)),
      n = fit$n, median = as.vector(q$quantile), lower = as.vector(q$lower),
      upper = as.vector(q$upper),
      p = pchisq(test$chisq, length(test$n) - 1, lower.tail = FALSE)
    ))
  }
}
write.table(format(out, digits = 15), "tests/clinical/reference/demo_survival.tsv", sep = "\t",
            quote = FALSE, row.names = FALSE, na = "")

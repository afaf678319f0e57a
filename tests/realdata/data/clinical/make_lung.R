# Export R survival's `lung` (NCCTG advanced lung cancer trial) as an organomics patients table.
# Run from the repository root: Rscript tests/realdata/data/clinical/make_lung.R
# The trial has overall survival only; pfs_* repeats it (the workflow needs both columns).
library(survival)
data <- data.frame(
  patient = sprintf("L%03d", seq_len(nrow(lung))),
  pfs_days = lung$time, pfs_event = as.integer(lung$status == 2),
  os_days = lung$time, os_event = as.integer(lung$status == 2),
  sex = ifelse(lung$sex == 1, "male", "female")
)
write.table(data, "tests/realdata/data/clinical/lung_patients.tsv", sep = "\t", quote = FALSE,
            row.names = FALSE)
fit <- survfit(Surv(os_days, os_event) ~ sex, data = data)
q <- quantile(fit, probs = 0.5)
test <- survdiff(Surv(os_days, os_event) ~ sex, data = data)
ref <- data.frame(group = sub("sex=", "", names(fit$strata)), n = fit$n,
                  median = as.vector(q$quantile), lower = as.vector(q$lower),
                  upper = as.vector(q$upper), chisq = test$chisq,
                  p = pchisq(test$chisq, 1, lower.tail = FALSE))
write.table(format(ref, digits = 15), "tests/realdata/data/clinical/lung_reference.tsv",
            sep = "\t", quote = FALSE, row.names = FALSE)

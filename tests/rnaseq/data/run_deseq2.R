# Reference DESeq2 run for tests/rnaseq/test_deseq.py (Debian r-bioc-deseq2 1.38.3, R 4.2).
# Rscript run_deseq2.R  (in this folder) -> deseq2_reference.tsv
suppressPackageStartupMessages(library(DESeq2))
counts <- as.matrix(read.delim("deseq2_counts.tsv", row.names = 1, check.names = FALSE))
design <- read.delim("deseq2_design.tsv", stringsAsFactors = FALSE)
design$patient <- factor(design$patient)
design$site <- factor(design$site, levels = c("PL", "LM"))
rownames(design) <- design$sample
dds <- DESeqDataSetFromMatrix(counts[, design$sample], design, ~ patient + site)
dds <- DESeq(dds, quiet = TRUE)
res <- results(dds, contrast = c("site", "LM", "PL"), alpha = 0.05)
out <- data.frame(gene = rownames(res), as.data.frame(res), check.names = FALSE)
write.table(out, "deseq2_reference.tsv", sep = "\t", quote = FALSE, row.names = FALSE, na = "")
cat("DESeq2", as.character(packageVersion("DESeq2")), R.version.string, "\n")

# Reference DESeq2 runs for tests/realdata/test_rnaseq.py (Debian r-bioc-deseq2 1.38.3, R 4.2).
# Rscript run_deseq2.R  (in this folder) -> deseq2_geuvadis.tsv, deseq2_salmon.tsv, salmon_counts.tsv
suppressPackageStartupMessages(library(DESeq2))
fit <- function(counts, design, out) {
  design$patient <- factor(design$patient)
  design$site <- factor(design$site, levels = c("PL", "LM"))
  rownames(design) <- design$sample
  dds <- DESeqDataSetFromMatrix(counts[, design$sample], design, ~ patient + site)
  dds <- DESeq(dds, quiet = TRUE)
  res <- results(dds, contrast = c("site", "LM", "PL"), alpha = 0.05)
  table <- data.frame(gene = rownames(res), as.data.frame(res), check.names = FALSE)
  write.table(table, out, sep = "\t", quote = FALSE, row.names = FALSE, na = "")
}
# GEUVADIS counts keyed by Ensembl ids (DEGreport humanGender subset)
counts <- as.matrix(read.delim(gzfile("geuvadis_counts.tsv.gz"), row.names = 1, check.names = FALSE))
fit(counts, read.delim("geuvadis_design.tsv", stringsAsFactors = FALSE), "deseq2_geuvadis.tsv")
# salmon: NumReads summed per gene through tx2gene, then rounded (as tximport + DESeq2's
# DESeqDataSetFromTximport round the estimated counts)
design <- read.delim("salmon_design.tsv", stringsAsFactors = FALSE)
tx2gene <- read.delim(gzfile("salmon/tx2gene.tsv.gz"), header = FALSE, stringsAsFactors = FALSE)
tx2gene <- tx2gene[tx2gene[[1]] != "transcript_id", ]
gene_of <- setNames(tx2gene[[2]], tx2gene[[1]])
summed <- sapply(design$sample, function(sample) {
  quant <- read.delim(gzfile(file.path("salmon", sample, "quant.sf.gz")), stringsAsFactors = FALSE)
  rowsum(quant$NumReads, gene_of[quant$Name])[, 1]
})
counts <- round(summed)
write.table(data.frame(gene = rownames(counts), counts, check.names = FALSE), "salmon_counts.tsv",
            sep = "\t", quote = FALSE, row.names = FALSE)
fit(counts, design[, c("sample", "patient", "site")], "deseq2_salmon.tsv")
cat("DESeq2", as.character(packageVersion("DESeq2")), R.version.string, "\n")

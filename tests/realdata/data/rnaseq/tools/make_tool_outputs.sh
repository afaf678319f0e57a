#!/bin/sh
# Genuine featureCounts and STAR outputs for tests/realdata/test_rnaseq.py (run once, by hand).
# Reads and genome: Debian r-bioc-rsubread 2.12.2-1, Rsubread/extdata/{reads,reads1,reads2}.txt.gz
# (1,000 reads each) and reference.fa (one 90,911 bp contig). Annotation genes.gtf: ours, nine
# 10 kb "genes" tiling the contig on alternating strands. Tools: Debian subread 2.0.3+dfsg-1
# (subread-align, featureCounts) and rna-star 2.7.10b+dfsg-2+b2.
set -eu
E=/usr/lib/R/site-library/Rsubread/extdata  # after dpkg -x of the r-bioc-rsubread .deb
subread-buildindex -o idx "$E/reference.fa"
mkdir -p star_idx
STAR --runMode genomeGenerate --genomeDir star_idx --genomeFastaFiles "$E/reference.fa" \
  --genomeSAindexNbases 6 --sjdbGTFfile genes.gtf --sjdbOverhang 99 --runThreadN 1
for s in reads reads1 reads2; do
  subread-align -t 0 -i idx -r "$E/$s.txt.gz" -o "$s.bam" -T 1
  featureCounts -a genes.gtf -o "$s.featureCounts.txt" "$s.bam"
  STAR --genomeDir star_idx --readFilesIn "$E/$s.txt.gz" --readFilesCommand zcat \
    --quantMode GeneCounts --outFileNamePrefix "star_$s." --runThreadN 1 --outSAMtype None
  mv "star_$s.ReadsPerGene.out.tab" "$s.ReadsPerGene.out.tab"
done

"""The demo FASTA writer at a contig's first and last base (a paper-scale VCF put a call there)."""

import pysam

from organomics.demo import wes
from organomics.demo.cohort import DemoCohort


def test_fasta_context_skips_contig_ends(tmp_path, monkeypatch):
    last = wes.CHROM_LENGTHS["21"]
    calls = {
        "P01_PL": [("21", last, "C", ("T",)), ("21", 1, "G", ("A",)), ("21", 5000, "C", ("T",))],
        "P01_LM": [("21", last, "C", ("T",)), ("21", 5000, "C", ("T",))],
    }
    monkeypatch.setattr(wes, "_vcf_records", lambda path: calls[path.name.split(".")[0]])
    name = wes.write_fasta(tmp_path, {"P01_PL": {}, "P01_LM": {}}, DemoCohort(seed=0))
    with pysam.FastaFile(str(tmp_path / name)) as fasta:
        assert fasta.get_reference_length("chr21") == last  # the contig keeps its length
        assert fasta.fetch("chr21", last - 1, last) == "C"  # the REF at the last base
        assert fasta.fetch("chr21", 0, 2) == "GN"  # first base: REF, no context drawn
        context = fasta.fetch("chr21", 4998, 5001)  # a shared call: trunk context around it
        assert context[1] == "C" and set(context[::2]) <= set("ACGT")

"""Readers: format sniffing, numbers read from real tool outputs, and bad-file messages."""

from __future__ import annotations

import gzip
import logging

import numpy as np
import pandas as pd
import pytest

from knockseq import readers
from knockseq.errors import InputError
from knockseq.readers import star

SAMPLES = ["control_1", "control_2", "control_3", "knockdown_1", "knockdown_2", "knockdown_3"]

# Every real file of /work/shared and the format it must be detected as.
DETECT = [
    ("data/quantifiers/featurecounts/counts.txt", "featurecounts"),
    ("data/quantifiers/featurecounts/control_1.featureCounts.txt", "featurecounts"),
    ("data/quantifiers/featurecounts/control_1.featureCounts.txt.summary", "featurecounts"),
    ("data/quantifiers/htseq/control_1.htseq.txt", "htseq"),
    ("data/quantifiers/star/control_1", "star"),
    ("data/formats/star/ReadsPerGene.out.tab", "star"),
    ("data/quantifiers/salmon/control_1", "salmon"),
    ("data/quantifiers/salmon/control_1/quant.genes.sf", "salmon"),
    ("data/formats/salmon/quant.sf", "salmon"),
    ("data/quantifiers/kallisto/control_1", "kallisto"),
    ("data/formats/kallisto/abundance.tsv", "kallisto"),
    ("data/quantifiers/rsem/control_1.genes.results", "rsem"),
    ("data/quantifiers/rsem/control_1.isoforms.results", "rsem"),
    ("data/pasilla/dexseq_exon_counts/treated1fb.txt", "dexseq"),
    ("data/pasilla/dexseq_exon_counts/untreated1fb.txt", "dexseq"),
    ("data/mcf7_e2/1_counts_file.csv", "matrix"),
    ("data/mcf7_e2/other_doses/E2_1nM/1_counts_file.csv.gz", "matrix"),
    ("data/airway/counts.tsv.gz", "matrix"),
    ("data/pasilla/counts.tsv.gz", "matrix"),
]


@pytest.mark.parametrize(("relative", "expected"), DETECT)
def test_detect_format_never_confuses(shared, relative, expected):
    path = readers.resolve(shared(relative))
    assert readers.detect_format(path) == expected
    # Exactly one tool reader claims the file; the matrix fallback is asked last by design.
    claims = [name for name, module in readers.READERS.items() if name != "matrix" and module.sniff(path)]
    assert claims == ([] if expected == "matrix" else [expected])


def test_unknown_format_lists_the_formats(quantifiers):
    path = quantifiers / "reference" / "tx2gene.tsv"
    with pytest.raises(InputError) as error:
        readers.read(path)
    assert str(error.value) == (
        f"{path}: unknown format: not recognised as any of featurecounts, htseq, star, salmon, kallisto, rsem, "
        "matrix. Fix: give a quantifier's output file unchanged, or a count matrix with a header row and the "
        "gene id in the first column."
    )


def test_star_htseq_featurecounts_agree(quantifiers):
    fc_all = readers.read(quantifiers / "featurecounts" / "counts.txt")
    assert list(fc_all.counts.columns) == [f"bam/{s}.bam" for s in SAMPLES]
    for sample in SAMPLES:
        htseq = readers.read(quantifiers / "htseq" / f"{sample}.htseq.txt").counts.iloc[:, 0]
        star_ = readers.read(quantifiers / "star" / sample, strandedness="reverse").counts.iloc[:, 0]
        fc = readers.read(quantifiers / "featurecounts" / f"{sample}.featureCounts.txt").counts.iloc[:, 0]
        assert len(htseq) == 351 and htseq.dtype == np.int64
        pd.testing.assert_series_equal(star_.sort_index(), htseq.sort_index(), check_names=False)
        # The multi-sample table equals the single-sample runs.
        pd.testing.assert_series_equal(fc_all.counts[f"bam/{sample}.bam"], fc, check_names=False)
        # featureCounts differs from htseq/STAR in one cell only (README says identical; it is 1 read).
        diff = (fc - htseq.reindex(fc.index))[lambda d: d != 0]
        assert diff.to_dict() == ({"ENSGSIM00000226": 1} if sample == "control_3" else {})


def test_star_auto_strandedness_on_real_files(shared, quantifiers, caplog):
    with caplog.at_level(logging.INFO, logger="knockseq.readers.star"):
        quant = readers.read(quantifiers / "star" / "control_1")
    qc = quant.qc[str(quant.path)]
    assert qc["strandedness"] == "reverse" and qc["strand_reverse_share"] == 0.997
    assert "auto -> reverse (column 4; gene sums unstranded 357806, forward 1078, reverse 358206" in caplog.text
    assert quant.counts.iloc[:, 0].sum() == 358206
    assert (qc["unassigned_unmapped"], qc["unassigned_multimapping"], qc["unassigned_nofeature"]) == (9252, 6136, 14868)
    assert (qc["input_reads"], qc["percent_uniquely_mapped"], qc["percent_mapped"]) == (388462, 96.04, 97.62)

    # The GENCODE file: sums 2,919,381 / 928,287 / 2,288,047; reverse share 0.711: neither stranded
    # (>= 0.8) nor balanced (0.4-0.6), so auto refuses to guess.
    path = shared("data/formats/star/ReadsPerGene.out.tab")
    with pytest.raises(InputError) as error:
        readers.read(path)
    assert str(error.value) == (
        f"{path}: the library's strandedness cannot be inferred: column 4 (reverse) holds 71.1% of the reads "
        "counted in columns 3 and 4 (a stranded library gives at least 80% in one of them, an unstranded one "
        "about 50%). Fix: set `strandedness:` in the config to the library type: unstranded, forward or reverse "
        "(from the kit, or RSeQC's infer_experiment.py)."
    )
    quant = readers.read(path, strandedness="unstranded")
    qc = quant.qc[str(path)]
    assert (qc["strandedness"], qc["strandedness_source"], qc["strand_reverse_share"]) == (
        "unstranded",
        "config",
        0.7114,
    )
    assert quant.counts.shape == (62836, 1) and quant.counts.iloc[:, 0].sum() == 2919381
    assert quant.counts.index[0] == "ENSG00000290825" and quant.counts.index.is_unique  # was ENSG00000290825.1
    assert (qc["input_reads"], qc["percent_uniquely_mapped"]) == (14971841, 88.86)
    sums = {s: readers.read(path, strandedness=s).counts.iloc[:, 0].sum() for s in ("forward", "reverse")}
    assert sums == {"forward": 928287, "reverse": 2288047}
    assert star.infer_strandedness(1078, 358206)[0] == "reverse"
    assert star.infer_strandedness(900, 100)[0] == "forward"


def test_trailer_and_summary_qc(quantifiers):
    htseq = readers.read(quantifiers / "htseq" / "control_1.htseq.txt")
    assert htseq.qc[str(htseq.path)] == {
        "unassigned_no_feature": 14868,
        "unassigned_ambiguous": 0,
        "unassigned_too_low_aqual": 0,
        "unassigned_not_aligned": 0,
        "unassigned_alignment_not_unique": 6136,
    }
    fc = readers.read(quantifiers / "featurecounts" / "counts.txt")
    qc = fc.qc["bam/knockdown_3.bam"]
    assert (qc["unassigned_multimapping"], qc["unassigned_nofeatures"], len(qc)) == (17431, 10135, 13)
    assert fc.counts["bam/knockdown_3.bam"].sum() == 244676  # = Assigned in the summary


def test_transcript_quantifiers(shared, quantifiers):
    salmon = readers.read(quantifiers / "salmon" / "control_1")
    assert (salmon.level, salmon.counts.shape, salmon.estimated) == ("transcript", (469, 1), True)
    assert salmon.qc[str(salmon.path)] == {"input_reads": 388462, "percent_mapped": 91.34, "library_type": "ISR"}
    genes = readers.read(quantifiers / "salmon" / "control_1" / "quant.genes.sf")
    assert (genes.level, genes.counts.shape) == ("gene", (351, 1))

    other = readers.read(shared("data/formats/salmon/quant.sf"))
    assert other.counts.shape == (4161, 1) and other.tx2gene is None
    assert other.counts.index[0] == "VAESTLR12016_v1_10001"  # cut at the first '|'
    assert other.counts.iloc[0, 0] == 683.0 and (other.counts.iloc[:, 0] % 1 != 0).any()

    kallisto = readers.read(shared("data/formats/kallisto/abundance.tsv"))
    assert kallisto.counts.shape == (5171, 1) and kallisto.counts.index[0] == "NR_001477"
    assert readers.read(quantifiers / "kallisto" / "control_1").qc[
        str(quantifiers / "kallisto/control_1/abundance.tsv")
    ] == {
        "input_reads": 388462,
        "percent_mapped": 92.08,
    }

    isoforms = readers.read(quantifiers / "rsem" / "control_1.isoforms.results")
    assert isoforms.tx2gene["ENSTSIM00000107"] == "ENSGSIM00000038" and isoforms.length.min().iloc[0] >= 1
    assert isoforms.qc[str(isoforms.path)] == {"input_reads": 357211, "percent_mapped": 97.24}
    assert readers.read(quantifiers / "rsem" / "control_1.genes.results").level == "gene"


def test_gencode_names_carry_tx2gene(tmp_path):
    path = tmp_path / "quant.sf"
    path.write_text(
        "Name\tLength\tEffectiveLength\tTPM\tNumReads\n"
        "ENST00000456328.2|ENSG00000290825.1|-|-|DDX11L2-202|DDX11L2|1657|lncRNA|\t1657\t1500\t10\t5.5\n"
        "ENST00000450305.2|ENSG00000223972.6|-|-|DDX11L1-201|DDX11L1|632|snRNA|\t632\t480\t0\t0\n"
    )
    quant = readers.read(path)
    assert quant.tx2gene.to_dict() == {"ENST00000456328": "ENSG00000290825", "ENST00000450305": "ENSG00000223972"}
    assert quant.gene_names.to_dict() == {"ENSG00000223972": "DDX11L1", "ENSG00000290825": "DDX11L2"}


def test_kallisto_h5_matches_tsv(tmp_path, quantifiers):
    h5py = pytest.importorskip("h5py")
    table = pd.read_csv(quantifiers / "kallisto" / "control_1" / "abundance.tsv", sep="\t")
    with h5py.File(tmp_path / "abundance.h5", "w") as h5:
        h5["est_counts"] = table["est_counts"].to_numpy()
        h5["aux/ids"] = table["target_id"].to_numpy().astype("S")
        h5["aux/lengths"] = table["length"].to_numpy()
        h5["aux/eff_lengths"] = table["eff_length"].to_numpy()
    assert readers.detect_format(tmp_path) == "kallisto"
    quant = readers.read(tmp_path)
    assert quant.counts.iloc[:, 0].tolist() == table["est_counts"].tolist()
    np.testing.assert_allclose(quant.abundance.iloc[:, 0], table["tpm"], rtol=1e-4, atol=1e-3)


def test_dexseq_is_refused(shared):
    path = shared("data/pasilla/dexseq_exon_counts/treated1fb.txt")
    with pytest.raises(InputError, match=r"treated1fb.txt: is DEXSeq exon-bin counts \(dexseq_count.py"):
        readers.read(path)
    with pytest.raises(InputError, match="is DEXSeq exon-bin counts"):
        readers.read(path, format="auto")


def test_matrix_layouts(shared, tmp_path):
    mcf7 = readers.read(shared("data/mcf7_e2/1_counts_file.csv"))
    assert mcf7.counts.shape == (19568, 6) and mcf7.counts.columns[0] == "SRR21043404"
    assert (mcf7.counts > 0).any(axis=1).sum() == 16045
    r_layout = tmp_path / "r.tsv"  # write.table: no header field above the row names
    r_layout.write_text('"s1"\t"s2"\n"g1"\t1\t2\n"g2"\t3\t4\n')
    assert readers.read(r_layout).counts.to_dict() == {"s1": {"g1": 1, "g2": 3}, "s2": {"g1": 2, "g2": 4}}
    named = tmp_path / "named.csv"
    named.write_text("gene_id,gene_name,s1,notes\nENSG1.3,TP53,5,x\nENSG2.1,,0,y\n")
    quant = readers.read(named)
    assert quant.gene_names.to_dict() == {"ENSG1.3": "TP53", "ENSG2.1": None}  # short ids: not Ensembl-style
    assert list(quant.counts.columns) == ["s1"] and "notes" in quant.invalid


def bad(tmp_path, name: str, text: str | bytes):
    path = tmp_path / name
    (path.write_bytes if isinstance(text, bytes) else path.write_text)(text)
    return path


def test_bad_files_fail_with_location(tmp_path, quantifiers):
    def message(path, **kwargs):
        with pytest.raises(InputError) as error:
            readers.read(path, **kwargs)
        return str(error.value)

    missing = tmp_path / "nope.txt"
    assert (
        message(missing)
        == f"{missing}: file or folder not found. Fix: check the path and that the quantifier finished."
    )
    empty = bad(tmp_path, "empty.txt", "")
    assert message(empty) == f"{empty}: file is empty. Fix: rerun the step that wrote it."
    full = gzip.compress(("gene_id\ts1\n" + "".join(f"g{i}\t{i}\n" for i in range(5000))).encode())
    cut = bad(tmp_path, "cut.tsv.gz", full[: len(full) // 2])
    assert message(cut).startswith(f"{cut}: gzip file is truncated or corrupt (")

    htseq = "g1\t5\ng2\t{}\n__no_feature\t1\n__ambiguous\t0\n__too_low_aQual\t0\n__not_aligned\t0\n__alignment_not_unique\t0\n"
    assert message(bad(tmp_path, "frac.txt", htseq.format("2.5"))).endswith(
        "frac.txt, row 2, column '2': non-integer count 2.5. Fix: give raw read counts, not TPM/FPKM or normalised "
        "values; for salmon, kallisto or RSEM give their output files as `quant` so knockseq summarises them to "
        "genes with tximport."
    )
    assert "neg.txt, row 2, column '2': negative count -3." in message(bad(tmp_path, "neg.txt", htseq.format("-3")))
    assert "text.txt, row 2, column '2': 'many' is not a number." in message(
        bad(tmp_path, "text.txt", htseq.format("many"))
    )
    dup = bad(tmp_path, "dup.txt", "g1\t5\n" + htseq.format(1).replace("g2", "g1"))
    assert message(dup) == (
        f"{dup}: 1 duplicated gene ids: g1 (rows 1, 2, 3). Fix: each id must appear once; sum or drop the "
        "duplicates upstream."
    )
    versions = bad(tmp_path, "v.tsv", "gene_id\ts1\nENSG00000001.1\t1\nENSG00000001.2\t2\n")
    assert message(versions) == (
        f"{versions}: removing Ensembl version suffixes makes 1 gene ids collide: ENSG00000001.1 and "
        "ENSG00000001.2. Fix: keep one version of each gene (the file mixes annotation releases)."
    )
    ragged = bad(tmp_path, "ragged.tsv", "gene_id\ts1\ts2\ng1\t1\t2\ng2\t1\t2\t3\n")
    assert message(ragged).startswith(f"{ragged}, row 3: has 4 fields where the lines above have 3.")
    summary = quantifiers / "featurecounts" / "counts.txt.summary"
    assert "is a featureCounts .summary file (read assignment QC), not a count table." in message(summary)
    assert "htseq-count writes 2 (gene id, count)" in message(quantifiers / "salmon" / "control_1", format="htseq")
    with pytest.raises(InputError, match="folder holds no quantifier output"):
        readers.read(tmp_path)


# Gene ids as databases write them: Entrez numbers (GEO's NCBI count tables, Rsubread's inbuilt
# annotation), one zero-padded, a versioned RefSeq id, a symbol and a versioned Ensembl id.
IDS = ["1", "100", "00123", "5530", "NM_000125.4", "ESR1", "ENSG00000091831.24"]
# Read back as written, except the Ensembl version, which every reader strips (by design: the
# annotation's ids are matched without it). RefSeq versions are part of the id and stay.
READ_IDS = [*IDS[:-1], "ENSG00000091831"]
COUNTS = [10 * (i + 1) for i in range(len(IDS))]
HTSEQ_TRAILER = "__no_feature\t7\n__ambiguous\t0\n__too_low_aQual\t0\n__not_aligned\t0\n__alignment_not_unique\t3\n"


def rows(template: str) -> str:
    return "".join(template.format(id=i, n=n) + "\n" for i, n in zip(IDS, COUNTS))


# Layout name -> (file inside tmp_path, expected format, text), each as the tool writes it.
ID_LAYOUTS = {
    "featurecounts": (
        "fc/counts.txt",
        "featurecounts",
        '# Program:featureCounts v2.0.3; Command:"featureCounts" "-a" "hg38" "-F" "SAF" "-o" "fc/counts.txt" '
        '"bam/s1.bam" \nGeneid\tChr\tStart\tEnd\tStrand\tLength\tbam/s1.bam\n'
        + rows("{id}\tchr6;chr6\t100;900\t400;1200\t+;+\t602\t{n}"),
    ),
    "htseq": ("s1.htseq.txt", "htseq", rows("{id}\t{n}") + HTSEQ_TRAILER),
    "star": (
        "star/s1/ReadsPerGene.out.tab",
        "star",
        "N_unmapped\t5\t5\t5\nN_multimapping\t4\t4\t4\nN_noFeature\t3\t90\t3\nN_ambiguous\t1\t0\t0\n"
        + rows("{id}\t{n}\t0\t{n}"),
    ),
    "salmon_transcripts": (
        "salmon/s1/quant.sf",
        "salmon",
        "Name\tLength\tEffectiveLength\tTPM\tNumReads\n" + rows("{id}\t1500\t1270.5\t12.5\t{n}.000"),
    ),
    "salmon_genes": (
        "salmon/s1/quant.genes.sf",
        "salmon",
        "Name\tLength\tEffectiveLength\tTPM\tNumReads\n" + rows("{id}\t1500\t1270.5\t12.5\t{n}"),
    ),
    "kallisto": (
        "kallisto/s1/abundance.tsv",
        "kallisto",
        "target_id\tlength\teff_length\test_counts\ttpm\n" + rows("{id}\t1500\t1301.2\t{n}\t3.1"),
    ),
    "rsem_genes": (
        "s1.genes.results",
        "rsem",
        "gene_id\ttranscript_id(s)\tlength\teffective_length\texpected_count\tTPM\tFPKM\n"
        + rows("{id}\tNM_001130045.2,NM_130786.4\t1500.00\t1301.20\t{n}.00\t3.10\t2.20"),
    ),
    "matrix_geo": ("GSE1_raw_counts_GRCh38.p13_NCBI.tsv", "matrix", "GeneID\tGSM1\tGSM2\n" + rows("{id}\t{n}\t{n}")),
    "matrix_csv": ("counts.csv", "matrix", "Geneid,s1,s2\n" + rows("{id},{n},{n}")),
    "matrix_r": ("counts.txt", "matrix", '"s1"\t"s2"\n' + rows('"{id}"\t{n}\t{n}')),
}


@pytest.mark.parametrize("layout", ID_LAYOUTS)
def test_ids_read_as_written(tmp_path, layout):
    name, format, text = ID_LAYOUTS[layout]
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    assert readers.detect_format(path) == format
    quant = readers.read(path)
    assert list(quant.counts.index) == READ_IDS
    assert quant.counts.iloc[:, 0].tolist() == COUNTS


def test_ids_read_as_written_gzipped_and_in_rsem_isoforms(tmp_path):
    gz = tmp_path / "counts.tsv.gz"
    gz.write_bytes(gzip.compress(("gene_id\ts1\ts2\n" + rows("{id}\t{n}\t{n}")).encode()))
    assert list(readers.read(gz).counts.index) == READ_IDS
    # RSEM isoforms: versioned RefSeq transcripts of Entrez-keyed genes (GTFs from NCBI RefSeq).
    isoforms = tmp_path / "s1.isoforms.results"
    isoforms.write_text(
        "transcript_id\tgene_id\tlength\teffective_length\texpected_count\tTPM\tFPKM\tIsoPct\n"
        + "".join(
            f"NM_{k:06d}.1\t{gene}\t1500\t1301.20\t{n}.00\t3.10\t2.20\t100.00\n"
            for k, (gene, n) in enumerate(zip(IDS, COUNTS))
        )
    )
    quant = readers.read(isoforms)
    assert quant.tx2gene.tolist() == READ_IDS and quant.tx2gene.index[0] == "NM_000000.1"


def test_dexseq_with_entrez_ids_is_refused(tmp_path):
    # dexseq_count.py on an NCBI annotation: exon bins of Entrez genes (5530:001) stay refused.
    path = bad(
        tmp_path,
        "s1.dexseq.txt",
        "1:001\t3\n5530:001\t0\n5530:002\t12\n_ambiguous\t1\n_empty\t9\n_lowaqual\t0\n_notaligned\t0\n",
    )
    assert readers.detect_format(path) == "dexseq"
    with pytest.raises(InputError, match="is DEXSeq exon-bin counts"):
        readers.read(path)


@pytest.mark.parametrize(
    "header",
    [
        "gene_name",
        "symbol",
        "SYMBOL",
        "Symbol",
        "gene_symbol",
        "GeneSymbol",
        "Gene Symbol",
        "Gene name",
        "Gene.name",
        "external_gene_name",
        "hgnc_symbol",
        "mgi_symbol",
        "Associated Gene Name",
        "gene",
        "Gene",
    ],
)
def test_matrix_name_column_spellings(tmp_path, header):
    path = bad(
        tmp_path,
        "counts.tsv",
        f"GeneID\t{header}\tDescription\ts1\n5530\tPPP3CA\tcalcineurin A alpha\t7\n0090\t\t-\t0\n",
    )
    quant = readers.read(path)
    assert quant.name_column == header
    assert quant.gene_names.to_dict() == {"5530": "PPP3CA", "0090": None}
    # Columns that are neither samples nor names stay candidate sample columns, failing only if used.
    assert list(quant.counts.columns) == ["s1"] and list(quant.invalid) == ["Description"]


def test_matrix_first_name_column_wins(tmp_path):
    path = bad(tmp_path, "counts.csv", "GeneID,Symbol,gene_name,s1\n1,A1BG,a1bg,3\n")
    quant = readers.read(path)
    assert quant.name_column == "Symbol" and quant.gene_names.to_dict() == {"1": "A1BG"}
    assert "gene_name" in quant.invalid  # the second one is an ordinary extra column
    # Headers that merely contain a name word are not name columns.
    quant = readers.read(
        bad(tmp_path, "other.tsv", "GeneID\tgene_biotype\tsymbol_source\ts1\n1\tprotein_coding\tHGNC\t3\n")
    )
    assert quant.name_column is None and quant.gene_names is None

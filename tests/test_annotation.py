"""Annotation: gene names and tx2gene from GTFs and tables, real files and edge cases."""

from __future__ import annotations

import gzip

import pandas as pd
import pytest

from knockseq.annotation import load_annotation, load_tx2gene
from knockseq.errors import InputError


def test_gtf_names_and_tx2gene(quantifiers, tmp_path):
    gtf = quantifiers / "reference" / "genes.gtf.gz"
    names = load_annotation(gtf)
    assert names.shape == (351,) and names.notna().all()
    assert names[["ENSGSIM00000038", "ENSGSIM00000326"]].tolist() == ["KRAS", "ACSL4"]
    assert set(names) >= {"PPP3CA", "PPP3CB", "GREB1", "PGR", "ESR1"}

    from_gtf = load_tx2gene(gtf).sort_index()
    from_table = load_tx2gene(quantifiers / "reference" / "tx2gene.tsv").sort_index()
    assert from_gtf.shape == (469, 2) and from_gtf["gene_id"].nunique() == 351
    pd.testing.assert_frame_equal(from_gtf, from_table)
    # tx2gene.tsv names its gene_id/gene_name columns, so it serves as an annotation as well.
    assert load_annotation(quantifiers / "reference" / "tx2gene.tsv").sort_index().equals(names.sort_index())

    # A GTF without gene lines (names from transcript/exon lines), versioned, plain text.
    lines = gzip.decompress(gtf.read_bytes()).decode().splitlines()
    kept = [
        line.replace('gene_id "ENSGSIM00000038"', 'gene_id "ENSGSIM00000038.4"')
        for line in lines
        if "\tgene\t" not in line
    ]
    (tmp_path / "no_genes.gtf").write_text("\n".join(kept) + "\n")
    assert load_annotation(tmp_path / "no_genes.gtf").sort_index().equals(names.sort_index())


def test_human_table_covers_airway(shared):
    names = load_annotation(shared("data/annotation/human_ensembl_gene_names.tsv.gz"))
    assert names.shape == (90979,) and int(names.isna().sum()) == 2259
    counts = pd.read_csv(shared("data/airway/counts.tsv.gz"), sep="\t", index_col=0)
    expressed = counts.index[counts.sum(axis=1) > 0]
    assert len(expressed) == 33469
    assert names.reindex(expressed).notna().all()  # 100% of expressed ids named
    assert round(100 * names.reindex(counts.index).notna().mean(), 2) == 99.34


def test_tables_with_and_without_header(tmp_path):
    (tmp_path / "plain.tsv").write_text("ENSG00000141510.18\tTP53\nENSG00000000001\t\nENSG00000000002\tNA\n")
    names = load_annotation(tmp_path / "plain.tsv")
    assert names["ENSG00000141510"] == "TP53" and names.drop("ENSG00000141510").isna().all()
    (tmp_path / "tx.csv").write_text("TXNAME,GENEID\nENST1,G1\nENST2,G1\n")
    assert load_tx2gene(tmp_path / "tx.csv")["gene_id"].to_dict() == {"ENST1": "G1", "ENST2": "G1"}


def test_annotation_errors(tmp_path):
    conflict = tmp_path / "conflict.tsv"
    conflict.write_text("gene_id\tgene_name\nG1\tA\nG1\tB\n")
    with pytest.raises(InputError) as error:
        load_annotation(conflict)
    assert str(error.value) == (
        f"{conflict}: 1 duplicated gene ids with different names: G1 (rows 2, 3). Fix: each id must appear once; "
        "sum or drop the duplicates upstream."
    )
    two_genes = tmp_path / "tx.tsv"
    two_genes.write_text("transcript_id\tgene_id\nT1\tG1\nT1\tG2\n")
    with pytest.raises(InputError, match="1 duplicated transcript ids mapped to different genes: T1"):
        load_tx2gene(two_genes)
    versions = tmp_path / "v.tsv"
    versions.write_text("ENSG00000000001.1\tA\nENSG00000000001.2\tA\n")
    with pytest.raises(InputError, match=r"collide: ENSG00000000001.1 and ENSG00000000001.2"):
        load_annotation(versions)
    gtf = tmp_path / "bad.gtf"
    gtf.write_text('chr1\tx\tgene\t1\t9\t.\t+\t.\tgene_id "G1"; gene_name "A";\nchr1\tx\texon\t1\t9\t.\t+\n')
    with pytest.raises(InputError, match=r"bad.gtf, row 2: has 7 tab-separated fields; a GTF line has 9."):
        load_annotation(gtf)


def test_entrez_ids_stay_text(tmp_path):
    # NCBI's GEO annotation table (GeneID, Symbol, Description ...), first two columns used.
    ncbi = tmp_path / "Human.GRCh38.p13.annot.tsv"
    ncbi.write_text(
        "GeneID\tSymbol\tDescription\tGeneType\n1\tA1BG\talpha-1-B glycoprotein\tprotein-coding\n"
        "0090\tX90\t-\tncRNA\n90\tACVR1\tactivin A receptor type 1\tprotein-coding\n"
    )
    assert load_annotation(ncbi).to_dict() == {"1": "A1BG", "0090": "X90", "90": "ACVR1"}
    (tmp_path / "plain.csv").write_text("5530,PPP3CA\n00123,NA\n")
    names = load_annotation(tmp_path / "plain.csv")
    assert names.index.tolist() == ["5530", "00123"] and names["5530"] == "PPP3CA" and pd.isna(names["00123"])
    gtf = tmp_path / "entrez.gtf"
    gtf.write_text(
        'chr6\tRefSeq\ttranscript\t1\t9\t.\t+\t.\tgene_id "0090"; transcript_id "NM_000125.4"; gene_name "X90";\n'
        'chr6\tRefSeq\texon\t1\t9\t.\t+\t.\tgene_id "0090"; transcript_id "NM_000125.4"; gene_name "X90";\n'
    )
    assert load_annotation(gtf).to_dict() == {"0090": "X90"}
    assert load_tx2gene(gtf).to_dict("index") == {"NM_000125.4": {"gene_id": "0090", "gene_name": "X90"}}


BIOMART = (
    "Gene stable ID\tGene stable ID version\tTranscript stable ID\tGene name\tChromosome/scaffold name\n"
    "ENSG00000196208\tENSG00000196208.14\tENST00000381486\tGREB1\t2\n"
    "ENSG00000082175\tENSG00000082175.15\tENST00000263463\tPGR\t11\n"
)


def test_a_biomart_export_serves_by_its_column_names_and_the_log_says_which(tmp_path, caplog):
    path = tmp_path / "mart_export.txt"
    path.write_text(BIOMART)
    with caplog.at_level("INFO", logger="knockseq"):
        names = load_annotation(path)
        tx2gene = load_tx2gene(path)
    assert names.to_dict() == {"ENSG00000196208": "GREB1", "ENSG00000082175": "PGR"}
    assert tx2gene.loc["ENST00000381486"].tolist() == ["ENSG00000196208", "GREB1"]
    assert caplog.messages == [
        f"{path} (gene_id -> gene_name table): gene_id from 'Gene stable ID', gene_name from 'Gene name'.",
        f"{path} (tx2gene table): transcript_id from 'Transcript stable ID', gene_id from 'Gene stable ID', "
        "gene_name from 'Gene name'.",
    ]

"""The merged count table: every tool on the simulated knockdown, tximport rules, sheets, errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from knockseq import io, readers
from knockseq.annotation import load_tx2gene
from knockseq.counts import build_counts, write_counts
from knockseq.errors import InputError
from knockseq.tximport import summarise_to_genes

SAMPLES = ["control_1", "control_2", "control_3", "knockdown_1", "knockdown_2", "knockdown_3"]
HTSEQ_TRAILER = "__no_feature\t1\n__ambiguous\t0\n__too_low_aQual\t0\n__not_aligned\t0\n__alignment_not_unique\t0\n"


def sheet(quant: str | None = None, samples=SAMPLES, **columns) -> pd.DataFrame:
    """A sample sheet; ``quant`` is a template like ``htseq/{}.htseq.txt``."""
    frame = pd.DataFrame({"sample": samples, "condition": [s.split("_")[0] for s in samples], **columns})
    if quant is not None:
        frame["quant"] = [quant.format(s) for s in samples]
    return frame


def log2fc(table: pd.DataFrame, gene: str) -> float:
    """Naive CPM log2 fold change knockdown / control (mean CPM + 0.5), as the README computes it."""
    values = table.set_index("gene_name")[SAMPLES]
    cpm = values / values.sum() * 1e6
    return float(np.log2((cpm.loc[gene, SAMPLES[3:]].mean() + 0.5) / (cpm.loc[gene, SAMPLES[:3]].mean() + 0.5)))


TOOLS = {
    "star": ("star/{}", {}),
    "htseq": ("htseq/{}.htseq.txt", {}),
    "featurecounts": ("featurecounts/{}.featureCounts.txt", {}),
    "featurecounts_table": (None, {"counts": "featurecounts/counts.txt"}),
    "salmon": ("salmon/{}", {"tx2gene": "reference/tx2gene.tsv"}),
    "kallisto": ("kallisto/{}", {"tx2gene": "reference/genes.gtf.gz"}),
    "rsem": ("rsem/{}.isoforms.results", {}),
}


@pytest.mark.parametrize("tool", TOOLS)
def test_every_tool_gives_the_knockdown(tool, quantifiers):
    quant, options = TOOLS[tool]
    options = {key: quantifiers / value for key, value in options.items()}
    table, qc, notes = build_counts(
        sheet(quant), base_dir=quantifiers, annotation=quantifiers / "reference/genes.gtf.gz", **options
    )
    assert list(table.columns) == ["gene_id", "gene_name", *SAMPLES] and table.shape == (351, 8)
    assert table["gene_id"].is_monotonic_increasing and (table[SAMPLES].dtypes == np.int64).all()
    assert table["gene_name"].notna().all() and list(qc["sample"]) == SAMPLES
    assert (qc["assigned"] == table[SAMPLES].sum().to_numpy()).all()
    for gene in ("PPP3CA", "PPP3CB"):  # README: -1.93 .. -1.96 for every tool
        assert -1.965 <= log2fc(table, gene) <= -1.925, (tool, gene, log2fc(table, gene))
    if tool == "star":
        assert table[SAMPLES].sum().tolist() == [358206, 215605, 445653, 265101, 398300, 244676]
        assert set(qc["strandedness"]) == {"reverse"} and qc.loc[0, "percent_uniquely_mapped"] == 96.04
    if tool in ("salmon", "kallisto", "rsem"):
        assert set(qc["counts_from_abundance"]) == {"lengthScaledTPM"}
        assert "countsFromAbundance=lengthScaledTPM" in notes[-1] and "rounded to integers" in notes[-1]


def salmon_transcripts(quantifiers):
    parsed = [readers.read(quantifiers / "salmon" / s) for s in SAMPLES]
    frames = {
        f: pd.concat([getattr(q, f).iloc[:, 0] for q in parsed], axis=1, keys=SAMPLES)
        for f in ("counts", "abundance", "length")
    }
    return frames, load_tx2gene(quantifiers / "reference" / "tx2gene.tsv")["gene_id"]


def test_tximport_rules_on_salmon(quantifiers):
    frames, tx2gene = salmon_transcripts(quantifiers)
    summed = frames["counts"].groupby(tx2gene).sum()
    plain = summarise_to_genes(*frames.values(), tx2gene.loc[frames["counts"].index], "no")
    pd.testing.assert_frame_equal(plain.loc[summed.index], summed, check_names=False, rtol=1e-12)
    scaled = summarise_to_genes(*frames.values(), tx2gene.loc[frames["counts"].index], "lengthScaledTPM")
    np.testing.assert_allclose(scaled.sum(), frames["counts"].sum(), rtol=1e-12)  # library sizes kept
    assert not np.allclose(scaled.loc[summed.index], summed)  # ... but per-gene values length-corrected
    # salmon's own quant.genes.sf (printed to 3 decimals) is the same sum.
    for sample in ("control_1", "knockdown_3"):
        genes = readers.read(quantifiers / "salmon" / sample / "quant.genes.sf").counts.iloc[:, 0]
        np.testing.assert_allclose(genes.loc[summed.index], summed[sample], atol=0.0011)
    table, _, notes = build_counts(
        sheet("salmon/{}"),
        base_dir=quantifiers,
        tx2gene=quantifiers / "reference/tx2gene.tsv",
        counts_from_abundance="no",
    )
    assert (table.set_index("gene_id")[SAMPLES] == summed.round().astype("int64")).all().all()
    assert "countsFromAbundance=no: plain sums of estimated counts" in notes[-1]


def test_tximport_formulas_by_hand():
    index = pd.Index(["t1", "t2", "t3", "t4"])
    counts = pd.DataFrame({"a": [100.0, 300, 50, 0], "b": [200.0, 0, 60, 0]}, index=index)
    abundance = pd.DataFrame({"a": [10.0, 30, 5, 0], "b": [20.0, 0, 5, 0]}, index=index)
    length = pd.DataFrame({"a": [1000.0, 2000, 500, 800], "b": [1000.0, 2000, 600, 900]}, index=index)
    tx2gene = pd.Series(["gZ", "gZ", "gA", "gB"], index=index)

    def run(method):
        return summarise_to_genes(counts, abundance, length, tx2gene, method).loc[["gZ", "gA", "gB"]]

    assert run("no").to_numpy().tolist() == [[400, 200], [50, 60], [0, 0]]
    # scaledTPM: gene TPM a (40, 5, 0), b (20, 5, 0) scaled to the totals 450 and 260.
    np.testing.assert_allclose(run("scaledTPM"), [[400, 208], [50, 52], [0, 0]])
    # lengthScaledTPM: gene lengths a (1750, 500), b (1000, 600), means 1375 and 550; gB (no
    # abundance) gets its transcripts' mean length 850. a: 40*1375=55000, 5*550=2750 -> x 450/57750.
    np.testing.assert_allclose(
        run("lengthScaledTPM"),
        [[55000 * 450 / 57750, 27500 * 260 / 30250], [2750 * 450 / 57750, 2750 * 260 / 30250], [0, 0]],
        rtol=1e-12,
    )


def test_counts_table_columns_picked_by_sheet(quantifiers, tmp_path):
    path = quantifiers / "featurecounts" / "counts.txt"
    table, qc, notes = build_counts(sheet(samples=SAMPLES[:2] + SAMPLES[3:5]), base_dir=tmp_path, counts=path)
    assert list(table.columns[2:]) == ["control_1", "control_2", "knockdown_1", "knockdown_2"]
    assert notes == [
        f"ignored extra columns bam/control_3.bam, bam/knockdown_3.bam of {path}.",
        "no annotation given: the 351 Ensembl gene ids have no gene_name (set `annotation:`).",
    ]
    assert table["gene_name"].isna().all()
    renamed = sheet(samples=["ctl", "kd"], column=["bam/control_3.bam", "bam/knockdown_1.bam"])
    table, qc, _ = build_counts(renamed, base_dir=tmp_path, counts=path)
    assert table[["ctl", "kd"]].sum().tolist() == [445654, 265101]
    assert list(qc["format"]) == ["featurecounts"] * 2 and qc.loc[0, "unassigned_multimapping"] == 31833

    star_named = tmp_path / "star_named.tsv"
    star_named.write_text("Geneid\tstar/s1/Aligned.sortedByCoord.out.bam\tstar/s2_Aligned.out.bam\nA\t1\t2\n")
    table, _, notes = build_counts(sheet(samples=["s1", "s2"]), base_dir=tmp_path, counts=star_named)
    assert table[["s1", "s2"]].to_numpy().tolist() == [[1, 2]] and notes == []
    assert table.loc[0, "gene_name"] == "A"  # not an Ensembl id: the id is the name


def test_mcf7_and_airway_matrices(shared):
    names = shared("data/annotation/human_ensembl_gene_names.tsv.gz")
    mcf7 = pd.read_csv(shared("data/mcf7_e2/samples.tsv"), sep="\t")
    table, qc, notes = build_counts(
        mcf7, base_dir=".", counts=shared("data/mcf7_e2/1_counts_file.csv"), annotation=names
    )
    assert table.shape == (19568, 8) and list(table.columns[2:]) == list(mcf7["sample"])
    assert notes == [f"2 of 19568 genes have no gene_name in {names}."]
    values = table.set_index("gene_name")[list(mcf7["sample"])]
    cpm = values / values.sum() * 1e6
    e2, ctrl = (list(mcf7.loc[mcf7["condition"] == c, "sample"]) for c in ("E2", "control"))
    greb1 = np.log2((cpm.loc["GREB1", e2].mean() + 0.5) / (cpm.loc["GREB1", ctrl].mean() + 0.5))
    assert round(greb1, 2) == 3.03  # README anchor

    airway = pd.read_csv(shared("data/airway/samples.tsv"), sep="\t").rename(columns={"dex": "condition"})
    table, qc, notes = build_counts(airway, base_dir=".", counts=shared("data/airway/counts.tsv.gz"), annotation=names)
    expressed = table[table[list(airway["sample"])].sum(axis=1) > 0]
    assert len(expressed) == 33469 and expressed["gene_name"].notna().all()
    assert qc.set_index("sample").at["SRR1039508", "assigned"] == 20637971


def test_write_counts_round_trip(quantifiers, tmp_path):
    table, qc, _ = build_counts(sheet("htseq/{}.htseq.txt"), base_dir=quantifiers)
    write_counts(table, qc, tmp_path / "counts" / "counts.tsv", tmp_path / "counts" / "qc.tsv")
    back = pd.read_csv(tmp_path / "counts" / "counts.tsv", sep="\t")
    pd.testing.assert_frame_equal(back, table.astype({"gene_name": float}))
    assert (tmp_path / "counts" / "counts.tsv").read_text().splitlines()[1].startswith("ENSGSIM00000001\tNA\t2\t")
    assert pd.read_csv(tmp_path / "counts" / "qc.tsv", sep="\t").loc[0, "unassigned_alignment_not_unique"] == 6136


def htseq_file(folder, name: str, genes: dict[str, object]):
    (folder / name).write_text("".join(f"{g}\t{n}\n" for g, n in genes.items()) + HTSEQ_TRAILER)


def fails(samples: pd.DataFrame, base_dir, **options) -> str:
    with pytest.raises(InputError) as error:
        build_counts(samples, base_dir=base_dir, **options)
    return str(error.value)


def test_quant_path_and_option_errors(tmp_path):
    # The sheet's own checks (columns, cells, names) are read_sample_sheet's (tests/test_config.py).
    htseq_file(tmp_path, "a.txt", {"g1": 1, "g2": 2})
    assert fails(sheet("{}.txt", samples=["a", "b"]), tmp_path) == (
        f"{tmp_path / 'b.txt'}: file or folder not found (quant of sample 'b', row 3 of sample sheet). "
        "Fix: check the path and that the quantifier finished."
    )
    assert fails(sheet("{}.txt", samples=["a"]), tmp_path, format="bam").startswith(
        "column 'format': unknown value 'bam'. Fix: use one of auto, featurecounts, htseq, star, salmon"
    )


def test_input_consistency_errors(tmp_path, quantifiers):
    htseq_file(tmp_path, "a.txt", {"g1": 1, "g2": 2, "g3": 3, "g4": 4})
    htseq_file(tmp_path, "b.txt", {"g1": 1, "g9": 2})
    assert fails(sheet("{}.txt", samples=["a", "b"]), tmp_path) == (
        f"{tmp_path / 'b.txt'}: samples a and b have different gene sets: 3 genes of a are missing from b and 1 "
        "genes of b are not in a (e.g. g2, g3, g4). Fix: quantify every sample against the same annotation / index."
    )
    mixed = sheet(samples=["a", "s"]).assign(quant=["a.txt", str(quantifiers / "star/control_1")])
    assert fails(mixed, tmp_path).startswith(
        "sample sheet, column 'quant': samples come from different formats or levels (htseq gene-level: a; "
        "star gene-level: s)."
    )
    for name, reverse in (("r", 90), ("u", 50)):
        (tmp_path / name).mkdir()
        rows = "N_unmapped\t1\t1\t1\nN_multimapping\t1\t1\t1\nN_noFeature\t1\t1\t1\nN_ambiguous\t1\t1\t1\n"
        (tmp_path / name / "ReadsPerGene.out.tab").write_text(rows + f"g1\t100\t{100 - reverse}\t{reverse}\n")
    assert fails(sheet("{}", samples=["r", "u"]), tmp_path).startswith(
        "column 'strandedness': strandedness inferred differently for different samples (r: reverse, u: unstranded)."
    )

    matrix = tmp_path / "m.tsv"
    matrix.write_text("gene_id\ta\tb\tjunk\ng1\t1\t2.5\tx\ng2\t3\t4\ty\n")
    assert fails(sheet(samples=["a", "b"]), tmp_path, counts=matrix) == (
        f"{matrix}, row 2, column 'b': non-integer count 2.5. Fix: give raw read counts, not TPM/FPKM or "
        "normalised values; for salmon, kallisto or RSEM give their output files as `quant` so knockseq "
        "summarises them to genes with tximport."
    )
    table, _, notes = build_counts(sheet(samples=["a"]), base_dir=tmp_path, counts=matrix)
    assert table["a"].tolist() == [1, 3] and notes[0] == f"ignored extra columns b, junk of {matrix}."
    assert fails(sheet(samples=["a", "b"], column=["a", "a"]), tmp_path, counts=matrix).startswith(
        f"{matrix}, column 'a': samples a, b all use column 'a'."
    )
    assert fails(sheet(samples=["z"]), tmp_path, counts=matrix) == (
        f"{matrix}: no column for sample 'z' (row 2 of sample sheet); its columns are: a, b, junk. Fix: add the "
        "sample's column to the table, remove the sample from the sheet, or name its column in the sheet's "
        "`column` field."
    )

    salmon = sheet("salmon/{}", samples=SAMPLES[:2])
    assert fails(salmon, quantifiers) == (
        f"{quantifiers / 'salmon/control_1/quant.sf'}: is transcript-level salmon output and no transcript -> gene "
        "map is known. Fix: set `tx2gene:` to the GTF the index was built from, or to a transcript_id<TAB>gene_id "
        "table."
    )
    (tmp_path / "tx.tsv").write_text("transcript_id\tgene_id\nENST1\tENSG1\n")
    assert "none of its 469 transcript ids (e.g. ENSTSIM00000107" in fails(
        salmon, quantifiers, tx2gene=tmp_path / "tx.tsv"
    )
    (tmp_path / "names.tsv").write_text("gene_id\tgene_name\nENSG00000141510\tTP53\n")
    assert fails(sheet("htseq/{}.htseq.txt"), quantifiers, annotation=tmp_path / "names.tsv") == (
        f"{tmp_path / 'names.tsv'}: shares no gene id with the counts: the counts are keyed by Ensembl gene ids (e.g. "
        "ENSGSIM00000001, ENSGSIM00000002, ENSGSIM00000003) but the annotation's ids look like Ensembl gene ids (e.g. "
        "ENSG00000141510). Fix: give the annotation of the species and genome release the counts were made with."
    )


def test_entrez_ids_survive_to_counts_tsv(tmp_path):
    # GEO's NCBI-generated layout: GeneID then samples; 90 and 0090 are two genes.
    ids = ["1", "100", "1000", "90", "0090", "5530", "NM_000125.4"]
    matrix = tmp_path / "GSE1_raw_counts_GRCh38.p13_NCBI.tsv"
    matrix.write_text("GeneID\ta\tb\n" + "".join(f"{g}\t{i}\t{2 * i}\n" for i, g in enumerate(ids)))
    annotation = tmp_path / "Human.GRCh38.p13.annot.tsv"  # NCBI's annotation: GeneID, Symbol, Description ...
    annotation.write_text(
        "GeneID\tSymbol\tDescription\n1\tA1BG\talpha-1-B glycoprotein\n5530\tPPP3CA\tcalcineurin\n0090\tX90\t-\n"
    )
    table, qc, notes = build_counts(sheet(samples=["a", "b"]), base_dir=tmp_path, counts=matrix, annotation=annotation)
    write_counts(table, qc, tmp_path / "counts.tsv", tmp_path / "qc.tsv")
    lines = (tmp_path / "counts.tsv").read_text().splitlines()
    assert [line.split("\t")[:3] for line in lines] == [
        ["gene_id", "gene_name", "a"],
        ["0090", "X90", "4"],
        ["1", "A1BG", "0"],
        ["100", "NA", "1"],
        ["1000", "NA", "2"],
        ["5530", "PPP3CA", "5"],
        ["90", "NA", "3"],
        ["NM_000125.4", "NA", "6"],
    ]
    back = io.read_table(tmp_path / "counts.tsv")
    assert back["gene_id"].tolist() == sorted(ids) and back["a"].dtype == np.int64
    assert notes == [f"4 of 7 genes have no gene_name in {annotation}."]


def test_matrix_name_column_names_genes_unless_annotation_is_set(tmp_path):
    matrix = tmp_path / "counts.tsv"
    matrix.write_text("GeneID\tSymbol\tDescription\ta\tb\n5530\tPPP3CA\tcalcineurin\t5\t6\n0090\t\t-\t1\t2\n")
    table, _, notes = build_counts(sheet(samples=["a", "b"]), base_dir=tmp_path, counts=matrix)
    assert table["gene_id"].tolist() == ["0090", "5530"] and table["gene_name"].fillna("NA").tolist() == [
        "NA",
        "PPP3CA",
    ]
    assert notes == [
        f"ignored extra columns Description of {matrix}.",
        f"gene names from column 'Symbol' of {matrix} (1 of 2 genes have none); set `annotation:` to name genes "
        "from another source.",
    ]
    annotation = tmp_path / "names.tsv"
    annotation.write_text("gene_id\tgene_name\n5530\tCNA1\n0090\tX90\n")
    table, _, notes = build_counts(sheet(samples=["a", "b"]), base_dir=tmp_path, counts=matrix, annotation=annotation)
    assert table["gene_name"].tolist() == ["X90", "CNA1"]
    assert notes[1] == (
        f"gene names from `annotation:` {annotation}; column 'Symbol' of {matrix} not used (the configured "
        "annotation wins)."
    )

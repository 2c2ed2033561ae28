"""Cases about the files the sample sheet points at, the sheet itself and the count values.

Every bad file is made inside the case's project from the bundled example's htseq-count files:
:func:`write_format` rewrites all six samples as one quantifier's output (and points the sheet, or
``counts:`` for one table of every sample, at them), then the case damages one file. Nothing
binary or large is committed.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable
from pathlib import Path

from badinputs.harness import Case, edit_config, read_sheet, write_sheet

SHEET = "config/samples.tsv"
#: The file every single-file case damages: the first sample's.
FIRST = "control_1"
TRAILER_PREFIX = "__"
FC_COMMENT = '# Program:featureCounts v2.0.6; Command:"featureCounts" "-a" "genes.gtf" "-o" "counts.txt"'


# ---- the example, rewritten as each quantifier writes it ---------------------------------------


def samples(project: Path) -> list[str]:
    """Sample names of the sheet, in order."""
    return [row[0] for row in read_sheet(project)[1:]]


def htseq_rows(project: Path, sample: str) -> tuple[list[tuple[str, int]], list[str]]:
    """One example sample: its (gene, count) rows and htseq-count's ``__`` trailer lines."""
    lines = (project / f"example/htseq/{sample}.htseq.txt").read_text().splitlines()
    genes = [(gene, int(n)) for gene, n in (line.split("\t") for line in lines if not line.startswith(TRAILER_PREFIX))]
    return genes, [line for line in lines if line.startswith(TRAILER_PREFIX)]


def _star(genes: list[tuple[str, int]], trailer: list[str]) -> str:
    """A reverse-stranded library: column 4 holds the counts, column 3 a few antisense reads."""
    special = {line.split("\t")[0]: int(line.split("\t")[1]) for line in trailer}
    n_rows = {
        "N_unmapped": "__not_aligned",
        "N_multimapping": "__alignment_not_unique",
        "N_noFeature": "__no_feature",
        "N_ambiguous": "__ambiguous",
    }
    rows = [f"{name}\t{special[key]}\t{special[key]}\t{special[key]}" for name, key in n_rows.items()]
    return "\n".join(rows + [f"{g}\t{n + n % 7}\t{n % 7}\t{n}" for g, n in genes]) + "\n"


def _salmon(genes: list[tuple[str, int]]) -> str:
    return "Name\tLength\tEffectiveLength\tTPM\tNumReads\n" + "".join(
        f"{g}\t2000\t1800.000\t{n / 18:.6f}\t{n}.000\n" for g, n in genes
    )


def _kallisto(genes: list[tuple[str, int]]) -> str:
    return "target_id\tlength\teff_length\test_counts\ttpm\n" + "".join(
        f"{g}\t2000\t1800.5\t{n}\t{n / 18:.5f}\n" for g, n in genes
    )


def _rsem(genes: list[tuple[str, int]]) -> str:
    return "gene_id\ttranscript_id(s)\tlength\teffective_length\texpected_count\tTPM\tFPKM\n" + "".join(
        f"{g}\t{g}-201\t2000.00\t1800.00\t{n}.00\t{n / 18:.2f}\t{n / 20:.2f}\n" for g, n in genes
    )


def _featurecounts(genes: list[str], columns: dict[str, list[int]]) -> str:
    header = "\t".join(["Geneid", "Chr", "Start", "End", "Strand", "Length", *columns])
    rows = [
        "\t".join(
            [
                gene,
                "chr1",
                str(1000 * i + 1),
                str(1000 * i + 900),
                "+",
                "900",
                *(str(counts[i]) for counts in columns.values()),
            ]
        )
        for i, gene in enumerate(genes)
    ]
    return "\n".join([FC_COMMENT, header, *rows]) + "\n"


def _matrix(genes: list[str], columns: dict[str, list[int]], sep: str) -> str:
    rows = [sep.join(["gene_id", *columns])]
    rows += [sep.join([gene, *(str(c[i]) for c in columns.values())]) for i, gene in enumerate(genes)]
    return "\n".join(rows) + "\n"


#: Where :func:`write_format` writes each format: one file per sample (``{}``: the sample's name),
#: or one table of every sample, given as ``counts:``.
LAYOUT = {
    "htseq": "example/htseq/{}.htseq.txt",
    "featurecounts_single": "example/featurecounts/{}.featureCounts.txt",
    "star": "example/star/{}/ReadsPerGene.out.tab",
    "salmon": "example/salmon/{}/quant.sf",
    "kallisto": "example/kallisto/{}/abundance.tsv",
    "rsem": "example/rsem/{}.genes.results",
    "featurecounts": "example/featurecounts/counts.txt",
    "matrix": "example/counts.tsv",
    "matrix_csv": "example/counts.csv",
}
#: Formats whose sheet `quant` names the output folder, as users give them.
FOLDERS = ("star", "salmon")


def write_format(project: Path, format: str) -> str:
    """Rewrite every sample of the example as ``format`` and point the run at it.

    Returns
    -------
    str
        The project-relative path of the first sample's file (or of the one table), the one
        cases damage.
    """
    names = samples(project)
    rows = {sample: htseq_rows(project, sample) for sample in names}
    genes = [gene for gene, _ in rows[names[0]][0]]
    if format in ("featurecounts", "matrix", "matrix_csv"):
        path = LAYOUT[format]
        if format == "featurecounts":
            text = _featurecounts(genes, {f"bam/{s}.bam": [n for _, n in rows[s][0]] for s in names})
        else:
            sep = "," if format == "matrix_csv" else "\t"
            text = _matrix(genes, {s: [n for _, n in rows[s][0]] for s in names}, sep)
        (project / path).parent.mkdir(parents=True, exist_ok=True)
        (project / path).write_text(text)
        edit_config(project, counts=path)
        return path
    for sample in names:
        genes_counts, trailer = rows[sample]
        target = project / LAYOUT[format].format(sample)
        target.parent.mkdir(parents=True, exist_ok=True)
        if format == "htseq":
            text = (project / LAYOUT["htseq"].format(sample)).read_text()
        elif format == "featurecounts_single":
            text = _featurecounts(genes, {f"bam/{sample}.bam": [n for _, n in genes_counts]})
        elif format == "star":
            text = _star(genes_counts, trailer)
        else:
            text = {"salmon": _salmon, "kallisto": _kallisto, "rsem": _rsem}[format](genes_counts)
        target.write_text(text)
    sheet = read_sheet(project)
    quant = sheet[0].index("quant")
    for row in sheet[1:]:
        path = LAYOUT[format].format(row[0])
        row[quant] = str(Path(path).parent) if format in FOLDERS else path
    write_sheet(project, sheet)
    return LAYOUT[format].format(FIRST)


# ---- damage --------------------------------------------------------------------------------------


def _edit(path: Path, change: Callable[[list[str]], list[str]]) -> None:
    """Rewrite a text file line by line (line endings normalised to ``\\n``)."""
    path.write_text("\n".join(change(path.read_text().splitlines())) + "\n")


def _cut(path: Path) -> None:
    """Cut the file in the middle of a line, as an interrupted copy leaves it."""
    text = path.read_text()
    middle = text.index("\n", len(text) // 2) + 4
    path.write_text(text[:middle])


def _gzip_cut(path: Path) -> None:
    """Replace the file by a gzip stream cut short (the same name: the format comes from content)."""
    data = gzip.compress(path.read_bytes())
    path.write_bytes(data[: len(data) // 2])


def _drop_column(index: int) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        return [
            line if line.startswith("#") else "\t".join(f for i, f in enumerate(line.split("\t")) if i != index)
            for line in lines
        ]

    return change


def _rename_header(old: str, new: str) -> Callable[[list[str]], list[str]]:
    def change(lines: list[str]) -> list[str]:
        first = next(i for i, line in enumerate(lines) if not line.startswith("#"))
        lines[first] = lines[first].replace(old, new, 1)
        return lines

    return change


def damaged(format: str, damage: Callable[[Path], None]) -> Callable[[Path], None]:
    """A setup writing ``format`` then damaging the first sample's file (or the one table)."""

    def setup(project: Path) -> None:
        damage(project / write_format(project, format))

    return setup


def edited(format: str, change: Callable[[list[str]], list[str]]) -> Callable[[Path], None]:
    return damaged(format, lambda path: _edit(path, change))


def emptied(format: str) -> Callable[[Path], None]:
    return damaged(format, lambda path: path.write_text(""))


def cut(format: str) -> Callable[[Path], None]:
    return damaged(format, _cut)


def gzip_cut(format: str) -> Callable[[Path], None]:
    return damaged(format, _gzip_cut)


def in_format(format: str) -> Callable[[Path], None]:
    return damaged(format, lambda path: None)


# ---- the sheet ---------------------------------------------------------------------------------


def sheet_cell(row: int, column: str, value: str) -> Callable[[Path], None]:
    """Set one cell of the sheet (``row`` counted as in messages: the header is row 1)."""

    def setup(project: Path) -> None:
        rows = read_sheet(project)
        rows[row - 1][rows[0].index(column)] = value
        write_sheet(project, rows)

    return setup


def sheet_text(change: Callable[[str], str]) -> Callable[[Path], None]:
    """Rewrite the sheet's whole text (line endings written as given)."""

    def setup(project: Path) -> None:
        path = project / SHEET
        path.write_bytes(change(path.read_text()).encode())

    return setup


def _drop_sheet_column(column: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        rows = read_sheet(project)
        index = rows[0].index(column)
        write_sheet(project, [[f for i, f in enumerate(row) if i != index] for row in rows])

    return setup


def _csv_sheet(project: Path) -> None:
    write_sheet(project, read_sheet(project), sep=",")


def _excel_sep_line(project: Path) -> None:
    rows = read_sheet(project)
    (project / SHEET).write_text("sep=,\n" + "".join(",".join(row) + "\r\n" for row in rows))


def _duplicate_sample(project: Path) -> None:
    rows = read_sheet(project)
    rows[2][0] = rows[1][0]
    write_sheet(project, rows)


def _short_row(project: Path) -> None:
    rows = read_sheet(project)
    rows[3] = rows[3][:2]
    write_sheet(project, rows)


def _long_row(project: Path) -> None:
    rows = read_sheet(project)
    rows[3].append("extra")
    write_sheet(project, rows)


# ---- count values ------------------------------------------------------------------------------


def matrix_cell(gene_row: int, sample: str, value: str) -> Callable[[Path], None]:
    """The example as a count matrix (``counts:``) with one cell replaced (row as in messages)."""

    def setup(project: Path) -> None:
        path = project / write_format(project, "matrix")
        lines = path.read_text().splitlines()
        fields = lines[gene_row - 1].split("\t")
        fields[lines[0].split("\t").index(sample)] = value
        lines[gene_row - 1] = "\t".join(fields)
        path.write_text("\n".join(lines) + "\n")

    return setup


def _matrix_column(sample: str, change: Callable[[int], str]) -> Callable[[Path], None]:
    """The count matrix with every count of ``sample`` replaced by ``change(count)``."""

    def setup(project: Path) -> None:
        path = project / write_format(project, "matrix")
        lines = path.read_text().splitlines()
        column = lines[0].split("\t").index(sample)
        for i in range(1, len(lines)):
            fields = lines[i].split("\t")
            fields[column] = change(int(fields[column]))
            lines[i] = "\t".join(fields)
        path.write_text("\n".join(lines) + "\n")

    return setup


def _transposed(project: Path) -> None:
    path = project / write_format(project, "matrix")
    table = [line.split("\t") for line in path.read_text().splitlines()]
    table[0][0] = "sample"
    path.write_text("".join("\t".join(column) + "\n" for column in zip(*table)))


def _drop_matrix_column(sample: str) -> Callable[[Path], None]:
    def setup(project: Path) -> None:
        path = project / write_format(project, "matrix")
        index = path.read_text().splitlines()[0].split("\t").index(sample)
        _edit(path, _drop_column(index))

    return setup


def _extra_matrix_column(project: Path) -> None:
    path = project / write_format(project, "matrix")
    _edit(path, lambda lines: [lines[0] + "\tcontrol_4"] + [line + "\t7" for line in lines[1:]])


def _duplicate_gene(project: Path) -> None:
    path = project / write_format(project, "matrix")
    _edit(path, lambda lines: lines[:3] + [lines[2]] + lines[3:])


def _fewer_genes(project: Path) -> None:
    _edit(project / f"example/htseq/{FIRST}.htseq.txt", lambda lines: lines[:10] + lines[20:])


def _mixed_formats(project: Path) -> None:
    write_format(project, "star")
    rows = read_sheet(project)
    for row in rows[1:4]:
        row[rows[0].index("quant")] = LAYOUT["htseq"].format(row[0])
    write_sheet(project, rows)


def _undetermined_strand(project: Path) -> None:
    """Column 3 holds 30% of the stranded reads: neither stranded nor unstranded."""
    write_format(project, "star")
    path = project / LAYOUT["star"].format(FIRST)
    _edit(
        path,
        lambda lines: (
            lines[:4]
            + [
                "\t".join([g, str(int(n) + int(n) * 3 // 7), str(int(n) * 3 // 7), n])
                for g, _, _, n in (line.split("\t") for line in lines[4:])
            ]
        ),
    )


def _same_quant(project: Path) -> None:
    sheet_cell(3, "quant", LAYOUT["htseq"].format(FIRST))(project)


def _bom_everywhere(project: Path) -> None:
    """A UTF-8 BOM at the start of the sheet and of every htseq file (Windows Notepad, Excel)."""
    for path in [project / SHEET, *sorted((project / "example/htseq").glob("*.txt"))]:
        path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())


def _crlf_htseq(project: Path) -> None:
    for path in sorted((project / "example/htseq").glob("*.txt")):
        path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def _trailing_spaces(project: Path) -> None:
    """Spaces after every field of the sheet, and at the end of every line of the count files."""
    _edit(project / SHEET, lambda lines: [" \t".join(line.split("\t")) + "  " for line in lines])
    for path in sorted((project / "example/htseq").glob("*.txt")):
        _edit(path, lambda lines: [line + "  " for line in lines])


def _no_final_newline_matrix(project: Path) -> None:
    path = project / write_format(project, "matrix")
    path.write_text(path.read_text().rstrip("\n"))


def _matrix_csv_sep_line(project: Path) -> None:
    path = project / write_format(project, "matrix_csv")
    path.write_text("sep=,\n" + path.read_text())


def _wrong_column_field(project: Path) -> None:
    """The count matrix, and a sheet `column` field with a typo in one row."""
    write_format(project, "matrix")
    rows = read_sheet(project)
    rows[0].append("column")
    for row in rows[1:]:
        row.append(row[0])
    rows[4][-1] = "knockdown1"
    write_sheet(project, rows)


def _htseq_attr_column(lines: list[str]) -> list[str]:
    """htseq-count --additional-attr gene_name: a name column between id and count."""
    return [f"{gene}\tname\t{count}" for gene, count in (line.split("\t") for line in lines)]


Q = "Quantifier files"
S = "Sample sheet"
V = "Count values"

CASES: list[Case] = [
    # every format: truncated, a wrong header, a column missing, empty, gzip cut short
    Case(
        "htseq-truncated",
        Q,
        "an htseq-count file cut short mid-line",
        cut("htseq"),
        "example/htseq/control_1.htseq.txt, row 261: the file ends in the middle of this row (no line break after it): it was cut short. Fix: copy or write the file again from the quantifier's output.",
        "counts",
    ),
    Case(
        "htseq-header-added",
        Q,
        "an htseq-count file with a header line added",
        edited("htseq", lambda lines: ["gene\tcount", *lines]),
        "example/htseq/control_1.htseq.txt, row 1, column '2': 'count' is not a number. Fix: the column must hold read counts only: correct the cell.",
        "counts",
    ),
    Case(
        "htseq-column-missing",
        Q,
        "an htseq-count file with the count column removed",
        edited("htseq", _drop_column(1)),
        "example/htseq/control_1.htseq.txt, row 1: has 1 column(s); htseq-count writes 2 (gene id, count). Fix: give htseq-count's output unchanged: one file per sample, gene id and count on each line.",
        "counts",
    ),
    Case(
        "htseq-extra-column",
        Q,
        "htseq-count run with --additional-attr (3 columns)",
        edited("htseq", _htseq_attr_column),
        "example/htseq/control_1.htseq.txt, row 1: has 3 column(s); htseq-count writes 2 (gene id, count). Fix: give htseq-count's output unchanged (run without --additional-attr): one file per sample, gene id and count on each line.",
        "counts",
    ),
    Case(
        "htseq-empty",
        Q,
        "an empty htseq-count file",
        emptied("htseq"),
        "example/htseq/control_1.htseq.txt: file is empty. Fix: rerun the step that wrote it.",
        "counts",
    ),
    Case(
        "htseq-gzip-cut",
        Q,
        "a gzipped htseq-count file cut short",
        gzip_cut("htseq"),
        "example/htseq/control_1.htseq.txt: gzip file is truncated or corrupt (Compressed file ended before the end-of-stream marker was reached). Fix: re-download or re-compress the file.",
        "counts",
    ),
    Case(
        "fc-single-truncated",
        Q,
        "a featureCounts table cut short mid-line",
        cut("featurecounts_single"),
        "example/featurecounts/control_1.featureCounts.txt, row 258: the file ends in the middle of this row (no line break after it): it was cut short. Fix: copy or write the file again from the quantifier's output.",
        "counts",
    ),
    Case(
        "fc-single-no-count-column",
        Q,
        "a featureCounts table without its count column",
        edited("featurecounts_single", _drop_column(6)),
        "example/featurecounts/control_1.featureCounts.txt, row 2: has no count column after Geneid..Length. Fix: give the featureCounts output file unchanged (one count column per BAM after Length).",
        "counts",
    ),
    Case(
        "fc-single-wrong-header",
        Q,
        "a featureCounts table whose Geneid header was renamed",
        edited("featurecounts_single", _rename_header("Geneid", "gene_id")),
        "example/featurecounts/control_1.featureCounts.txt, row 2: is not a featurecounts file: column(s) Geneid missing from the header (gene_id, Chr, Start, End, Strand, Length, bam/control_1.bam). Fix: give the featurecounts output file unchanged, or set `format:` to the file's real format.",
        "counts",
    ),
    Case(
        "fc-table-truncated",
        Q,
        "a multi-sample featureCounts table (`counts:`) cut short",
        cut("featurecounts"),
        "example/featurecounts/counts.txt, row 256: the file ends in the middle of this row (no line break after it): it was cut short. Fix: copy or write the file again from the quantifier's output.",
        "counts",
    ),
    Case(
        "fc-table-column-missing",
        Q,
        "a featureCounts table with the Length column removed",
        edited("featurecounts", _drop_column(5)),
        "example/featurecounts/counts.txt, row 2: is not a featurecounts file: column(s) Length missing from the header (Geneid, Chr, Start, End, Strand, bam/control_1.bam, bam/control_2.bam, bam/control_3.bam). Fix: give the featurecounts output file unchanged, or set `format:` to the file's real format.",
        "counts",
    ),
    Case(
        "fc-table-empty",
        Q,
        "an empty featureCounts table",
        emptied("featurecounts"),
        "example/featurecounts/counts.txt: file is empty. Fix: rerun the step that wrote it.",
        "counts",
    ),
    Case(
        "fc-table-gzip-cut",
        Q,
        "a gzipped featureCounts table cut short",
        gzip_cut("featurecounts"),
        "example/featurecounts/counts.txt: gzip file is truncated or corrupt (Compressed file ended before the end-of-stream marker was reached). Fix: re-download or re-compress the file.",
        "counts",
    ),
    Case(
        "star-truncated",
        Q,
        "a STAR ReadsPerGene.out.tab cut short",
        cut("star"),
        "example/star/control_1/ReadsPerGene.out.tab, row 256: the file ends in the middle of this row (no line break after it): it was cut short. Fix: copy or write the file again from the quantifier's output.",
        "counts",
    ),
    Case(
        "star-column-missing",
        Q,
        "a STAR ReadsPerGene.out.tab with a count column removed",
        edited("star", _drop_column(3)),
        "example/star/control_1/ReadsPerGene.out.tab, row 1: is not a STAR ReadsPerGene.out.tab: it has 3 column(s); STAR writes 4 and the rows N_unmapped, N_multimapping, N_noFeature, N_ambiguous first. Fix: give STAR's ReadsPerGene.out.tab unchanged.",
        "counts",
    ),
    Case(
        "star-n-rows-removed",
        Q,
        "a STAR ReadsPerGene.out.tab without its four N_ rows",
        edited("star", lambda lines: lines[4:]),
        "example/star/control_1/ReadsPerGene.out.tab: unknown format: not recognised as any of featurecounts, htseq, star, salmon, kallisto, rsem, matrix. Fix: give a quantifier's output file unchanged, or a count matrix with a header row and the gene id in the first column.",
        "counts",
    ),
    Case(
        "star-empty",
        Q,
        "an empty STAR ReadsPerGene.out.tab",
        emptied("star"),
        "example/star/control_1/ReadsPerGene.out.tab: file is empty. Fix: rerun the step that wrote it.",
        "counts",
    ),
    Case(
        "star-gzip-cut",
        Q,
        "a gzipped STAR ReadsPerGene.out.tab cut short",
        gzip_cut("star"),
        "example/star/control_1/ReadsPerGene.out.tab: gzip file is truncated or corrupt (Compressed file ended before the end-of-stream marker was reached). Fix: re-download or re-compress the file.",
        "counts",
    ),
    Case(
        "star-strand-undetermined",
        Q,
        "a STAR file whose strandedness cannot be inferred (strandedness: auto)",
        _undetermined_strand,
        "example/star/control_1/ReadsPerGene.out.tab: the library's strandedness cannot be inferred: column 4 (reverse) holds 70.0% of the reads counted in columns 3 and 4 (a stranded library gives at least 80% in one of them, an unstranded one about 50%). Fix: set `strandedness:` in the config to the library type: unstranded, forward or reverse (from the kit, or RSeQC's infer_experiment.py).",
        "counts",
    ),
    Case(
        "salmon-truncated",
        Q,
        "a salmon quant.sf cut short",
        cut("salmon"),
        "example/salmon/control_1/quant.sf, row 255: the file ends in the middle of this row (no line break after it): it was cut short. Fix: copy or write the file again from the quantifier's output.",
        "counts",
    ),
    Case(
        "salmon-wrong-header",
        Q,
        "a salmon quant.sf whose NumReads header was renamed",
        edited("salmon", _rename_header("NumReads", "Reads")),
        "example/salmon/control_1/quant.sf, row 1: is not a salmon file: column(s) NumReads missing from the header (Name, Length, EffectiveLength, TPM, Reads). Fix: give the salmon output file unchanged, or set `format:` to the file's real format.",
        "counts",
    ),
    Case(
        "salmon-column-missing",
        Q,
        "a salmon quant.sf without its TPM column",
        edited("salmon", _drop_column(3)),
        "example/salmon/control_1/quant.sf, row 1: is not a salmon file: column(s) TPM missing from the header (Name, Length, EffectiveLength, NumReads). Fix: give the salmon output file unchanged, or set `format:` to the file's real format.",
        "counts",
    ),
    Case(
        "salmon-empty",
        Q,
        "an empty salmon quant.sf",
        emptied("salmon"),
        "example/salmon/control_1/quant.sf: file is empty. Fix: rerun the step that wrote it.",
        "counts",
    ),
    Case(
        "salmon-gzip-cut",
        Q,
        "a gzipped salmon quant.sf cut short",
        gzip_cut("salmon"),
        "example/salmon/control_1/quant.sf: gzip file is truncated or corrupt (Compressed file ended before the end-of-stream marker was reached). Fix: re-download or re-compress the file.",
        "counts",
    ),
    Case(
        "kallisto-truncated",
        Q,
        "a kallisto abundance.tsv cut short",
        cut("kallisto"),
        "example/kallisto/control_1/abundance.tsv, row 255: the file ends in the middle of this row (no line break after it): it was cut short. Fix: copy or write the file again from the quantifier's output.",
        "counts",
    ),
    Case(
        "kallisto-wrong-header",
        Q,
        "a kallisto abundance.tsv whose est_counts header was renamed",
        edited("kallisto", _rename_header("est_counts", "counts")),
        "example/kallisto/control_1/abundance.tsv, row 1: is not a kallisto file: column(s) est_counts missing from the header (target_id, length, eff_length, counts, tpm). Fix: give the kallisto output file unchanged, or set `format:` to the file's real format.",
        "counts",
    ),
    Case(
        "kallisto-column-missing",
        Q,
        "a kallisto abundance.tsv without its eff_length column",
        edited("kallisto", _drop_column(2)),
        "example/kallisto/control_1/abundance.tsv, row 1: is not a kallisto file: column(s) eff_length missing from the header (target_id, length, est_counts, tpm). Fix: give the kallisto output file unchanged, or set `format:` to the file's real format.",
        "counts",
    ),
    Case(
        "kallisto-empty",
        Q,
        "an empty kallisto abundance.tsv",
        emptied("kallisto"),
        "example/kallisto/control_1/abundance.tsv: file is empty. Fix: rerun the step that wrote it.",
        "counts",
    ),
    Case(
        "kallisto-gzip-cut",
        Q,
        "a gzipped kallisto abundance.tsv cut short",
        gzip_cut("kallisto"),
        "example/kallisto/control_1/abundance.tsv: gzip file is truncated or corrupt (Compressed file ended before the end-of-stream marker was reached). Fix: re-download or re-compress the file.",
        "counts",
    ),
    Case(
        "rsem-truncated",
        Q,
        "an RSEM genes.results cut short",
        cut("rsem"),
        "example/rsem/control_1.genes.results, row 255: the file ends in the middle of this row (no line break after it): it was cut short. Fix: copy or write the file again from the quantifier's output.",
        "counts",
    ),
    Case(
        "rsem-wrong-header",
        Q,
        "an RSEM genes.results whose expected_count header was renamed",
        edited("rsem", _rename_header("expected_count", "count")),
        "example/rsem/control_1.genes.results, row 1: is not a rsem file: column(s) expected_count missing from the header (gene_id, transcript_id(s), length, effective_length, count, TPM, FPKM). Fix: give the rsem output file unchanged, or set `format:` to the file's real format.",
        "counts",
    ),
    Case(
        "rsem-column-missing",
        Q,
        "an RSEM genes.results without its effective_length column",
        edited("rsem", _drop_column(3)),
        "example/rsem/control_1.genes.results, row 1: is not a rsem file: column(s) effective_length missing from the header (gene_id, transcript_id(s), length, expected_count, TPM, FPKM). Fix: give the rsem output file unchanged, or set `format:` to the file's real format.",
        "counts",
    ),
    Case(
        "rsem-empty",
        Q,
        "an empty RSEM genes.results",
        emptied("rsem"),
        "example/rsem/control_1.genes.results: file is empty. Fix: rerun the step that wrote it.",
        "counts",
    ),
    Case(
        "rsem-gzip-cut",
        Q,
        "a gzipped RSEM genes.results cut short",
        gzip_cut("rsem"),
        "example/rsem/control_1.genes.results: gzip file is truncated or corrupt (Compressed file ended before the end-of-stream marker was reached). Fix: re-download or re-compress the file.",
        "counts",
    ),
    Case(
        "matrix-truncated",
        Q,
        "a count matrix (`counts:`) cut short mid-line",
        cut("matrix"),
        "example/counts.tsv, row 253: the file ends in the middle of this row (no line break after it): it was cut short. Fix: copy or write the file again from the quantifier's output.",
        "counts",
    ),
    Case(
        "matrix-no-header",
        Q,
        "a count matrix without its header line",
        edited("matrix", lambda lines: lines[1:]),
        "example/counts.tsv: unknown format: not recognised as any of featurecounts, htseq, star, salmon, kallisto, rsem, matrix. Fix: give a quantifier's output file unchanged, or a count matrix with a header row and the gene id in the first column.",
        "counts",
    ),
    Case(
        "matrix-empty",
        Q,
        "an empty count matrix",
        emptied("matrix"),
        "example/counts.tsv: file is empty. Fix: rerun the step that wrote it.",
        "counts",
    ),
    Case(
        "matrix-gzip-cut",
        Q,
        "a gzipped count matrix cut short",
        gzip_cut("matrix"),
        "example/counts.tsv: gzip file is truncated or corrupt (Compressed file ended before the end-of-stream marker was reached). Fix: re-download or re-compress the file.",
        "counts",
    ),
    Case(
        "matrix-csv-truncated",
        Q,
        "a CSV count matrix cut short mid-line",
        cut("matrix_csv"),
        "example/counts.csv, row 253: the file ends in the middle of this row (no line break after it): it was cut short. Fix: copy or write the file again from the quantifier's output.",
        "counts",
    ),
    Case(
        "mixed-formats",
        Q,
        "samples quantified with different tools in one sheet",
        _mixed_formats,
        "config/samples.tsv, column 'quant': samples come from different formats or levels (htseq gene-level: control_1, control_2, control_3; star gene-level: knockdown_1, knockdown_2, knockdown_3). Fix: quantify every sample with the same tool and give the same kind of file for each.",
        "counts",
    ),
    Case(
        "gene-sets-differ",
        Q,
        "one sample's file lacks genes the others have",
        _fewer_genes,
        "example/htseq/control_2.htseq.txt: samples control_1 and control_2 have different gene sets: 0 genes of control_1 are missing from control_2 and 10 genes of control_2 are not in control_1 (e.g. ADIPOQ, ADM, AHR, AKT1, AKT2). Fix: quantify every sample against the same annotation / index.",
        "counts",
    ),
    # layouts that must simply work
    Case("matrix-csv", Q, "a count matrix saved as CSV", in_format("matrix_csv"), "", "runs"),
    Case(
        "matrix-csv-excel-sep-line",
        Q,
        "a CSV count matrix with Excel's `sep=,` first line",
        _matrix_csv_sep_line,
        "",
        "runs",
    ),
    Case(
        "matrix-no-final-newline",
        Q,
        "a count matrix without a line break after its last row",
        _no_final_newline_matrix,
        "",
        "runs",
    ),
    Case(
        "featurecounts-table",
        Q,
        "one featureCounts table of every sample, columns named by BAM path",
        in_format("featurecounts"),
        "",
        "runs",
    ),
    Case("star-folders", Q, "STAR output folders (strandedness inferred)", in_format("star"), "", "runs"),
    Case("htseq-crlf", Q, "htseq-count files with Windows (CRLF) line endings", _crlf_htseq, "", "runs"),
    Case(
        "bom", Q, "a UTF-8 byte-order mark at the start of the sheet and the count files", _bom_everywhere, "", "runs"
    ),
    Case(
        "trailing-spaces", Q, "spaces after the fields of the sheet and the count files", _trailing_spaces, "", "runs"
    ),
    # the sheet
    Case(
        "sheet-repeated-column",
        S,
        "a sheet whose header names a column twice",
        lambda project: write_sheet(project, [row + [row[2]] for row in read_sheet(project)]),
        "config/samples.tsv, row 1, column 'replicate': the header names column 'replicate' more than once. Fix: give every column its own name, or remove the copy.",
        "parse",
    ),
    Case(
        "sheet-duplicate-sample",
        S,
        "the same sample name on two rows",
        _duplicate_sample,
        "config/samples.tsv, row 3, column 'sample': duplicate sample name 'control_1' (first on row 2). Fix: give every sample a unique name.",
        "parse",
    ),
    Case(
        "sheet-empty-sample",
        S,
        "a row with an empty sample cell",
        sheet_cell(4, "sample", ""),
        "config/samples.tsv, row 4, column 'sample': empty value. Fix: fill in `sample` for every sample.",
        "parse",
    ),
    Case(
        "sheet-short-row",
        S,
        "a row with fewer fields than the header",
        _short_row,
        "config/samples.tsv, row 4, column 'quant': empty value. Fix: fill in `quant` for every sample.",
        "parse",
    ),
    Case(
        "sheet-long-row",
        S,
        "a row with more fields than the header",
        _long_row,
        "config/samples.tsv, row 4: has 5 fields where the header has 4. Fix: remove the extra fields, or name their column in the header.",
        "parse",
    ),
    Case(
        "sheet-quant-missing-file",
        S,
        "a quant path that does not exist",
        sheet_cell(5, "quant", "example/htseq/knockdown_l.htseq.txt"),
        "config/samples.tsv, row 5, column 'quant': example/htseq/knockdown_l.htseq.txt does not exist. Fix: correct the path (relative to the folder snakemake runs in), or check that the quantifier finished.",
        "parse",
    ),
    Case(
        "sheet-quant-empty-folder",
        S,
        "a quant folder that holds no quantifier output",
        sheet_cell(5, "quant", "example"),
        "example: folder holds no quantifier output (looked for quant.sf, abundance.tsv, abundance.h5, *ReadsPerGene.out.tab, *.isoforms.results, *.genes.results) (quant of sample 'knockdown_1', row 5 of config/samples.tsv). Fix: give the output file itself as `quant`.",
        "counts",
    ),
    Case(
        "sheet-same-quant-twice",
        S,
        "two samples pointing at the same file",
        _same_quant,
        "example/htseq/control_1.htseq.txt: samples control_1, control_2 (rows 2, 3 of config/samples.tsv) all point at this one-sample file. Fix: give each sample its own quant file.",
        "counts",
    ),
    Case(
        "sheet-space-in-name",
        S,
        "a sample name with a space",
        sheet_cell(2, "sample", "control 1"),
        "config/samples.tsv, row 2, column 'sample': sample name 'control 1' has characters other than letters, digits, '.', '_' and '-'. Fix: rename the sample, e.g. to 'control_1'.",
        "parse",
    ),
    Case(
        "sheet-slash-in-name",
        S,
        "a sample name with a slash",
        sheet_cell(2, "sample", "ctrl/1"),
        "config/samples.tsv, row 2, column 'sample': sample name 'ctrl/1' has characters other than letters, digits, '.', '_' and '-'. Fix: rename the sample, e.g. to 'ctrl_1'.",
        "parse",
    ),
    Case(
        "sheet-no-condition-column",
        S,
        "a sheet without the condition column",
        _drop_sheet_column("condition"),
        "config/samples.tsv, column 'condition': required column missing (columns found: sample, replicate, quant). Fix: add it (tab-separated header line).",
        "parse",
    ),
    Case(
        "sheet-no-quant-column",
        S,
        "a sheet without the quant column (and no `counts:`)",
        _drop_sheet_column("quant"),
        "config/samples.tsv, column 'quant': required column missing (columns found: sample, condition, replicate). Fix: add a `quant` column with each sample's quantifier output, or set `counts:` in the config.",
        "parse",
    ),
    Case(
        "sheet-header-only",
        S,
        "a sheet with a header and no samples",
        sheet_text(lambda t: t.splitlines()[0] + "\n"),
        "config/samples.tsv: the sample sheet has a header but no samples. Fix: add one row per sample.",
        "parse",
    ),
    Case(
        "sheet-empty",
        S,
        "an empty sheet file",
        sheet_text(lambda t: ""),
        "config/samples.tsv: the sample sheet is empty. Fix: add a header line and one row per sample.",
        "parse",
    ),
    Case(
        "sheet-sample-not-in-matrix",
        S,
        "a sheet sample missing from the count matrix (`counts:`)",
        _drop_matrix_column("knockdown_2"),
        "example/counts.tsv: no column for sample 'knockdown_2' (row 6 of config/samples.tsv); its columns are: control_1, control_2, control_3, knockdown_1, knockdown_3. Fix: add the sample's column to the table, remove the sample from the sheet, or name its column in the sheet's `column` field.",
        "counts",
    ),
    Case(
        "sheet-column-field-wrong",
        S,
        "a `column` field naming no column of the matrix",
        _wrong_column_field,
        "example/counts.tsv, column 'knockdown1': has no column 'knockdown1' (the `column` of sample 'knockdown_1', row 5 of config/samples.tsv); its columns are: control_1, control_2, control_3, knockdown_1, knockdown_2, knockdown_3. Fix: set the sheet's `column` field to 'knockdown_1'.",
        "counts",
    ),
    Case(
        "matrix-extra-sample",
        S,
        "a count matrix with a sample the sheet does not list",
        _extra_matrix_column,
        "",
        "runs",
    ),
    Case(
        "sheet-crlf",
        S,
        "a sheet saved with Windows (CRLF) line endings",
        sheet_text(lambda t: t.replace("\n", "\r\n")),
        "",
        "runs",
    ),
    Case("sheet-csv", S, "a sheet saved as CSV instead of TSV", _csv_sheet, "", "runs"),
    Case(
        "sheet-excel-sep-line",
        S,
        "a sheet saved by Excel as CSV with its `sep=,` first line",
        _excel_sep_line,
        "",
        "runs",
    ),
    # count values
    Case(
        "counts-all-zero-sample",
        V,
        "a sample whose counts are all zero",
        _matrix_column("knockdown_2", lambda count: "0"),
        "example/counts.tsv, column 'knockdown_2': sample 'knockdown_2' has no reads: every count in its column is 0. Fix: check that the file is this sample's output (a failed alignment or an empty BAM gives all zeros), or remove the sample from the sheet.",
        "counts",
    ),
    Case(
        "counts-na",
        V,
        "a missing count (NA)",
        matrix_cell(5, "control_2", "NA"),
        "example/counts.tsv, row 5, column 'control_2': the count is missing ('NA'). Fix: write 0 for a gene without reads, or remove the gene's row.",
        "counts",
    ),
    Case(
        "counts-empty-cell",
        V,
        "an empty count cell",
        matrix_cell(5, "control_2", ""),
        "example/counts.tsv, row 5, column 'control_2': the count is missing (''). Fix: write 0 for a gene without reads, or remove the gene's row.",
        "counts",
    ),
    Case(
        "counts-negative",
        V,
        "a negative count",
        matrix_cell(7, "knockdown_1", "-3"),
        "example/counts.tsv, row 7, column 'knockdown_1': negative count -3. Fix: counts cannot be negative: give raw read counts.",
        "counts",
    ),
    Case(
        "counts-beyond-int64",
        V,
        "a count beyond 64-bit integers",
        matrix_cell(7, "knockdown_1", "99999999999999999999"),
        "example/counts.tsv, row 7, column 'knockdown_1': count 99999999999999999999 is above 1e+12, more reads than any sequencing run gives one gene. Fix: give raw read counts (an overflowed or mislabelled column?).",
        "counts",
    ),
    Case(
        "counts-one-fraction",
        V,
        "one non-integer count among integers",
        matrix_cell(7, "knockdown_1", "12.5"),
        "example/counts.tsv, row 7, column 'knockdown_1': non-integer count 12.5. Fix: give raw read counts, not TPM/FPKM or normalised values; for salmon, kallisto or RSEM give their output files as `quant` so knockseq summarises them to genes with tximport.",
        "counts",
    ),
    Case(
        "counts-tpm",
        V,
        "TPM or normalised values instead of read counts",
        _matrix_column("control_3", lambda count: f"{count / 3.7:.3f}"),
        "example/counts.tsv, row 2, column 'control_3': 485 of the 506 values are not whole numbers (e.g. 493.514): these look like TPM/normalised values, not read counts. Fix: give raw read counts, not TPM/FPKM or normalised values; for salmon, kallisto or RSEM give their output files as `quant` so knockseq summarises them to genes with tximport.",
        "counts",
    ),
    Case(
        "counts-text",
        V,
        "text in a count column",
        matrix_cell(9, "control_1", "#VALUE!"),
        "example/counts.tsv, row 9, column 'control_1': '#VALUE!' is not a number. Fix: the column must hold read counts only: correct the cell.",
        "counts",
    ),
    Case(
        "counts-duplicate-gene",
        V,
        "the same gene id on two rows",
        _duplicate_gene,
        "example/counts.tsv: 1 duplicated gene ids: ABCB1 (rows 3, 4). Fix: each id must appear once; sum or drop the duplicates upstream.",
        "counts",
    ),
    Case(
        "counts-transposed",
        V,
        "a count matrix with samples as rows (transposed)",
        _transposed,
        "example/counts.tsv, row 2: the table is transposed: sample 'control_1' (row 2 of config/samples.tsv) is a row, and its columns are genes (ABAT, ABCB1, ABCC1, ABCG2, ACACA, ACLY, ACO2, ACSL4, ACTB, ADCY9, ...). Fix: write the table with one row per gene and one column per sample (transpose it: t() in R, .T in pandas).",
        "counts",
    ),
]

"""Gene annotation: gene_id -> gene_name, and transcript_id -> gene_id maps (tx2gene).

Both come from a GTF (gzipped or not) or from a small table (tab or comma separated, header
optional). Ensembl version suffixes are stripped as the count readers strip them
(:func:`knockseq.geneids.strip_versions`), so ``ENSG00000123.12`` in a GTF names ``ENSG00000123``
in the counts.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pandas as pd

from knockseq.errors import InputError
from knockseq.geneids import examples, id_kind, strip_versions
from knockseq.readers.checks import check_unique, unversioned
from knockseq.readers.files import head, iter_lines, read_table
from knockseq.readers.matrix import NAME_COLUMNS, spelling

#: First-field names that mark a header line in a gene_id -> gene_name table.
GENE_HEADERS = {"gene_id", "gene", "geneid", "gene_ids", "ensembl_gene_id", "id"}
#: Spellings (:func:`~knockseq.readers.matrix.spelling`) of an annotation table's gene-id column:
#: knockseq's, BioMart's (``Gene stable ID``, ``ensembl_gene_id``), NCBI's and Entrez ones.
ID_HEADERS = {
    "geneid",
    "gene",
    "geneids",
    "ensemblgeneid",
    "genestableid",
    "ensemblid",
    "entrezgeneid",
    "entrezid",
    "ncbigeneid",
    "id",
}
#: Spellings of its gene-name column: those a count matrix's name column may have, but ``gene``.
NAME_HEADERS = {spelling(name) for name in NAME_COLUMNS} - {"gene"}
#: First-field names that mark a header line in a tx2gene table.
TX_HEADERS = {
    "transcript_id",
    "transcript",
    "transcriptid",
    "tx",
    "tx_id",
    "txname",
    "target_id",
    "ensembl_transcript_id",
}
#: Gene names that mean "no name".
MISSING = {"", "NA", "-"}

_ATTRIBUTE = {key: re.compile(rf'(?:^|;)\s*{key} "([^"]*)"') for key in ("gene_id", "gene_name", "transcript_id")}


def is_gtf(path: str | Path) -> bool:
    """Whether the file's first non-comment line is a GTF record (9 fields, ``gene_id "..."``)."""
    line = next((line for line in head(Path(path), 50) if not line.startswith("#")), "")
    parts = line.split("\t")
    return len(parts) == 9 and _ATTRIBUTE["gene_id"].search(parts[8]) is not None


def _read_gtf(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Gene names and transcript -> gene from ``gene``, ``transcript`` and ``exon`` records.

    Returns
    -------
    names : dict
        gene_id -> gene_name ("" if the record has none); gene records win over the gene_name
        repeated on transcript and exon records, which are used when a GTF has no gene lines.
    tx2gene : dict
        transcript_id -> gene_id.
    """
    names: dict[str, str] = {}
    from_genes: set[str] = set()  # genes named by their own gene record
    tx2gene: dict[str, str] = {}
    for number, line in enumerate(iter_lines(path), start=1):
        if not line or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 9:
            raise InputError(f"has {len(parts)} tab-separated fields; a GTF line has 9.", path=path, row=number)
        feature = parts[2]
        if feature not in ("gene", "transcript", "exon"):
            continue
        gene = _ATTRIBUTE["gene_id"].search(parts[8])
        if gene is None:
            raise InputError(f"{feature} record without a gene_id attribute.", path=path, row=number)
        gene_id = gene.group(1)
        if feature != "gene":
            transcript = _ATTRIBUTE["transcript_id"].search(parts[8])
            if transcript is None or transcript.group(1) in tx2gene:
                continue  # exons of a transcript already seen add nothing
            tx2gene[transcript.group(1)] = gene_id
        found = _ATTRIBUTE["gene_name"].search(parts[8])
        name = found.group(1) if found else ""
        if feature == "gene":
            names[gene_id] = name
            from_genes.add(gene_id)
        elif gene_id not in from_genes and not names.get(gene_id):
            names[gene_id] = name
    return names, tx2gene


def _read_pairs(
    path: Path, header_names: set[str], wanted: tuple[str, ...], what: str, headers: tuple[set[str], ...] = ()
) -> tuple[pd.DataFrame, int]:
    """A 2+ column id table (tab or comma) with an optional header.

    A header is recognised by its first field (one of ``header_names``) or by naming a
    ``wanted`` column; the columns named like the ``wanted`` ones (their own names, or the
    ``headers`` spellings of each, compared by :func:`~knockseq.readers.matrix.spelling`) are used
    whatever their position (so a ``transcript_id gene_id gene_name`` table, or a BioMart export
    with ``Gene stable ID`` and ``Gene name`` among other columns, serves as an annotation), else
    the first columns. The log says which columns served.

    Returns
    -------
    table : pd.DataFrame
        Shape (n_rows, n_columns >= 2), text, columns renamed 0, 1, 2 ... in ``wanted`` order.
    first_row : int
        Line number of the first data row (2 with a header, else 1).
    """
    first = head(path, 1)[0]
    sep = "\t" if "\t" in first else ","
    names = [name.strip().strip('"') for name in first.split(sep)]
    accepted = [{spelling(name)} | (headers[i] if i < len(headers) else set()) for i, name in enumerate(wanted)]
    spelled = [spelling(name) for name in names]
    has_header = names[0].lower() in header_names or any(name in accepted[0] | accepted[1] for name in spelled)
    table = read_table(path, header=has_header, sep=sep)
    if table.shape[1] < 2:
        raise InputError(
            f"has {table.shape[1]} column; a {what} table needs at least 2.",
            path=path,
            row=1,
            fix="separate the columns with tabs or commas.",
        )
    table.columns = range(table.shape[1])
    chosen: list[int] = []
    if has_header:
        for options in accepted:
            found = [i for i, name in enumerate(spelled) if name in options and i not in chosen]
            if not found:
                break
            chosen.append(found[0])
    if len(chosen) < 2:
        chosen = list(range(min(table.shape[1], len(wanted))))
    table = table[chosen]
    table.columns = range(table.shape[1])
    served = ", ".join(
        f"{wanted[k]} from {repr(names[i]) if has_header else f'column {i + 1}'}" for k, i in enumerate(chosen)
    )
    logging.getLogger("knockseq").info("%s (%s table): %s.", path, what, served)
    return table, 2 if has_header else 1


def _name_series(ids: pd.Series, names: pd.Series, path: Path, first_row: int) -> pd.Series:
    """gene_id -> gene_name with versions stripped, missing names as NaN, one row per gene."""
    frame = pd.DataFrame({"gene_id": ids.astype(str).str.strip(), "gene_name": names.astype(str).str.strip()})
    frame = frame.drop_duplicates()
    check_unique(pd.Index(frame["gene_id"]), path, first_row, "gene ids with different names")
    index = unversioned(pd.Index(frame["gene_id"], name="gene_id"), path)
    values = frame["gene_name"].where(~frame["gene_name"].isin(MISSING)).to_numpy()
    return pd.Series(values, index=index, name="gene_name", dtype=object)


def load_annotation(path: str | Path) -> pd.Series:
    """gene_id -> gene_name from a GTF or a table.

    Parameters
    ----------
    path : str or Path
        A GTF (``gene_name`` attribute; gene lines, or transcript/exon lines when there are no
        gene lines), or a table: its ``gene_id`` and ``gene_name`` columns if the header names
        them, else its first two columns (more columns are ignored; header optional).

    Returns
    -------
    pd.Series
        Shape (n_genes,), index ``gene_id`` (versions stripped), values ``gene_name``; NaN where
        the name is empty, ``NA`` or ``-``.

    Raises
    ------
    InputError
        Missing/empty/truncated file, a gene id listed with two different names, or ids that
        collide once versions are stripped.
    """
    path = Path(path)
    if is_gtf(path):
        names, _ = _read_gtf(path)
        return _name_series(pd.Series(list(names)), pd.Series(list(names.values())), path, 1)
    table, first_row = _read_pairs(
        path, GENE_HEADERS, ("gene_id", "gene_name"), "gene_id -> gene_name", (ID_HEADERS, NAME_HEADERS)
    )
    return _name_series(table[0], table[1], path, first_row)


def annotate(genes: pd.Index, path: str | Path) -> pd.Series:
    """The gene_name of each counted gene, from the configured annotation, checked to name them.

    Parameters
    ----------
    genes : pd.Index
        The count table's gene ids (n_genes), versions stripped.
    path : str or Path
        The annotation (see :func:`load_annotation`).

    Returns
    -------
    pd.Series
        Shape (n_genes,), indexed like ``genes``: gene_name, NaN where the annotation has none.

    Raises
    ------
    InputError
        When the annotation shares no id with the counts (saying which kind of ids each side
        has: Ensembl, Entrez, RefSeq or symbols), names none of the genes it shares, or gives ids
        instead of symbols as names.
    """
    path = Path(path)
    annotated = load_annotation(path)
    names = annotated.reindex(genes)
    ours, theirs = id_kind(genes), id_kind(annotated.index)
    if not genes.isin(annotated.index).any():
        if ours != theirs:
            fix = (
                f"give an annotation keyed by {ours} (a GTF or a gene_id<TAB>gene_name table), e.g. of the "
                "genome release the counts were made with"
            )
            if ours == "gene symbols":
                fix += "; or leave `annotation:` out: the counts' ids are already gene symbols"
        else:
            fix = "give the annotation of the species and genome release the counts were made with"
        raise InputError(
            f"shares no gene id with the counts: the counts are keyed by {ours} (e.g. {examples(genes)}) but the "
            f"annotation's ids look like {theirs} (e.g. {examples(annotated.index)}).",
            path=path,
            fix=fix + ".",
        )
    if names.isna().all():
        raise InputError(
            f"gives no gene name for any of the {int(genes.isin(annotated.index).sum())} counted genes it lists.",
            path=path,
            fix="give a GTF with gene_name attributes or a gene_id<TAB>gene_name table with the names filled in.",
        )
    kind = id_kind(names.dropna())
    if kind not in ("gene symbols", "mixed ids"):
        raise InputError(
            f"maps the counts' gene ids to {kind} (e.g. {examples(names.dropna())}), not to gene symbols.",
            path=path,
            fix="give a table gene_id<TAB>gene_name whose second column is the gene symbol (e.g. BioMart's "
            "'Gene stable ID' and 'Gene name'); gene sets are matched by symbol.",
        )
    return names


def load_tx2gene(path: str | Path) -> pd.DataFrame:
    """transcript_id -> gene_id (and gene_name when known) from a GTF or a table.

    Parameters
    ----------
    path : str or Path
        A GTF (transcript/exon records), or a table transcript_id, gene_id[, gene_name] with an
        optional header (recognised by its first field, e.g. ``transcript_id``, ``TXNAME``).

    Returns
    -------
    pd.DataFrame
        Shape (n_transcripts, 2): index ``transcript_id``, columns ``gene_id`` and ``gene_name``
        (NaN when unknown); versions stripped from both ids.

    Raises
    ------
    InputError
        A transcript mapped to two genes, version collisions, unreadable file.
    """
    path = Path(path)
    if is_gtf(path):
        names, mapping = _read_gtf(path)
        if not mapping:
            raise InputError("has no transcript or exon records with a transcript_id.", path=path)
        table = pd.DataFrame({0: list(mapping), 1: list(mapping.values())})
        table[2] = table[1].map(names)
        first_row = 1
    else:
        table, first_row = _read_pairs(
            path,
            TX_HEADERS,
            ("transcript_id", "gene_id", "gene_name"),
            "tx2gene",
            ({spelling(name) for name in TX_HEADERS} | {"transcriptstableid"}, ID_HEADERS - {"id"}, NAME_HEADERS),
        )
    if table.shape[1] < 3:
        table[2] = ""
    table = table[[0, 1, 2]].astype(str).drop_duplicates(subset=[0, 1])
    check_unique(pd.Index(table[0]), path, first_row, "transcript ids mapped to different genes")
    index = unversioned(pd.Index(table[0], name="transcript_id"), path, "transcript ids")
    genes = strip_versions(table[1].str.strip())
    names = table[2].str.strip()
    return pd.DataFrame(
        {"gene_id": genes.to_numpy(), "gene_name": names.where(~names.isin(MISSING)).to_numpy()}, index=index
    )

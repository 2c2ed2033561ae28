"""The :class:`Quant` record every reader returns, and how a transcript quantifier's table becomes one.

Readers turn one quantifier output into a :class:`Quant`: its counts (read counts or estimates),
QC fields, and what the file itself says about genes (a transcript -> gene map, gene names).
:func:`estimates` builds the record of a one-sample salmon, kallisto or RSEM table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from knockseq import geneids
from knockseq.errors import InputError
from knockseq.readers.checks import gene_index, numbers_or_raise


@dataclass
class Quant:
    """One parsed quantifier output.

    Parameters
    ----------
    path : Path
        The file read.
    format : str
        Reader name (``featurecounts``, ``htseq``, ``star``, ``salmon``, ``kallisto``, ``rsem``,
        ``matrix``).
    counts : pd.DataFrame
        Shape (n_features, n_columns), indexed by gene or transcript id (versions stripped),
        one column per sample column of the file (a single column for one-sample formats, named
        by the file path). int64 for read counts, float64 for quantifier estimates.
    qc : dict
        Column name -> ``{qc field: value}`` (format-specific: ``unassigned_*``,
        ``strandedness``, ``percent_mapped`` ...).
    first_row : int
        1-based line number of the first data row, so row ``i`` of ``counts`` is line
        ``first_row + i`` of the file.
    level : {"gene", "transcript"}
        Whether ``counts`` is indexed by gene or by transcript.
    estimated : bool
        True when counts are a quantifier's (fractional) estimates rather than read counts.
    abundance, length : pd.DataFrame, optional
        TPM and effective length, same shape as ``counts`` (transcript quantifiers only).
    tx2gene : pd.Series, optional
        transcript_id -> gene_id carried by the file itself (RSEM isoforms, GENCODE-style names).
    gene_names : pd.Series, optional
        gene_id -> gene_name carried by the file (GENCODE-style names, a matrix's gene-name
        column).
    name_column : str, optional
        Header of the file's column ``gene_names`` came from (count matrices), for the notes.
    invalid : dict
        Column -> the :class:`InputError` its values raise; only raised if the column is used
        (multi-column tables may hold columns nobody asked for).
    notes : list of str
        Things the user should know about how the file was read.
    """

    path: Path
    format: str
    counts: pd.DataFrame
    qc: dict[str, dict[str, object]]
    first_row: int
    level: Literal["gene", "transcript"] = "gene"
    estimated: bool = False
    abundance: pd.DataFrame | None = None
    length: pd.DataFrame | None = None
    tx2gene: pd.Series | None = None
    gene_names: pd.Series | None = None
    name_column: str | None = None
    invalid: dict[str, InputError] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def columns(self) -> list[str]:
        """Every sample column of the file, valid or not, in file order."""
        return [*self.counts.columns, *self.invalid]


def split_bar_names(ids: pd.Series) -> tuple[pd.Series, pd.Series | None, pd.Series | None]:
    """Cut ``|``-joined transcript names at the first bar, reading GENCODE's fields if present.

    GENCODE transcript FASTA names are ``ENST|ENSG|OTTHUMG|OTTHUMT|tx name|gene name|length|
    biotype|``; salmon and kallisto keep them whole unless run with ``--gencode``.

    Parameters
    ----------
    ids : pd.Series
        Target names as written by the quantifier, shape (n,).

    Returns
    -------
    transcript_ids : pd.Series
        Shape (n,), the part before the first bar.
    gene_ids, gene_names : pd.Series or None
        Shape (n,), GENCODE's gene id and gene name fields, when every name has them.
    """
    parts = ids.str.split("|")
    transcript_ids = parts.str[0]
    genes = parts.str[1]
    gencode = (parts.str.len() >= 6) & genes.fillna("").str.match(geneids.ENSEMBL_GENE_ID)
    if len(ids) and gencode.all():
        return transcript_ids, genes, parts.str[5]
    return transcript_ids, None, None


def estimates(
    frame: pd.DataFrame,
    path: Path,
    first_row: int,
    *,
    format: str,
    level: Literal["gene", "transcript"],
    columns: dict[str, str],
    qc: dict[str, object],
    gene_column: str | None = None,
    min_length: float = 0.0,
) -> Quant:
    """Build the :class:`Quant` of a one-sample transcript quantifier table.

    Parameters
    ----------
    frame : pd.DataFrame
        The table as text, shape (n_targets, n_fields).
    path : Path
        The file, for messages; also the name of the single column.
    first_row : int
        Line number of the first data row.
    format : str
        Reader name.
    level : {"gene", "transcript"}
        What the rows are.
    columns : dict
        ``{"id", "counts", "abundance", "length"}`` -> the file's column names.
    qc : dict
        QC fields of this sample.
    gene_column : str, optional
        Column holding each transcript's gene id (RSEM isoforms).
    min_length : float
        Lower bound of the effective length (RSEM writes 0 for transcripts shorter than the
        mean fragment; tximport's importers clip it to 1).

    Returns
    -------
    Quant
        ``estimated=True``; abundance (TPM) and length filled.
    """
    ids, genes, names = split_bar_names(frame[columns["id"]].astype(str))
    what = "transcript ids" if level == "transcript" else "gene ids"
    index = gene_index(ids, path, first_row, what)
    name = str(path)
    values = {
        key: numbers_or_raise(frame[[columns[key]]], path, first_row, integer=False).iloc[:, 0].set_axis(index)
        for key in ("counts", "abundance", "length")
    }
    if gene_column is not None:
        genes = frame[gene_column]
    tx2gene = None
    if genes is not None and level == "transcript":
        tx2gene = pd.Series(geneids.strip_versions(genes).to_numpy(), index=index)
    gene_names = None
    if names is not None and tx2gene is not None:
        gene_names = pd.Series(names.to_numpy(), index=tx2gene.to_numpy()).groupby(level=0).first()
    return Quant(
        path=path,
        format=format,
        counts=values["counts"].to_frame(name),
        qc={name: dict(qc)},
        first_row=first_row,
        level=level,
        estimated=True,
        abundance=values["abundance"].to_frame(name),
        length=values["length"].clip(lower=min_length).to_frame(name),
        tx2gene=tx2gene,
        gene_names=gene_names,
    )

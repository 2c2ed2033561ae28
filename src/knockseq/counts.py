"""The foundation step: quantifier outputs -> one integer gene x sample count table, plus QC.

Every input is read and checked before anything is computed, so a bad file fails in seconds
with an :class:`~knockseq.errors.InputError` naming the file, row and column.
:mod:`knockseq.columns` finds each sample's column in the inputs; transcript-level inputs
(salmon, kallisto, RSEM isoforms) are summarised to genes by :mod:`knockseq.tximport`; this
module checks that the samples belong together, names the genes and writes the table and its
per-sample QC.
"""

from __future__ import annotations

import logging
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from knockseq import io, readers
from knockseq.annotation import annotate
from knockseq.columns import Picked, pick_columns, sheet_fields, stack
from knockseq.errors import InputError
from knockseq.geneids import ENSEMBL_ID
from knockseq.readers import Quant
from knockseq.readers.checks import SHOWN
from knockseq.tximport import COUNTS_FROM_ABUNDANCE, gene_estimates, transcript_map

log = logging.getLogger(__name__)

STRANDEDNESS = ("auto", "unstranded", "forward", "reverse")


def build_counts(
    samples: pd.DataFrame,
    *,
    base_dir: str | PathLike,
    counts: str | PathLike | None = None,
    format: str = "auto",
    strandedness: str = "auto",
    tx2gene: str | PathLike | None = None,
    annotation: str | PathLike | None = None,
    counts_from_abundance: str = "lengthScaledTPM",
    sheet_path: str | PathLike | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Build the count table of every sample in the sheet.

    Parameters
    ----------
    samples : pd.DataFrame
        The sample sheet as :func:`knockseq.config.read_sample_sheet` returns it (its checks:
        required columns and cells, unique and well-formed names), one row per sample:
        ``sample``, ``condition``, then optionally ``quant`` (a quantifier output file or folder,
        relative to ``base_dir``), ``column`` (the table column holding this sample, when it is
        not the sample name) and covariates.
    base_dir : str or PathLike
        Folder the ``quant`` paths are relative to.
    counts : str or PathLike, optional
        One table with every sample (a count matrix or a multi-sample featureCounts table),
        instead of per-sample ``quant`` files. The sheet picks and names the columns it uses: a
        sample's column is its ``column`` field if set, else the column named like the sample,
        else the one whose BAM path reduces to the sample name (``bam/s1.bam``,
        ``s1/Aligned.sortedByCoord.out.bam`` -> ``s1``). Other columns are ignored with a note.
        The same matching picks a sample's column in a multi-column ``quant`` file.
    format : str
        ``auto`` (detected from each file's content) or one of
        :data:`knockseq.readers.FORMATS`.
    strandedness : str
        STAR column: ``auto``, ``unstranded``, ``forward`` or ``reverse``.
    tx2gene : str or PathLike, optional
        GTF or transcript_id, gene_id[, gene_name] table for transcript-level inputs. Without it,
        the map carried by the files is used (RSEM isoforms' gene_id column, GENCODE-style
        ``ENST|ENSG|...`` names).
    annotation : str or PathLike, optional
        GTF or gene_id, gene_name table. Without it, names come from tx2gene or the files when
        they carry them (GENCODE-style names; a count matrix's gene-name column, see
        :data:`knockseq.readers.matrix.NAME_COLUMNS`), else each non-Ensembl gene id is its own
        name (Ensembl ids get NA). When set, it wins over names the files carry.
    counts_from_abundance : {"lengthScaledTPM", "scaledTPM", "no"}
        tximport's countsFromAbundance for transcript-level inputs.
    sheet_path : str or PathLike, optional
        The sheet's file, named in error messages.

    Returns
    -------
    table : pd.DataFrame
        Shape (n_genes, 2 + n_samples): ``gene_id``, ``gene_name`` (NaN if unknown), then one
        int64 column per sample in sheet order; rows sorted by gene_id.
    qc : pd.DataFrame
        One row per sample: ``sample``, ``format``, ``assigned`` (sum of its counts),
        ``detected_genes`` (genes with a count > 0), then the format's QC fields.
    notes : list of str
        What the user should know (ignored columns, rounding, tximport mode, missing names,
        which column of a count matrix named the genes or that the annotation overrode it).

    Raises
    ------
    InputError
        Any problem with the options or an input file (its format, header, values, a sample
        whose counts are all zero), before computing anything.
    """
    where = Path(sheet_path) if sheet_path is not None else "sample sheet"
    _check_options(format, strandedness, counts_from_abundance)
    sheet = sheet_fields(samples)
    notes: list[str] = []
    if counts is not None and "quant" in samples.columns:
        notes.append("`counts:` is set, so the sheet's quant column is not used.")
    picked = pick_columns(sheet, Path(base_dir), counts, format, strandedness, where, notes)
    quants = list({id(quant): quant for quant, _ in picked.values()}.values())
    _check_same_kind(picked, where)
    for quant in quants:
        notes.extend(quant.notes)

    first = quants[0]
    tx_map = None
    if first.level == "transcript":
        tx_map = transcript_map(first, tx2gene)
        values = gene_estimates(picked, tx_map, counts_from_abundance, notes)
    else:
        values = stack(picked, "counts")
        if first.estimated:
            notes.append(
                f"{first.format} gene-level counts are fractional estimates: rounded to integers; "
                f"countsFromAbundance={counts_from_abundance} does not apply to gene-level files "
                "(give the transcript-level files for a length correction)."
            )
    if first.estimated:
        values = values.round().astype("int64")
    _check_reads(picked, values)
    values = values.sort_index()
    names = _gene_names(values.index, annotation, tx_map, quants, notes)
    table = pd.concat([pd.Series(values.index, index=values.index, name="gene_id"), names], axis=1)
    table = pd.concat([table, values], axis=1).reset_index(drop=True)
    qc = _qc_table(picked, values, counts_from_abundance if first.level == "transcript" else None)
    for note in notes:
        log.info(note)
    return table, qc, notes


def write_counts(table: pd.DataFrame, qc: pd.DataFrame, counts_path: str | PathLike, qc_path: str | PathLike) -> None:
    """Write ``counts.tsv`` and ``qc.tsv`` atomically (see docs/contracts.md)."""
    io.write_tsv(table, counts_path)
    io.write_tsv(qc, qc_path)


def _check_options(format: str, strandedness: str, counts_from_abundance: str) -> None:
    """Reject unknown option values before any file is opened."""
    allowed = {
        "format": ("auto", *readers.FORMATS),
        "strandedness": STRANDEDNESS,
        "counts_from_abundance": tuple(COUNTS_FROM_ABUNDANCE),
    }
    given = {"format": format, "strandedness": strandedness, "counts_from_abundance": counts_from_abundance}
    for key, value in given.items():
        if value not in allowed[key]:
            raise InputError(f"unknown value {value!r}.", column=key, fix=f"use one of {', '.join(allowed[key])}.")


def _check_same_kind(picked: Picked, where: Path | str) -> None:
    """All samples from one tool, at one level, one strandedness, over one set of features."""
    kinds: dict[str, list[str]] = {}
    for sample, (quant, _) in picked.items():
        kinds.setdefault(f"{quant.format} {quant.level}-level", []).append(sample)
    if len(kinds) > 1:
        listed = "; ".join(f"{kind}: {', '.join(samples)}" for kind, samples in kinds.items())
        raise InputError(
            f"samples come from different formats or levels ({listed}).",
            path=where,
            column="quant",
            fix="quantify every sample with the same tool and give the same kind of file for each.",
        )
    qc = {sample: quant.qc.get(column, {}) for sample, (quant, column) in picked.items()}
    chosen = {sample: fields["strandedness"] for sample, fields in qc.items() if "strandedness" in fields}
    if len(set(chosen.values())) > 1:
        listed = ", ".join(f"{sample}: {value}" for sample, value in chosen.items())
        raise InputError(
            f"strandedness inferred differently for different samples ({listed}).",
            column="strandedness",
            fix="set `strandedness:` to the library type (one protocol per experiment), or check the odd samples.",
        )
    (first, (reference, _)), *others = picked.items()
    what = "transcript" if reference.level == "transcript" else "gene"
    for sample, (quant, _) in others:
        if quant.counts.index.equals(reference.counts.index):
            continue
        ids, theirs = set(reference.counts.index), set(quant.counts.index)
        if ids == theirs:
            continue
        missing, extra = sorted(ids - theirs), sorted(theirs - ids)
        example = ", ".join((missing or extra)[:SHOWN])
        raise InputError(
            f"samples {first} and {sample} have different {what} sets: {len(missing)} {what}s of {first} are "
            f"missing from {sample} and {len(extra)} {what}s of {sample} are not in {first} (e.g. {example}).",
            path=quant.path,
            fix="quantify every sample against the same annotation / index.",
        )


def _check_reads(picked: Picked, values: pd.DataFrame) -> None:
    """Raise if a sample has no reads: it has no size factor and nothing to test."""
    empty = values.columns[(values == 0).all()]
    if len(empty):
        quant, column = picked[empty[0]]
        raise InputError(
            f"sample {empty[0]!r} has no reads: every count in its column is 0.",
            path=quant.path,
            column=str(column) if len(quant.columns) > 1 else None,
            fix="check that the file is this sample's output (a failed alignment or an empty BAM gives all zeros), "
            "or remove the sample from the sheet.",
        )


def _gene_names(
    genes: pd.Index,
    annotation: str | PathLike | None,
    tx_map: pd.DataFrame | None,
    quants: list[Quant],
    notes: list[str],
) -> pd.Series:
    """gene_name for each gene: annotation, else names the inputs carry, else the id itself.

    A count matrix's gene-name column (``Quant.name_column``) gets a note saying whether it
    served or the configured annotation overrode it.
    """
    named = [quant for quant in quants if quant.name_column is not None]
    if annotation is not None:
        names = annotate(genes, annotation)
        if names.isna().any():
            notes.append(f"{int(names.isna().sum())} of {len(genes)} genes have no gene_name in {annotation}.")
        for quant in named:
            notes.append(
                f"gene names from `annotation:` {annotation}; column '{quant.name_column}' of {quant.path} "
                "not used (the configured annotation wins)."
            )
        return names.rename("gene_name")
    carried = [quant.gene_names for quant in quants if quant.gene_names is not None]
    if tx_map is not None:
        carried.append(tx_map.dropna().drop_duplicates("gene_id").set_index("gene_id")["gene_name"])
    if carried and any(c.notna().any() for c in carried):
        names = pd.concat(carried).dropna().groupby(level=0).first().reindex(genes).rename("gene_name")
        for quant in named:
            notes.append(
                f"gene names from column '{quant.name_column}' of {quant.path}"
                + (f" ({int(names.isna().sum())} of {len(genes)} genes have none)" if names.isna().any() else "")
                + "; set `annotation:` to name genes from another source."
            )
        return names
    ensembl = genes.str.match(ENSEMBL_ID)
    if ensembl.any():
        notes.append(
            f"no annotation given: the {int(ensembl.sum())} Ensembl gene ids have no gene_name (set `annotation:`)."
        )
    return pd.Series(np.where(ensembl, None, genes), index=genes, name="gene_name", dtype=object)


def _qc_table(picked: Picked, values: pd.DataFrame, counts_from_abundance: str | None) -> pd.DataFrame:
    """One QC row per sample (columns: see :func:`build_counts`)."""
    rows = []
    for sample, (quant, column) in picked.items():
        row = {
            "sample": sample,
            "format": quant.format,
            "assigned": int(values[sample].sum()),
            "detected_genes": int((values[sample] > 0).sum()),
        }
        if counts_from_abundance is not None:
            row["counts_from_abundance"] = counts_from_abundance
        rows.append(row | quant.qc.get(column, {}))
    return pd.DataFrame(rows)

"""The foundation step: quantifier outputs -> one integer gene x sample count table, plus QC.

Every input is read and checked before anything is computed, so a bad file fails in seconds
with an :class:`~knockseq.errors.InputError` naming the file, row and column. Transcript-level
inputs (salmon, kallisto, RSEM isoforms) are summarised to genes with tximport's rules
(pytximport), by default ``countsFromAbundance="lengthScaledTPM"``: PyDESeq2 takes no
per-gene length offsets, so the length correction has to be in the counts.
"""

from __future__ import annotations

import logging
import re
from os import PathLike
from pathlib import Path

import numpy as np
import pandas as pd

from knockseq import io, readers
from knockseq.annotation import annotate, load_tx2gene
from knockseq.errors import InputError
from knockseq.readers import Quant
from knockseq.geneids import ENSEMBL_ID
from knockseq.readers.checks import SHOWN

log = logging.getLogger(__name__)

#: tximport's countsFromAbundance values -> pytximport's names (None: plain summed counts).
COUNTS_FROM_ABUNDANCE = {"lengthScaledTPM": "length_scaled_tpm", "scaledTPM": "scaled_tpm", "no": None}
STRANDEDNESS = ("auto", "unstranded", "forward", "reverse")
#: BAM names STAR and TopHat give every sample; the sample is then the folder's name.
ALIGNER_DEFAULT_NAME = re.compile(r"^(?P<prefix>.*?)[._]?(Aligned\.sortedByCoord\.out|Aligned\.out|accepted_hits)$")


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
    sheet = _sheet_fields(samples)
    notes: list[str] = []
    if counts is not None and "quant" in samples.columns:
        notes.append("`counts:` is set, so the sheet's quant column is not used.")
    picked = _pick_columns(sheet, Path(base_dir), counts, format, strandedness, where, notes)
    quants = list({id(quant): quant for quant, _ in picked.values()}.values())
    _check_same_kind(picked, where)
    for quant in quants:
        notes.extend(quant.notes)

    first = quants[0]
    tx_map = None
    if first.level == "transcript":
        tx_map = _transcript_map(first, tx2gene)
        values = _gene_estimates(picked, tx_map, counts_from_abundance, notes)
    else:
        values = _stack(picked, "counts")
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


def summarise_to_genes(
    counts: pd.DataFrame,
    abundance: pd.DataFrame,
    length: pd.DataFrame,
    tx2gene: pd.Series,
    counts_from_abundance: str = "lengthScaledTPM",
) -> pd.DataFrame:
    """tximport's transcript -> gene summary, through pytximport.

    Parameters
    ----------
    counts, abundance, length : pd.DataFrame
        Shape (n_transcripts, n_samples): estimated counts, TPM and effective length, same
        index (transcript ids) and columns (samples).
    tx2gene : pd.Series
        transcript_id -> gene_id for every transcript of ``counts``.
    counts_from_abundance : {"lengthScaledTPM", "scaledTPM", "no"}
        ``no``: summed counts. ``scaledTPM``: gene TPM (sum of transcript TPM) scaled to each
        sample's summed counts. ``lengthScaledTPM``: gene TPM times the gene's mean effective
        length over samples (the abundance-weighted mean of its transcripts' lengths per
        sample), scaled the same way.

    Returns
    -------
    pd.DataFrame
        Shape (n_genes, n_samples), float gene counts indexed by gene_id.
    """
    # Imported here: pytximport pulls in anndata and xarray, which gene-level runs never need.
    import xarray as xr
    from pytximport.utils import convert_transcripts_to_genes

    dims = ("transcript_id", "file")
    dataset = xr.Dataset(
        {
            "counts": (dims, counts.to_numpy(dtype=float)),
            "abundance": (dims, abundance.to_numpy(dtype=float)),
            "length": (dims, length.to_numpy(dtype=float)),
        },
        coords={"transcript_id": counts.index.to_numpy(), "file_path": counts.columns.to_numpy()},
    )
    mapping = pd.DataFrame({"transcript_id": tx2gene.index.to_numpy(), "gene_id": tx2gene.to_numpy()})
    genes = convert_transcripts_to_genes(
        dataset, mapping, counts_from_abundance=COUNTS_FROM_ABUNDANCE[counts_from_abundance]
    )
    result = genes["counts"].to_pandas()
    result.columns = counts.columns
    result.index.name = "gene_id"
    return result


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


def _sheet_fields(samples: pd.DataFrame) -> pd.DataFrame:
    """The sheet's sample, quant and column fields as text, with each sample's line number.

    Returns
    -------
    pd.DataFrame
        Shape (n_samples, 4): ``sample``, ``quant``, ``column`` ("" when unset) and ``row``
        (line number in the sheet file, the header being line 1).
    """
    sheet = pd.DataFrame({"row": np.arange(len(samples)) + 2})
    for column in ("sample", "quant", "column"):
        values = samples[column] if column in samples.columns else pd.Series([""] * len(samples))
        sheet[column] = values.fillna("").astype(str).str.strip().to_numpy()
    return sheet


def _pick_columns(
    sheet: pd.DataFrame,
    base_dir: Path,
    counts: str | PathLike | None,
    format: str,
    strandedness: str,
    where: Path | str,
    notes: list[str],
) -> dict[str, tuple[Quant, str]]:
    """Read each input file once and find every sample's column in it.

    Returns
    -------
    dict
        sample -> (parsed file, its column holding the sample), in sheet order.
    """
    if counts is not None:
        paths = {sample: Path(counts) for sample in sheet["sample"]}
    else:
        paths = {}
        for sample, quant, row in zip(sheet["sample"], sheet["quant"], sheet["row"]):
            try:
                paths[sample] = readers.resolve(base_dir / quant)
            except InputError as error:
                error.message = error.message.rstrip(".") + f" (quant of sample {sample!r}, row {row} of {where})."
                raise
    parsed = {
        path: readers.read(path, format=format, strandedness=strandedness) for path in dict.fromkeys(paths.values())
    }
    picked: dict[str, tuple[Quant, str]] = {}
    rows = dict(zip(sheet["sample"], sheet["row"]))
    for sample, wanted in zip(sheet["sample"], sheet["column"]):
        quant = parsed[paths[sample]]
        column = _match_column(sample, wanted, quant, f"row {rows[sample]} of {where}")
        if column in quant.invalid:
            raise quant.invalid[column]
        picked[sample] = (quant, column)
    for quant in parsed.values():
        owners: dict[str, list[str]] = {}
        for sample, (q, column) in picked.items():
            if q is quant:
                owners.setdefault(column, []).append(sample)
        for column, sharing in owners.items():
            if len(sharing) > 1 and len(quant.columns) == 1:
                raise InputError(
                    f"samples {', '.join(sharing)} (rows {', '.join(str(rows[s]) for s in sharing)} of {where}) "
                    "all point at this one-sample file.",
                    path=quant.path,
                    fix="give each sample its own quant file.",
                )
            if len(sharing) > 1:
                raise InputError(
                    f"samples {', '.join(sharing)} all use column {column!r}.",
                    path=quant.path,
                    column=str(column),
                    fix="give each sample its own column (sheet field `column`) or its own file.",
                )
        extra = [str(column) for column in quant.columns if column not in owners]
        if extra:
            notes.append(f"ignored extra columns {', '.join(extra)} of {quant.path}.")
    return picked


def _aliases(column: str) -> set[str]:
    """Names a sample may have in a column named by a BAM path.

    ``bam/s1.bam`` -> ``s1.bam``, ``s1``; ``s1.markdup.sorted.bam`` -> ``s1``;
    ``star/s1/Aligned.sortedByCoord.out.bam`` -> ``s1``; ``star/s1_Aligned.out.bam`` -> ``s1``.
    """
    parts = column.replace("\\", "/").split("/")
    name = parts[-1]
    stem = re.sub(r"\.(bam|sam|cram)$", "", name)
    aliases = {column, name, stem, stem.split(".")[0]}
    default = ALIGNER_DEFAULT_NAME.match(stem)
    if default:
        aliases.add(default.group("prefix") or (parts[-2] if len(parts) > 1 else ""))
    return aliases - {""}


def _match_column(sample: str, wanted: str, quant: Quant, origin: str) -> str:
    """The column of ``quant`` that holds ``sample`` (see :func:`build_counts`).

    ``origin`` says where the sample is in the sheet (``row 3 of samples.tsv``), for messages.
    A table whose row ids include the sample is transposed (samples as rows), and said so.
    """
    columns = quant.columns
    shown = ", ".join(map(str, columns[:10])) + (", ..." if len(columns) > 10 else "")
    if wanted:
        if wanted in columns:
            return wanted
        raise InputError(
            f"has no column {wanted!r} (the `column` of sample {sample!r}, {origin}); its columns are: {shown}.",
            path=quant.path,
            column=wanted,
            fix="correct the sheet's `column` field.",
        )
    if len(columns) == 1:
        return columns[0]
    if sample in columns:
        return sample
    hits = [column for column in columns if sample in _aliases(str(column))]
    if len(hits) == 1:
        return hits[0]
    if hits:
        raise InputError(
            f"several columns match sample {sample!r} ({origin}): {', '.join(map(str, hits))}.",
            path=quant.path,
            fix="name the sample's column in the sheet's `column` field.",
        )
    if sample in quant.counts.index:
        raise InputError(
            f"the table is transposed: sample {sample!r} ({origin}) is a row, and its columns are genes "
            f"({shown}).",
            path=quant.path,
            row=quant.first_row + quant.counts.index.get_loc(sample),
            fix="write the table with one row per gene and one column per sample (transpose it: t() in R, .T in "
            "pandas).",
        )
    raise InputError(
        f"no column for sample {sample!r} ({origin}); its columns are: {shown}.",
        path=quant.path,
        fix="add the sample's column to the table, remove the sample from the sheet, or name its column in the "
        "sheet's `column` field.",
    )


def _check_same_kind(picked: dict[str, tuple[Quant, str]], where: Path | str) -> None:
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


def _check_reads(picked: dict[str, tuple[Quant, str]], values: pd.DataFrame) -> None:
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


def _stack(picked: dict[str, tuple[Quant, str]], field: str) -> pd.DataFrame:
    """One field (counts, abundance, length) of every sample, shape (n_features, n_samples)."""
    (reference, _), *_ = picked.values()
    index = reference.counts.index
    return pd.DataFrame(
        {sample: getattr(quant, field)[column].reindex(index) for sample, (quant, column) in picked.items()}
    )


def _transcript_map(quant: Quant, tx2gene: str | PathLike | None) -> pd.DataFrame:
    """transcript_id -> gene_id, gene_name: the configured tx2gene, else the file's own map."""
    if tx2gene is not None:
        return load_tx2gene(tx2gene)
    if quant.tx2gene is not None:
        names = quant.gene_names if quant.gene_names is not None else pd.Series(dtype=object)
        return pd.DataFrame({"gene_id": quant.tx2gene, "gene_name": quant.tx2gene.map(names)})
    raise InputError(
        f"is transcript-level {quant.format} output and no transcript -> gene map is known.",
        path=quant.path,
        fix="set `tx2gene:` to the GTF the index was built from, or to a transcript_id<TAB>gene_id table.",
    )


def _gene_estimates(
    picked: dict[str, tuple[Quant, str]], tx_map: pd.DataFrame, counts_from_abundance: str, notes: list[str]
) -> pd.DataFrame:
    """Transcript estimates of every sample summarised to gene counts (float)."""
    (reference, _), *_ = picked.values()
    transcripts = reference.counts.index
    known = transcripts.isin(tx_map.index)
    if not known.any():
        raise InputError(
            f"none of its {len(transcripts)} transcript ids (e.g. {', '.join(transcripts[:3])}) is in tx2gene "
            f"(which has e.g. {', '.join(tx_map.index[:3])}).",
            path=reference.path,
            fix="give the tx2gene / GTF of the annotation the quantifier's index was built from.",
        )
    if not known.all():
        lost = transcripts[~known]
        notes.append(
            f"{len(lost)} of {len(transcripts)} transcripts are not in tx2gene and were left out "
            f"(e.g. {', '.join(lost[:SHOWN])})."
        )
    kept = transcripts[known]
    frames = {field: _stack(picked, field).loc[kept] for field in ("counts", "abundance", "length")}
    genes = summarise_to_genes(*frames.values(), tx_map.loc[kept, "gene_id"], counts_from_abundance)
    meaning = {
        "lengthScaledTPM": "gene TPM x mean transcript length, scaled to each sample's read total "
        "(corrects for isoform-driven length changes; PyDESeq2 takes no length offsets)",
        "scaledTPM": "gene TPM scaled to each sample's read total (no length correction)",
        "no": "plain sums of estimated counts (no length correction, and PyDESeq2 takes no offsets)",
    }[counts_from_abundance]
    notes.append(
        f"summarised {len(kept)} transcripts to {len(genes)} genes as tximport does (pytximport), "
        f"countsFromAbundance={counts_from_abundance}: {meaning}; rounded to integers for DESeq2."
    )
    return genes


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


def _qc_table(
    picked: dict[str, tuple[Quant, str]], values: pd.DataFrame, counts_from_abundance: str | None
) -> pd.DataFrame:
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

"""Transcript-level estimates (salmon, kallisto, RSEM isoforms) summarised to gene counts, as tximport.

Through pytximport, by default ``countsFromAbundance="lengthScaledTPM"``: PyDESeq2 takes no
per-gene length offsets, so the length correction has to be in the counts.
"""

from __future__ import annotations

from os import PathLike

import pandas as pd

from knockseq.annotation import load_tx2gene
from knockseq.columns import Picked, stack
from knockseq.errors import InputError
from knockseq.readers import Quant
from knockseq.readers.checks import SHOWN

#: tximport's countsFromAbundance values -> pytximport's names (None: plain summed counts).
COUNTS_FROM_ABUNDANCE = {"lengthScaledTPM": "length_scaled_tpm", "scaledTPM": "scaled_tpm", "no": None}


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


def transcript_map(quant: Quant, tx2gene: str | PathLike | None) -> pd.DataFrame:
    """transcript_id -> gene_id, gene_name: the configured tx2gene, else the file's own map.

    Parameters
    ----------
    quant : Quant
        A transcript-level input (its ``tx2gene`` and ``gene_names``, if the file carries them).
    tx2gene : str or PathLike, optional
        The configured GTF or table (:func:`knockseq.annotation.load_tx2gene`).

    Returns
    -------
    pd.DataFrame
        Shape (n_transcripts, 2): index ``transcript_id``, columns ``gene_id`` and ``gene_name``.

    Raises
    ------
    InputError
        When neither the config nor the file gives a map.
    """
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


def gene_estimates(picked: Picked, tx_map: pd.DataFrame, counts_from_abundance: str, notes: list[str]) -> pd.DataFrame:
    """Transcript estimates of every sample summarised to gene counts.

    Parameters
    ----------
    picked : Picked
        Every sample's transcript-level input and column (:func:`knockseq.columns.pick_columns`).
    tx_map : pd.DataFrame
        :func:`transcript_map`; transcripts it lacks are left out, with a note.
    counts_from_abundance : {"lengthScaledTPM", "scaledTPM", "no"}
        See :func:`summarise_to_genes`.
    notes : list of str
        Appended to: transcripts left out, and how the counts were summarised.

    Returns
    -------
    pd.DataFrame
        Shape (n_genes, n_samples), float gene counts indexed by gene_id.

    Raises
    ------
    InputError
        When no transcript of the inputs is in ``tx_map``.
    """
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
    frames = {field: stack(picked, field).loc[kept] for field in ("counts", "abundance", "length")}
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

"""A seeded synthetic knockdown screen: siRNAs against their own target genes, in batches.

Used by ``tests/test_screen.py`` and ``bench/screen_fit.py``. Counts are negative binomial with
DESeq2's usual mean-dispersion shape (``0.01 + 1 / mean``), a per-gene batch effect and per-sample library sizes; each
siRNA divides its own target gene's mean by 4 (log2 fold change -2) and leaves every other gene
alone, so each contrast ``siRNA_k vs NTC`` has exactly one true change.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

#: Level of the non-targeting control in the ``sirna_target`` column.
CONTROL = "NTC"
#: log2 fold change of each siRNA's target gene.
KNOCKDOWN_LOG2FC = -2.0


def sirna_name(k: int) -> str:
    """Level of the k-th siRNA (0-based) in the ``sirna_target`` column."""
    return f"si{target_name(k)}"


def target_name(k: int) -> str:
    """Gene name of the k-th siRNA's target (0-based)."""
    return f"TGT{k + 1:02d}"


def make_screen(
    n_sirnas: int = 10,
    n_batches: int = 3,
    n_genes: int = 2000,
    *,
    controls_per_batch: int = 1,
    seed: int = 0,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Counts and sample sheet of a screen of ``n_sirnas`` siRNAs and a non-targeting control.

    Every batch holds one sample of each siRNA and ``controls_per_batch`` control samples.
    Gene ``k`` (``gene_id`` ``G00001`` ..., name :func:`target_name`) is the target of siRNA
    ``k`` and is given a mean of at least 500 reads, so its knockdown is detectable.

    Parameters
    ----------
    n_sirnas, n_batches, n_genes : int
        Screen size; ``n_genes`` must be at least ``n_sirnas``.
    controls_per_batch : int
        Non-targeting control samples per batch.
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same screen.

    Returns
    -------
    counts : pandas.DataFrame
        ``counts.tsv`` shape: ``gene_id``, ``gene_name``, then one integer column per sample
        (n_genes rows, n_batches * (n_sirnas + controls_per_batch) sample columns).
    sheet : pandas.DataFrame
        One row per sample: ``sample``, ``condition`` (knockdown / control), ``sirna_target``
        (siRNA level or :data:`CONTROL`), ``batch`` (b1, b2 ...), all strings.
    """
    rng = np.random.default_rng(seed)
    rows = []
    for b in range(n_batches):
        levels = [sirna_name(k) for k in range(n_sirnas)] + [CONTROL] * controls_per_batch
        for i, level in enumerate(levels):
            suffix = f"_{i - n_sirnas + 1}" if level == CONTROL and controls_per_batch > 1 else ""
            rows.append(
                {
                    "sample": f"{level}{suffix}_b{b + 1}",
                    "condition": "control" if level == CONTROL else "knockdown",
                    "sirna_target": level,
                    "batch": f"b{b + 1}",
                }
            )
    sheet = pd.DataFrame(rows)

    base = np.exp(rng.normal(np.log(150), 1.6, n_genes))
    base[:n_sirnas] = np.maximum(base[:n_sirnas], 500)
    # cultured cell lines: replicates agree more than tissues do (asymptotic dispersion 0.01)
    dispersion = 0.01 + 1.0 / base
    batch_effect = rng.normal(0, 0.25, (n_genes, n_batches))
    library = rng.uniform(0.7, 1.4, len(sheet))
    log_mu = np.log(base)[:, None] + batch_effect[:, sheet["batch"].str[1:].astype(int) - 1]
    for k in range(n_sirnas):
        log_mu[k, (sheet["sirna_target"] == sirna_name(k)).to_numpy()] += KNOCKDOWN_LOG2FC * np.log(2)
    mu = np.exp(log_mu) * library
    size = 1 / dispersion[:, None]
    values = rng.negative_binomial(size, size / (size + mu))

    ids = [f"G{i + 1:05d}" for i in range(n_genes)]
    names = [target_name(i) if i < n_sirnas else f"GENE{i + 1:05d}" for i in range(n_genes)]
    counts = pd.DataFrame(values, columns=sheet["sample"].tolist())
    counts.insert(0, "gene_name", names)
    counts.insert(0, "gene_id", ids)
    return counts, sheet

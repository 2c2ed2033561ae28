"""Gene identifiers: the Ensembl id patterns, their version suffixes, and what kind a list holds.

Every reader, the annotation and the count table recognise Ensembl ids and strip their versions
(``ENSG00000123.12`` -> ``ENSG00000123``) through this module, so an id means the same gene in
every input. :func:`id_kind` names the kind of ids a list holds (Ensembl, Entrez, RefSeq or gene
symbols) for the messages of the checks that compare two sources of genes (counts and
annotation, data and a GMT): when they share nothing, the usual cause is two id types
(Ensembl-keyed counts with an Entrez-keyed annotation, a symbol GMT against Entrez-named genes),
and saying which two tells the user what to fetch.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from typing import TypeVar

import pandas as pd

#: An Ensembl stable id's letters (``ENS``, then species and feature letters) and its digits.
_ENSEMBL_LETTERS, _ENSEMBL_DIGITS = r"ENS[A-Z]*", r"\d{6,}"
#: An optional version suffix, with GENCODE's ``_PAR_Y`` for the copy on chromosome Y.
_OPTIONAL_VERSION = r"(\.\d+)?(_PAR_Y)?$"

#: Any Ensembl stable id at the start of a text (gene, transcript, other species' prefixes).
ENSEMBL_ID = re.compile(rf"^{_ENSEMBL_LETTERS}{_ENSEMBL_DIGITS}")
#: An Ensembl gene id at the start of a text (``ENSG``, ``ENSMUSG``), as GENCODE names carry them.
ENSEMBL_GENE_ID = re.compile(rf"^{_ENSEMBL_LETTERS}G{_ENSEMBL_DIGITS}")
#: An Ensembl/GENCODE id with a version: ``ENSG00000123.12``, ``ENSMUST0000001.3``,
#: ``ENSG00000182378.14_PAR_Y``. Only these are stripped: dots are part of ids elsewhere
#: (WormBase ``Y74C9A.3``, RefSeq ``NM_000014.6`` where the version is not a release tag).
ENSEMBL_VERSION = re.compile(rf"^({_ENSEMBL_LETTERS}{_ENSEMBL_DIGITS})\.\d+(_PAR_Y)?$")

#: Id kinds, tried in order on each id; the first pattern that matches names its kind.
KINDS = (
    # ENSG, ENSMUSG (species prefix before the G) and simulated ENSGSIM ids alike.
    ("Ensembl gene ids", re.compile(rf"^ENS(?:[A-Z]{{0,4}}G|G[A-Z]{{0,4}}){_ENSEMBL_DIGITS}{_OPTIONAL_VERSION}")),
    ("Ensembl transcript ids", re.compile(rf"^ENS(?:[A-Z]{{0,4}}T|T[A-Z]{{0,4}}){_ENSEMBL_DIGITS}{_OPTIONAL_VERSION}")),
    ("RefSeq ids", re.compile(r"^[NX][MRP]_\d+(\.\d+)?$")),
    ("Entrez gene ids", re.compile(r"^\d+$")),
    ("gene symbols", re.compile(r"^[A-Za-z][A-Za-z0-9._@/-]*$")),
)

#: Share of the ids one kind must cover to name the whole list.
MAJORITY = 0.8

#: How many ids are looked at: the kind of a list shows in its first few hundred.
SAMPLED = 1000

Ids = TypeVar("Ids", pd.Index, pd.Series)


def strip_versions(ids: Ids) -> Ids:
    """Ensembl ids without their version suffix (``ENSG00000123.12`` -> ``ENSG00000123``).

    Parameters
    ----------
    ids : pandas.Index or pandas.Series
        Ids (n_ids), as text or anything ``astype(str)`` turns into it.

    Returns
    -------
    pandas.Index or pandas.Series
        The same type, length and order: ids matching :data:`ENSEMBL_VERSION` lose their
        version (``_PAR_Y`` is kept), all others are unchanged.
    """
    return ids.astype(str).str.replace(ENSEMBL_VERSION, r"\1\2", regex=True)


def id_kind(ids: Iterable[object]) -> str:
    """The kind of gene identifiers in ``ids``.

    Parameters
    ----------
    ids : iterable
        Gene ids or names (n_ids); missing and empty values are skipped, the first
        :data:`SAMPLED` others are looked at.

    Returns
    -------
    str
        One of the names in :data:`KINDS` when it covers at least :data:`MAJORITY` of the ids,
        else ``"mixed ids"`` (``"no ids"`` when there are none).
    """
    kinds: Counter[str] = Counter()
    for value in ids:
        text = "" if value is None or value != value else str(value).strip()  # value != value: NaN
        if not text:
            continue
        kinds[next((name for name, pattern in KINDS if pattern.match(text)), "other")] += 1
        if sum(kinds.values()) >= SAMPLED:
            break
    if not kinds:
        return "no ids"
    name, n = kinds.most_common(1)[0]
    return name if name != "other" and n >= MAJORITY * sum(kinds.values()) else "mixed ids"


def examples(ids: Iterable[object], n: int = 3) -> str:
    """The first ``n`` non-missing ids, comma-separated, for messages."""
    shown = []
    for value in ids:
        if value is not None and value == value and str(value).strip():
            shown.append(str(value))
            if len(shown) == n:
                break
    return ", ".join(shown)

"""What kind of gene identifiers a list holds: Ensembl, Entrez, RefSeq or gene symbols.

Used by the messages of the checks that compare two sources of genes (counts and annotation,
data and a GMT): when they share nothing, the usual cause is two id types (Ensembl-keyed counts
with an Entrez-keyed annotation, a symbol GMT against Entrez-named genes), and saying which two
tells the user what to fetch.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

#: Id kinds, tried in order on each id; the first pattern that matches names its kind.
KINDS = (
    # ENSG, ENSMUSG (species prefix before the G) and simulated ENSGSIM ids alike.
    ("Ensembl gene ids", re.compile(r"^ENS(?:[A-Z]{0,4}G|G[A-Z]{0,4})\d{6,}(\.\d+)?(_PAR_Y)?$")),
    ("Ensembl transcript ids", re.compile(r"^ENS(?:[A-Z]{0,4}T|T[A-Z]{0,4})\d{6,}(\.\d+)?(_PAR_Y)?$")),
    ("RefSeq ids", re.compile(r"^[NX][MRP]_\d+(\.\d+)?$")),
    ("Entrez gene ids", re.compile(r"^\d+$")),
    ("gene symbols", re.compile(r"^[A-Za-z][A-Za-z0-9._@/-]*$")),
)

#: Share of the ids one kind must cover to name the whole list.
MAJORITY = 0.8

#: How many ids are looked at: the kind of a list shows in its first few hundred.
SAMPLED = 1000


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

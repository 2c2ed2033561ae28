"""Gene-set collections: local GMT files, MSigDB releases pinned by sha256, the bundled ER core set.

The entry point for gene sets: strict GMT parsing, the configured sources loaded into one
:class:`GeneSetCollection` and the combined files the workflow passes between jobs. Every
collection is recorded with its name, version, source (URL or path) and sha256, so any result can
be traced to the exact gene sets it used. MSigDB files come through :mod:`knockseq.msigdb` (its
cache, lock and hash checks); a collection that cannot be had is by default reported as
``unavailable`` and the run goes on with the others.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from knockseq import __version__
from knockseq.errors import InputError
from knockseq.geneids import examples, id_kind
from knockseq.io import write_json, write_text
from knockseq.msigdb import FILE_NAME, MSIGDB_BASE_URL, load_msigdb, msigdb_url, sha256_file

__all__ = [
    "ER_CORE_SET",
    "ER_CORE_VERSION",
    "GeneSetCollection",
    "builtin_path",
    "check_gmt_genes",
    "er_core_genes",
    "load_gene_sets",
    "msigdb_url",
    "read_gene_sets",
    "read_gmt",
    "sha256_file",
    "write_gene_sets",
]

#: Name of the one set in the bundled ``er_core.gmt``.
ER_CORE_SET = "KNOCKSEQ_ER_CORE"

#: Version of the curated ER core list; bump it whenever ``er_core.gmt`` changes.
ER_CORE_VERSION = "2"

#: Builtin collections: name -> (file in ``knockseq/data``, version). ``hallmark`` is MSigDB's
#: hallmark collection (``data/hallmark.md``: release, licence and citation).
BUILTINS = {"er_core": ("er_core.gmt", ER_CORE_VERSION), "hallmark": ("h.all.v7.0.symbols.gmt", "7.0")}
_SOURCE_KEYS = {
    "builtin": {"builtin"},
    "gmt": {"gmt"},
    "msigdb": {"msigdb", "version", "sha256", "require", "base_url"},
}
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")


@dataclass
class GeneSetCollection:
    """Gene sets from one or more sources, with where each came from.

    Attributes
    ----------
    sets : dict of str to list of str
        Set name -> gene symbols (source order, duplicates removed). Names are unique across
        all sources.
    collection_of : dict of str to str
        Set name -> name of the collection (provenance entry) it came from.
    provenance : list of dict
        One entry per configured source, in config order: ``name``, ``version``, ``source``
        (URL or path), ``sha256`` (of the file used; null when unavailable), ``n_sets``,
        ``status`` (``loaded``, ``downloaded``, ``cached`` or ``unavailable``), ``kind``
        (``builtin``, ``gmt``, ``msigdb``) and, when unavailable, ``message``.
    """

    sets: dict[str, list[str]] = field(default_factory=dict)
    collection_of: dict[str, str] = field(default_factory=dict)
    provenance: list[dict[str, Any]] = field(default_factory=list)

    def by_collection(self) -> dict[str, dict[str, list[str]]]:
        """Sets grouped by collection name, in provenance order (unavailable ones omitted)."""
        grouped: dict[str, dict[str, list[str]]] = {}
        for entry in self.provenance:
            if entry["status"] != "unavailable":
                grouped[entry["name"]] = {}
        for name, genes in self.sets.items():
            grouped[self.collection_of[name]][name] = genes
        return grouped


def read_gmt(path: str | os.PathLike) -> dict[str, list[str]]:
    """Read a GMT file strictly.

    Unlike ``gseapy.parser.read_gmt``, which silently skips short lines and needs a ``.gmt``
    suffix, every malformed line is an error naming its line number, because a dropped set would
    silently change every downstream result.

    Parameters
    ----------
    path : str or PathLike
        Tab-separated file: set name, description, then one gene per field. Blank lines and
        empty trailing fields are ignored.

    Returns
    -------
    dict of str to list of str
        Set name -> genes, in file order, duplicates within a set removed.

    Raises
    ------
    InputError
        On a missing or unreadable file, a line without genes, a repeated set name, or a file
        without any set.
    """
    return {name: genes for name, _, genes in _gmt_records(path)}


def _gmt_records(path: str | os.PathLike, allow_empty: bool = False) -> list[tuple[str, str, list[str]]]:
    """(name, description, genes) of each line of a GMT file; see :func:`read_gmt` for the checks."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError("gene set file not found.", path=path, fix="check the path in gene_sets.") from None
    except UnicodeDecodeError:
        packed = path.read_bytes()[:2] == b"\x1f\x8b"
        raise InputError(
            "is gzip-compressed, not a GMT text file." if packed else "is a binary file, not a GMT text file.",
            path=path,
            fix="decompress it (gunzip) and give the .gmt."
            if packed
            else "give a tab-separated GMT file "
            "(NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2 ...), e.g. MSigDB's 'Gene Symbols' .gmt download.",
        ) from None
    if text.lstrip().lower().startswith(("<!doctype html", "<html")):
        raise InputError(
            "is an HTML page, not a GMT file (a web page saved instead of the file it links to).",
            path=path,
            fix="download the .gmt file itself (e.g. MSigDB's 'Gene Symbols' link, or `curl -O URL`).",
        )
    records: list[tuple[str, str, list[str]]] = []
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = [f.strip() for f in line.split("\t")]
        genes = [g for g in fields[2:] if g]
        if not fields[0] or not genes:
            filled = sum(1 for f in fields if f)
            found = f"{filled} non-empty tab-separated field{'s' if filled != 1 else ''}" + (
                ", with spaces where tabs belong" if filled < 3 and len(line.split()) >= 3 else ""
            )
            raise InputError(
                f"has {found}; a GMT line needs a set name, a description and at least one gene, separated by tabs.",
                path=path,
                row=number,
                fix="fix or remove this line (GMT: NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2 ...).",
            )
        if fields[0] in seen:
            raise InputError(
                f"gene set '{fields[0]}' appears twice.", path=path, row=number, fix="keep one line per set name."
            )
        seen.add(fields[0])
        records.append((fields[0], fields[1], list(dict.fromkeys(genes))))
    if not records and not allow_empty:
        raise InputError(
            "the GMT file holds no gene set (it is empty).",
            path=path,
            fix="give a GMT file with one line per set: NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2 ...",
        )
    return records


def check_gmt_genes(collection: GeneSetCollection, gene_ids: Sequence[str], gene_names: Sequence[Any]) -> None:
    """Raise if a local GMT shares no gene with the data (GSEA matches genes by gene_name).

    Parameters
    ----------
    collection : GeneSetCollection
        The loaded gene sets; its ``gmt`` sources are checked.
    gene_ids, gene_names : sequence
        The count table's ``gene_id`` and ``gene_name`` columns (n_genes each; names may be
        missing).

    Raises
    ------
    InputError
        Naming the GMT, the kind of ids its genes and the data's gene names look like, and
        what to give instead.
    """
    names = {str(n) for n in gene_names if n is not None and n == n}  # n == n: not NaN
    for entry in collection.provenance:
        if entry["kind"] != "gmt":
            continue
        genes = [
            g
            for name, members in collection.sets.items()
            if collection.collection_of[name] == entry["name"]
            for g in members
        ]
        if names.intersection(genes):
            continue
        ids = id_kind(gene_ids)
        theirs = id_kind(genes)
        if names:
            ours = id_kind(names)
            data = f"the data's gene names look like {ours} (e.g. {examples(sorted(names))})"
        else:
            ours = None
            data = f"the data have no gene names (their ids are {ids} and `annotation:` is not set)"
        if ours == "gene symbols":
            fix = f"give a GMT of gene symbols (e.g. MSigDB's .symbols.gmt), or convert this one's {theirs} to symbols."
        else:
            fix = (
                f"set `annotation:` to a GTF or gene_id<TAB>gene_name table for the counts' {ids}, so that genes "
                f"are named by symbol" + (f", or give a GMT in {ours}." if ours else ".")
            )
        raise InputError(
            f"shares no gene with the data: its genes look like {theirs} (e.g. {examples(genes)}) and {data}.",
            path=entry["source"],
            fix=fix,
        )


def builtin_path(name: str) -> Path:
    """Path of a gene-set file shipped with knockseq (``er_core``, ``hallmark``)."""
    if name not in BUILTINS:
        raise InputError(
            f"unknown builtin gene set '{name}'.",
            column="gene_sets",
            fix=f"use one of: {', '.join(sorted(BUILTINS))}.",
        )
    return Path(str(resources.files("knockseq") / "data" / BUILTINS[name][0]))


def er_core_genes() -> list[str]:
    """The genes of the bundled ER core set, in file order."""
    return read_gmt(builtin_path("er_core"))[ER_CORE_SET]


def load_gene_sets(
    sources: list[dict[str, Any]],
    *,
    cache_dir: str | os.PathLike,
    base_dir: str | os.PathLike = ".",
    base_url: str = MSIGDB_BASE_URL,
    timeout: float = 60.0,
) -> GeneSetCollection:
    """Load every configured gene-set source into one collection, with provenance.

    Parameters
    ----------
    sources : list of dict
        Config ``gene_sets:`` entries, each one of ``{builtin: er_core}``, ``{gmt: PATH}`` or
        ``{msigdb: COLLECTION, version: RELEASE, sha256: HEX (optional), require: BOOL (optional),
        base_url: URL (optional, a mirror of the release folder; wins over ``base_url`` below)}``.
    cache_dir : str or PathLike
        Folder for downloaded MSigDB files (relative paths are taken from ``base_dir``).
    base_dir : str or PathLike
        Folder that relative ``gmt:`` paths and ``cache_dir`` are relative to.
    base_url : str
        MSigDB release root of the entries without their own ``base_url``.
    timeout : float
        Seconds to wait for the MSigDB server before giving up.

    Returns
    -------
    GeneSetCollection

    Raises
    ------
    InputError
        On a malformed entry, an unreadable GMT, a hash mismatch, a required MSigDB collection
        that cannot be downloaded, or one set name given by two sources.
    """
    if not sources:
        raise InputError("no gene sets configured.", column="gene_sets", fix="add at least {builtin: er_core}.")
    base = Path(base_dir)
    cache = Path(cache_dir) if Path(cache_dir).is_absolute() else base / cache_dir
    result = GeneSetCollection()
    for index, entry in enumerate(sources, start=1):
        kind = _source_kind(entry, index)
        if kind == "builtin":
            path = builtin_path(entry["builtin"])
            sets = read_gmt(path)
            record = {
                "name": entry["builtin"],
                "version": BUILTINS[entry["builtin"]][1],
                "source": f"knockseq {__version__}: data/{path.name}",
                "sha256": sha256_file(path),
                "status": "loaded",
            }
        elif kind == "gmt":
            path = Path(entry["gmt"]) if Path(entry["gmt"]).is_absolute() else base / entry["gmt"]
            sets = read_gmt(path)
            match = FILE_NAME.match(path.name)
            record = {
                "name": match["name"] if match else path.name.removesuffix(".gmt"),
                "version": match["version"] if match else None,
                "source": str(entry["gmt"]),
                "sha256": sha256_file(path),
                "status": "loaded",
            }
        else:
            sets, record = load_msigdb(entry, cache, base_url, timeout, read_gmt)
        record["kind"] = kind
        record["n_sets"] = len(sets)
        _add_sets(result, sets, record)
        result.provenance.append(record)
    return result


def write_gene_sets(
    collection: GeneSetCollection, gmt_path: str | os.PathLike, provenance_path: str | os.PathLike
) -> None:
    """Write the combined GMT (description field = collection name) and the provenance JSON."""
    lines = ["\t".join([name, collection.collection_of[name], *genes]) for name, genes in collection.sets.items()]
    write_text("".join(line + "\n" for line in lines), gmt_path)
    write_json(collection.provenance, provenance_path)


def read_gene_sets(gmt_path: str | os.PathLike, provenance_path: str | os.PathLike) -> GeneSetCollection:
    """Read back the combined GMT and provenance JSON written by :func:`write_gene_sets`.

    The GMT may be empty: when every configured source was unavailable, the run goes on and the
    verdict says so.
    """
    provenance = json.loads(Path(provenance_path).read_text())
    result = GeneSetCollection(provenance=provenance)
    for name, collection, genes in _gmt_records(gmt_path, allow_empty=True):
        result.sets[name] = genes
        result.collection_of[name] = collection
    return result


def _source_kind(entry: Any, index: int) -> str:
    """Which kind of source a config entry is; an InputError names the entry if it is malformed."""
    where = f"gene_sets[{index}]"
    kinds = [k for k in _SOURCE_KEYS if isinstance(entry, dict) and k in entry]
    if len(kinds) != 1:
        raise InputError(
            f"{where} must have exactly one of builtin, gmt, msigdb; got {entry!r}.",
            column="gene_sets",
            fix="write it as {builtin: er_core}, {gmt: PATH} or {msigdb: H, version: 2024.1.Hs}.",
        )
    kind = kinds[0]
    unknown = set(entry) - _SOURCE_KEYS[kind]
    if unknown:
        raise InputError(
            f"{where} has unknown keys {sorted(unknown)} for a {kind} source.",
            column="gene_sets",
            fix=f"allowed keys: {', '.join(sorted(_SOURCE_KEYS[kind]))}.",
        )
    if kind == "msigdb":
        if not entry.get("version"):
            raise InputError(
                f"{where}: an msigdb source needs a version.",
                column="gene_sets",
                fix="add version: RELEASE, e.g. 2024.1.Hs.",
            )
        pinned = entry.get("sha256")
        if pinned is not None and not _SHA256_RE.match(str(pinned)):
            raise InputError(
                f"{where}: sha256 must be 64 lowercase hex digits, got {pinned!r}.",
                column="gene_sets",
                fix="copy the hash from `sha256sum FILE`.",
            )
    return kind


def _add_sets(result: GeneSetCollection, sets: dict[str, list[str]], record: dict[str, Any]) -> None:
    """Merge one source's sets; a set name already taken by another source is an error."""
    for name, genes in sets.items():
        if name in result.sets:
            earlier = next(e for e in result.provenance if e["name"] == result.collection_of[name])
            raise InputError(
                f"gene set '{name}' is in both '{earlier['name']}' ({earlier['source']}) and "
                f"'{record['name']}' ({record['source']}).",
                column="gene_sets",
                fix="list each collection only once (set names must be unique across gene_sets).",
            )
        result.sets[name] = genes
        result.collection_of[name] = record["name"]

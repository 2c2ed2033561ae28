"""The MSigDB download client: release URLs, a shared cache folder, file hashes and their checks.

An MSigDB file is downloaded once into a cache folder (atomically, then checked against the
pinned sha256, or against the hash seen on first download when none is pinned). A collection
that cannot be had is reported as ``unavailable`` unless the source requires it. Runs sharing
one cache (two users on a cluster) take turns on a lock per file, so each file is downloaded
once and never read half-written. :mod:`knockseq.genesets` turns the files into collections.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import http.client
import logging
import os
import re
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from knockseq.errors import InputError
from knockseq.io import atomic_path, write_text

log = logging.getLogger(__name__)

#: Where the Broad serves MSigDB release files:
#: ``{base}/{release}/{collection}.v{release}.symbols.gmt``.
MSIGDB_BASE_URL = "https://data.broadinstitute.org/gsea-msigdb/msigdb/release"

#: An MSigDB-style file name carries its collection and release (``h.all.v7.0.symbols.gmt``); a
#: local copy of such a file keeps that version in the provenance.
FILE_NAME = re.compile(r"^(?P<name>.+)\.v(?P<version>\d[^/]*?)\.(?:symbols|entrez)\.gmt$")

#: A GMT reader: path -> set name -> genes (:func:`knockseq.genesets.read_gmt`).
GmtReader = Callable[[Path], dict[str, list[str]]]


def sha256_file(path: str | os.PathLike) -> str:
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def msigdb_file_name(collection: str, version: str) -> str:
    """File name of an MSigDB human/mouse symbol GMT, e.g. ``h.all.v2024.1.Hs.symbols.gmt``.

    ``collection`` is case-insensitive; a top-level code without a dot (``H``, ``C2``) means the
    whole collection (``h.all``, ``c2.all``), a dotted one (``c2.cp.reactome``) that sub-collection.
    """
    code = collection.lower()
    if "." not in code:
        code += ".all"
    return f"{code}.v{version}.symbols.gmt"


def msigdb_url(collection: str, version: str, base_url: str = MSIGDB_BASE_URL) -> str:
    """URL of an MSigDB release file under ``base_url``."""
    return f"{base_url.rstrip('/')}/{version}/{msigdb_file_name(collection, version)}"


def load_msigdb(
    entry: dict[str, Any], cache: Path, base_url: str, timeout: float, read_gmt: GmtReader
) -> tuple[dict[str, list[str]], dict[str, Any]]:
    """Sets and provenance of one MSigDB collection: from the cache, else downloaded into it.

    Parameters
    ----------
    entry : dict
        A checked ``{msigdb: COLLECTION, version: RELEASE, require: BOOL}`` config entry, with
        optional ``sha256`` and ``base_url``.
    cache : Path
        The cache folder.
    base_url : str
        MSigDB release root, unless the entry has its own ``base_url``.
    timeout : float
        Seconds to wait for the server.
    read_gmt : callable
        Reads a GMT file strictly: the cached file, and a download before it is kept.

    Returns
    -------
    sets : dict of str to list of str
        Set name -> genes; empty when the collection is unavailable.
    record : dict
        Provenance: ``name``, ``version``, ``source`` (URL), ``sha256`` and ``status``
        (``cached``, ``downloaded`` or ``unavailable``, then with a ``message``).

    Raises
    ------
    InputError
        A hash mismatch, an invalid download, or a required collection that cannot be had.
    """
    version = str(entry["version"])
    url = msigdb_url(entry["msigdb"], version, entry.get("base_url", base_url))
    path = cache / msigdb_file_name(entry["msigdb"], version)
    record: dict[str, Any] = {
        "name": path.name.removesuffix(f".v{version}.symbols.gmt"),
        "version": version,
        "source": url,
        "sha256": None,
    }
    pinned = entry.get("sha256")
    with _cache_lock(path):
        if path.exists():
            observed = sha256_file(path)
            _check_cached_hash(path, observed, pinned)
            record.update(sha256=observed, status="cached")
            return read_gmt(path), record
        try:
            observed, sets = _download(url, path, pinned, timeout, read_gmt)
        except _Unavailable as problem:
            message = (
                f"MSigDB collection '{entry['msigdb']}' {version} could not be downloaded from {url} ({problem}). "
                f"Offline, download that URL on another machine and place the file at {path.resolve()}."
            )
            if entry["require"]:
                raise InputError(
                    message, column="gene_sets", fix="place the file there, or set require: false."
                ) from None
            log.warning("%s The run goes on without it.", message)
            record.update(status="unavailable", message=message)
            return {}, record
    record.update(sha256=observed, status="downloaded")
    return sets, record


@contextlib.contextmanager
def _cache_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` in the cache, through a lock file ``.NAME.lock`` beside it.

    A run holding it is downloading or checking that file: wait for it, then use its file (a
    download killed outright leaves a temporary file, which the next download removes). The
    lock is ``flock``, released by the kernel when its holder dies, so a killed run never blocks
    the next one (NFS clients map it to an NFS lock). The holder removes the lock file before
    releasing it, so the cache keeps only data; a waiter that then wins the removed file's lock
    sees that the path is gone or is another file, and queues on the current one. A cache this
    account cannot write to (one copy kept by an institute) is read without a lock: nobody
    downloads into it from here.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    lock = path.with_name(f".{path.name}.lock")
    while True:
        try:
            handle = open(lock, "a")
        except OSError as error:
            if error.errno not in (errno.EACCES, errno.EROFS, errno.EPERM):
                raise
            yield
            return
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log.info("waiting for another run to finish with %s (lock %s)", path, lock)
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            current = os.path.samestat(os.fstat(handle.fileno()), os.stat(lock))
        except FileNotFoundError:
            current = False
        if current:
            break
        handle.close()
    try:
        yield
    finally:
        lock.unlink()
        handle.close()


def _check_cached_hash(path: Path, observed: str, pinned: str | None) -> None:
    """Refuse a cached file that differs from the pinned hash or from the hash first recorded."""
    hash_file = path.with_name(path.name + ".sha256")
    if pinned is not None:
        if observed != pinned:
            raise InputError(
                f"cached file has sha256 {observed} but gene_sets pins {pinned}.",
                path=path,
                fix="delete the cached file to download it again, or correct the pinned sha256.",
            )
        return
    if hash_file.exists():
        recorded = hash_file.read_text().strip()
        if observed != recorded:
            raise InputError(
                f"cached file has sha256 {observed} but {recorded} was recorded when it was first used "
                f"(in {hash_file}); the file changed.",
                path=path,
                fix="delete the file and its .sha256 to download it again, or pin the sha256 you trust in gene_sets.",
            )
    else:
        # A file placed by hand: its first use fixes the hash every later run must match.
        write_text(observed + "\n", hash_file)


class _Unavailable(Exception):
    """The server could not be reached or did not serve the file."""


def _download(
    url: str, path: Path, pinned: str | None, timeout: float, read_gmt: GmtReader
) -> tuple[str, dict[str, list[str]]]:
    """Download ``url`` to ``path`` atomically; check hash and GMT syntax before keeping it."""
    with atomic_path(path) as tmp:
        digest = hashlib.sha256()
        try:
            with open(tmp, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
                for block in iter(lambda: response.read(1 << 16), b""):
                    digest.update(block)
                    out.write(block)
        except urllib.error.HTTPError as error:
            raise _Unavailable(f"HTTP {error.code} {error.reason}") from None
        except urllib.error.URLError as error:
            raise _Unavailable(str(error.reason)) from None
        except (OSError, http.client.HTTPException) as error:
            raise _Unavailable(f"{type(error).__name__}: {error}") from None
        observed = digest.hexdigest()
        if pinned is not None and observed != pinned:
            raise InputError(
                f"downloaded {url} has sha256 {observed}, expected {pinned}; the file was not kept.",
                column="gene_sets",
                fix="check the version and the pinned sha256 (the Broad may have replaced the file).",
            )
        try:
            sets = read_gmt(tmp)
        except InputError as error:
            raise InputError(
                f"downloaded {url} is not a valid GMT file ({error.message}); it was not kept.",
                column="gene_sets",
                fix="check the collection name and version.",
            ) from None
    write_text(observed + "\n", path.with_name(path.name + ".sha256"))
    return observed, sets

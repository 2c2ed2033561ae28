"""Shared test fixtures: where the shared test data lives, checked by sha256."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KNOCKSEQ_SHARED", PROJECT.parent / "shared")).resolve()

# sha256 of the files tests read, from ../shared/README.md: a changed file fails loudly
# instead of silently shifting every number a test asserts.
SHA256 = {
    "data/airway/counts.tsv.gz": "d0d1804f3a92e55568b55abd7fe58762ec7ca2c82e1b309c533bf81c5d4e947e",
    "data/airway/samples.tsv": "d44a92b2d1afab4d21ed25768a70b4f7621a52e3f4a888660c78176499c1df8a",
    "data/annotation/human_ensembl_gene_names.tsv.gz": "8ae5d945b5bd5de83ca7b419355d3154ec9df06f335ccffc24449f5736ba3c52",
    "data/formats/kallisto/abundance.tsv": "5d89502ca2087719ec149fa90287820689a9a401a7b496ecd24cf0de3bfd51d2",
    "data/formats/salmon/quant.sf": "4a77f1d182233211361e1c9ddd8fb8c74ea8bcc1f3cedcad1157aa3ce3a54bb0",
    "data/formats/star/ReadsPerGene.out.tab": "1db00edd0395e4929cb8ff4aea47a4352f81527e01d6efc39f9076ff84b15935",
    "data/formats/star/Log.final.out": "226d8434ff2768b76aaf679019764376d087f9881a4a32bb2969899eafe1daf4",
    "data/genesets/h.all.v7.0.symbols.gmt": "4803c09aae50bbd96d53fc681bd5545a4c89278993c15145dd7b7c994f893516",
    "data/mcf7_e2/1_counts_file.csv": "998018aa7260a1b726b42873abc0d4bbae2ea84f2ba822cec36e249a1d344943",
    "data/mcf7_e2/samples.tsv": "769e40c5fda99e957937dae4ec4ce5cef8b9ecbb8324295426c9263c4d621bfc",
    "data/pasilla/counts.tsv.gz": "097625b8a5a4617217a805098cb3387f57bcd0c8dd84bccd0483301b9062c915",
    "data/pasilla/samples.tsv": "b53c35dce91ef5c1ddcff661700ee60504863f66739c059a0c0030ddd145ca75",
    "data/pasilla/dexseq_exon_counts/treated1fb.txt": "a6c9696bf4b9fbc666354fad75d80459df3335fdebc14f0c158a952fc7da5a71",
    "data/t47d_e2/counts.tsv.gz": "8501047f9b4610e4e47657909b5ecd6378d79a8897ac60bc818e487e51d62d7d",
    "data/t47d_e2/samples.tsv": "245cf690640a8d1892973a0abe7e36ef8e1c945bc94ebb3b915c93c59427c4bf",
}

_checked: dict[str, bool] = {}


def shared_path(relative: str) -> Path:
    """Path of a file in the shared test data; skip the test if the folder is absent.

    Files listed in :data:`SHA256` are checked once per session and a mismatch fails the test.
    """
    if not SHARED.is_dir():
        message = f"shared test data not found at {SHARED} (set KNOCKSEQ_SHARED)"
        if os.environ.get("KNOCKSEQ_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    path = SHARED / relative
    if relative in SHA256 and relative not in _checked:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert digest == SHA256[relative], f"{path}: sha256 {digest} != {SHA256[relative]} from shared/README.md"
        _checked[relative] = True
    return path


@pytest.fixture
def shared():
    """The :func:`shared_path` helper, as a fixture."""
    return shared_path


@pytest.fixture(scope="session")
def quantifiers() -> Path:
    """Folder of the six quantifiers' real outputs on the simulated knockdown."""
    return shared_path("data/quantifiers")

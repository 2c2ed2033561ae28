"""Shared test fixtures: where the shared test data lives, checked by sha256; every verdict the
suite writes is checked against the verdict schema when the session ends."""

from __future__ import annotations

import functools
import hashlib
import json
import os
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

PROJECT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("KNOCKSEQ_SHARED", PROJECT.parent / "shared")).resolve()

# sha256 of the files tests read: a changed file fails loudly instead of silently shifting every
# number a test asserts. data/ entries are ../shared/README.md's; no README lists sha256 for
# reference/, so those were computed with sha256sum and the files' md5 checked against
# ../shared/reference/README.md.
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
    "data/mcf7_e2/other_doses/E2_1nM/1_counts_file.csv.gz": "40e5fa55b3c3a47f53e1ef8213b546817183c3ca6e19a93eb4ade146dae4fe51",
    "data/pasilla/counts.tsv.gz": "097625b8a5a4617217a805098cb3387f57bcd0c8dd84bccd0483301b9062c915",
    "data/pasilla/samples.tsv": "b53c35dce91ef5c1ddcff661700ee60504863f66739c059a0c0030ddd145ca75",
    "data/pasilla/dexseq_exon_counts/treated1fb.txt": "a6c9696bf4b9fbc666354fad75d80459df3335fdebc14f0c158a952fc7da5a71",
    "data/pasilla/dexseq_exon_counts/untreated1fb.txt": "beb97bbc1ca0e1c8d2623f1ab242816215ca693e8476ff55ceb804c28f1c6d9c",
    "data/t47d_e2/counts.tsv.gz": "8501047f9b4610e4e47657909b5ecd6378d79a8897ac60bc818e487e51d62d7d",
    "data/t47d_e2/samples.tsv": "245cf690640a8d1892973a0abe7e36ef8e1c945bc94ebb3b915c93c59427c4bf",
    "reference/README.md": "e3e49e50f0c59a60a9c15921d31d67e426fc96a25d6f91f3cf7e1d6bc4f8d1d0",
    "reference/airway_cell_dex.deseq2.tsv": "06be18602d254d98db52faefc88534384ba3f1a2137e066914c285584f50f2f3",
    "reference/airway_cell_dex.dispersions.tsv": "f5c9845ab326b849edba333aa59da04c49690135f75c57491e02d783181b7cc8",
    "reference/airway_cell_dex.fgsea_hallmark.ranks.tsv": "f6c12de5fb2c9cb4652261e7274600146823915f7c03e3d8b899cb3921666abb",
    "reference/airway_cell_dex.fgsea_hallmark.tsv": "214671428163c9b27dd0e3bce1d5ea6b7e774de3a770ae00ab9f0cdc08595d39",
    "reference/airway_cell_dex.lfcshrink_apeglm.tsv": "fdefd06bcd64390178ec33d7c389121c8246ac1f66ba6d94d9d09d7df5dfadd6",
    "reference/airway_cell_dex.size_factors.tsv": "ec93ae825103edf12f8f21b98795fc4bda294e87c976c24d810dbb311cde80a6",
    "reference/airway_cell_dex.vst.tsv.gz": "3fd4891f83ddc498928fd17c825f2a2c67a43379e42e812aaddf615ce5e4556a",
    "reference/airway_dex.deseq2.tsv": "8d682ab391af1bc5fd6fb1e8322ce23f81276e184e97d8243780d6d7489975a9",
    "reference/airway_dex.dispersions.tsv": "f8305704b9653b6f04d88e88347db3fc97650662e5233460f000570ac1847f68",
    "reference/airway_dex.lfcshrink_apeglm.tsv": "e97b0c64be14b1de89ab50b1456ccace2bc6460b541f836396f78219c72e2daa",
    "reference/airway_dex.size_factors.tsv": "ec93ae825103edf12f8f21b98795fc4bda294e87c976c24d810dbb311cde80a6",
    "reference/pasilla_type_condition.deseq2.tsv": "489ed30cea77efcb065e952363956fcde4754acc247b77226b46eff3023e3dbf",
    "reference/pasilla_type_condition.dispersions.tsv": "5279e8d4d428e57348cec47b5a8ae575323ea7371bd8fafda7403b450880d867",
    "reference/pasilla_type_condition.lfcshrink_apeglm.tsv": "dab6d80f153f6ca53086333789a029caec4a6b70c6833f26cd45829cf9bba47c",
    "reference/pasilla_type_condition.size_factors.tsv": "325834d349161f6133c6a8379707356c4701a7076043486db8502d3ce59e8cef",
    "reference/scripts/deseq2_ref.R": "c266666df076aec3d8c4ef6be2f334db0a8c220264643e95a1bc5bbd5775ce9f",
    "reference/scripts/fgsea_ref.R": "b45d29d68b4d98b0e57595a7a998ab0d1e9fdf759ef9770a5d51c26e294cdc34",
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
        assert digest == SHA256[relative], f"{path}: sha256 {digest} != {SHA256[relative]} in tests/conftest.py SHA256"
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


@functools.cache
def _verdict_validator() -> Draft202012Validator:
    with open(PROJECT / "workflow/schemas/verdict.schema.yaml") as handle:
        return Draft202012Validator(yaml.safe_load(handle))


def check_verdict(verdict: dict) -> None:
    """Fail unless ``verdict`` matches ``workflow/schemas/verdict.schema.yaml``."""
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in _verdict_validator().iter_errors(verdict)]
    assert not errors, f"verdict of {verdict.get('contrast')} does not match its schema: {errors[:5]}"


@pytest.fixture(scope="session", autouse=True)
def every_written_verdict_matches_its_schema(tmp_path_factory):
    """After the session, every ``results/.../verdict/*.json`` written under the test folders."""
    yield
    for path in sorted(tmp_path_factory.getbasetemp().glob("**/results/**/verdict/*.json")):
        with open(path) as handle:
            verdict = json.load(handle)
        try:
            check_verdict(verdict)
        except AssertionError as error:
            raise AssertionError(f"{path}: {error}") from None

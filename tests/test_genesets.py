"""Gene-set loading: strict GMT parsing, the bundled ER core set, MSigDB download and cache."""

from __future__ import annotations

import hashlib
import json
import socket

import pytest
from conftest import PROJECT, SHA256, shared_path
from runs_support import Mirror

from knockseq.config import config_defaults
from knockseq.errors import InputError
from knockseq.genesets import (
    ER_CORE_SET,
    builtin_path,
    er_core_genes,
    load_gene_sets,
    msigdb_url,
    read_gene_sets,
    read_gmt,
    write_gene_sets,
)

HALLMARK = "data/genesets/h.all.v7.0.symbols.gmt"
HALLMARK_SHA = SHA256[HALLMARK]
VERSION = "2024.1.Hs"
SERVED_NAME = f"h.all.v{VERSION}.symbols.gmt"


# --- GMT parsing ---------------------------------------------------------------------------


def test_read_gmt_real_hallmark():
    sets = read_gmt(shared_path(HALLMARK))
    assert len(sets) == 50
    early = sets["HALLMARK_ESTROGEN_RESPONSE_EARLY"]
    late = sets["HALLMARK_ESTROGEN_RESPONSE_LATE"]
    assert len(early) == len(late) == 200
    assert len(set(early) & set(late)) == 101  # shared/README.md section 1
    assert {"GREB1", "PGR", "TFF1"} <= set(early) and "PGR" in late


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "SET_A\tdesc\tG1\tG2\nSET_B\tdesc\n",
            "row 2: has 2 non-empty tab-separated fields; a GMT line needs a set name, "
            "a description and at least one gene",
        ),
        ("SET_A desc G1 G2\n", "row 1: has 1 non-empty tab-separated field, with spaces where tabs belong; a GMT line"),
        ("<!DOCTYPE html>\n<html></html>\n", "is an HTML page, not a GMT file"),
        ("SET_A\tdesc\tG1\nSET_A\tdesc\tG2\n", "row 2: gene set 'SET_A' appears twice."),
        (
            "\n\n",
            "the GMT file holds no gene set (it is empty). Fix: give a GMT file with one line per set: "
            "NAME<TAB>DESCRIPTION<TAB>GENE1<TAB>GENE2 ...",
        ),
    ],
)
def test_read_gmt_rejects_malformed(tmp_path, text, message):
    path = tmp_path / "bad.gmt"
    path.write_text(text)
    with pytest.raises(InputError) as info:
        read_gmt(path)
    assert str(info.value).startswith(f"{path}, {message}" if "row" in message else f"{path}: {message}")


def test_read_gmt_tolerates_trailing_tabs_and_duplicate_genes(tmp_path):
    path = tmp_path / "ok.txt"  # no .gmt suffix needed, unlike gseapy's parser
    path.write_text("SET_A\tdesc\tG1\tG2\tG1\t\t\n\nSET_B\t\tG3\n")
    assert read_gmt(path) == {"SET_A": ["G1", "G2"], "SET_B": ["G3"]}


def test_read_gmt_missing_file(tmp_path):
    with pytest.raises(InputError, match="gene set file not found. Fix: check the path in gene_sets."):
        read_gmt(tmp_path / "absent.gmt")


# --- bundled ER core set -------------------------------------------------------------------


def test_er_core_set_is_documented_and_in_the_hallmark_sets():
    genes = er_core_genes()
    # Version 2: 14 genes whose E2 induction was traced to ERalpha (er_core.md, literature review).
    assert genes == [
        "GREB1",
        "PGR",
        "TFF1",
        "MYB",
        "XBP1",
        "CA12",
        "IGFBP4",
        "NRIP1",
        "CXCL12",
        "KRT19",
        "EGR3",
        "CTSD",
        "BCL2",
        "KDM4B",
    ]
    assert "ESR1" not in genes
    doc = (builtin_path("er_core").parent / "er_core.md").read_text()
    table_genes = {
        line.split("|")[1].split()[0] for line in doc.splitlines() if line.startswith("| ") and "---" not in line
    }
    assert set(genes) == table_genes - {"gene"}, "every ER core gene needs a row with its reference in er_core.md"
    hallmark = read_gmt(shared_path(HALLMARK))
    in_hallmark = set(hallmark["HALLMARK_ESTROGEN_RESPONSE_EARLY"]) | set(hallmark["HALLMARK_ESTROGEN_RESPONSE_LATE"])
    # 13 of 14 are MSigDB estrogen-response genes too; CTSD (cathepsin D, ERE: Augereau 1994) is not.
    assert set(genes) - in_hallmark == {"CTSD"}


def test_builtin_and_gmt_sources_with_provenance(tmp_path):
    gmt = shared_path(HALLMARK)
    result = load_gene_sets([{"builtin": "er_core"}, {"gmt": str(gmt)}], cache_dir=tmp_path / "cache")
    assert len(result.sets) == 51
    assert result.collection_of[ER_CORE_SET] == "er_core"
    assert result.collection_of["HALLMARK_ESTROGEN_RESPONSE_EARLY"] == "h.all"
    core, hallmark = result.provenance
    assert core == {
        "name": "er_core",
        "version": "2",
        "source": "knockseq 0.1.0: data/er_core.gmt",
        "sha256": hashlib.sha256(builtin_path("er_core").read_bytes()).hexdigest(),
        "n_sets": 1,
        "status": "loaded",
        "kind": "builtin",
    }
    # The MSigDB-style file name gives the collection and release of a local copy.
    assert hallmark == {
        "name": "h.all",
        "version": "7.0",
        "source": str(gmt),
        "sha256": HALLMARK_SHA,
        "n_sets": 50,
        "status": "loaded",
        "kind": "gmt",
    }
    assert not (tmp_path / "cache").exists()


def test_the_hallmark_builtin_is_msigdb_7_0_with_its_licence_and_the_default(tmp_path):
    path = builtin_path("hallmark")
    # The shipped file is byte-identical to the shared copy (MSigDB 7.0, CC BY 4.0).
    assert path.read_bytes() == shared_path(HALLMARK).read_bytes()
    assert hashlib.sha256(path.read_bytes()).hexdigest() == HALLMARK_SHA
    assert HALLMARK_SHA in (path.parent / "hallmark.md").read_text()
    licence = (path.parent / "h.all.v7.0.symbols.LICENSE").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in licence
    assert "Liberzon A" in licence and "Cell Systems 2015;1(6):417-425" in licence
    result = load_gene_sets([{"builtin": "er_core"}, {"builtin": "hallmark"}], cache_dir=tmp_path / "cache")
    assert len(result.sets) == 51 and len(result.sets["HALLMARK_ESTROGEN_RESPONSE_EARLY"]) == 200
    assert result.provenance[1] == {
        "name": "hallmark",
        "version": "7.0",
        "source": "knockseq 0.1.0: data/h.all.v7.0.symbols.gmt",
        "sha256": HALLMARK_SHA,
        "n_sets": 50,
        "status": "loaded",
        "kind": "builtin",
    }
    # Both readouts of the verdict are at hand offline by default.
    defaults = config_defaults(
        PROJECT / "workflow/schemas/config.schema.yaml",
        samples="s.tsv",
        contrasts={"kd": {"test": "kd", "reference": "ctrl"}},
    )
    assert defaults["gene_sets"] == [{"builtin": "er_core"}, {"builtin": "hallmark"}]


def test_relative_gmt_path_is_taken_from_base_dir(tmp_path):
    (tmp_path / "sets").mkdir()
    (tmp_path / "sets" / "mine.gmt").write_text("MY_SET\tdesc\tGREB1\tPGR\n")
    result = load_gene_sets([{"gmt": "sets/mine.gmt"}], cache_dir="cache", base_dir=tmp_path)
    assert result.sets == {"MY_SET": ["GREB1", "PGR"]}
    assert result.provenance[0]["name"] == "mine" and result.provenance[0]["version"] is None
    assert result.provenance[0]["source"] == "sets/mine.gmt"


@pytest.mark.parametrize(
    ("sources", "message"),
    [
        ([], "no gene sets configured."),
        ([{"builtin": "er_core", "gmt": "x.gmt"}], "gene_sets[1] must have exactly one of builtin, gmt, msigdb"),
        (
            [{"msigdb": "H", "version": VERSION, "sha": "abc"}],
            "gene_sets[1] has unknown keys ['sha'] for a msigdb source.",
        ),
        ([{"msigdb": "H"}], "gene_sets[1]: an msigdb source needs a version."),
        (
            [{"msigdb": "H", "version": VERSION, "sha256": "ABC"}],
            "gene_sets[1]: sha256 must be 64 lowercase hex digits",
        ),
        ([{"builtin": "er_full"}], "unknown builtin gene set 'er_full'."),
    ],
)
def test_malformed_sources(tmp_path, sources, message):
    with pytest.raises(InputError) as info:
        load_gene_sets(sources, cache_dir=tmp_path)
    assert message in str(info.value)


def test_a_set_name_in_two_sources_is_an_error(tmp_path):
    gmt = str(shared_path(HALLMARK))
    with pytest.raises(InputError) as info:
        load_gene_sets([{"gmt": gmt}, {"gmt": gmt}], cache_dir=tmp_path)
    assert f"gene set 'HALLMARK_TNFA_SIGNALING_VIA_NFKB' is in both 'h.all' ({gmt}) and 'h.all' ({gmt})." in str(
        info.value
    )


def test_write_and_read_gene_sets_round_trip(tmp_path):
    result = load_gene_sets([{"builtin": "er_core"}, {"gmt": str(shared_path(HALLMARK))}], cache_dir=tmp_path)
    gmt, provenance = tmp_path / "out" / "gene_sets.gmt", tmp_path / "out" / "gene_sets.json"
    write_gene_sets(result, gmt, provenance)
    first = gmt.read_text().splitlines()[0].split("\t")
    assert first[:3] == [ER_CORE_SET, "er_core", "GREB1"]  # the description field names the collection
    assert json.loads(provenance.read_text()) == result.provenance
    back = read_gene_sets(gmt, provenance)
    assert back == result
    assert list(back.by_collection()) == ["er_core", "h.all"] and len(back.by_collection()["h.all"]) == 50


def test_nothing_available_still_round_trips(tmp_path):
    offline = load_gene_sets([_msigdb()], cache_dir=tmp_path / "cache", base_url=_refused_url(), timeout=5)
    write_gene_sets(offline, tmp_path / "g.gmt", tmp_path / "g.json")
    assert (tmp_path / "g.gmt").read_text() == ""
    back = read_gene_sets(tmp_path / "g.gmt", tmp_path / "g.json")
    assert back.sets == {} and back.by_collection() == {} and back.provenance[0]["status"] == "unavailable"


# --- MSigDB download, checked against a real local HTTP server ------------------------------


def test_msigdb_url_follows_the_broad_release_layout():
    assert msigdb_url("H", VERSION) == (
        "https://data.broadinstitute.org/gsea-msigdb/msigdb/release/2024.1.Hs/h.all.v2024.1.Hs.symbols.gmt"
    )
    assert msigdb_url("c2.cp.reactome", VERSION, "http://127.0.0.1:1/") == (
        "http://127.0.0.1:1/2024.1.Hs/c2.cp.reactome.v2024.1.Hs.symbols.gmt"
    )


@pytest.fixture
def server():
    srv = Mirror(shared_path(HALLMARK).read_bytes(), only=f"/{VERSION}/{SERVED_NAME}")
    yield srv
    srv.stop()


def _msigdb(**extra):
    """An msigdb source as the config schema fills it (``require`` at its default)."""
    (entry,) = config_defaults(
        PROJECT / "workflow/schemas/config.schema.yaml", gene_sets=[{"msigdb": "H", "version": VERSION, **extra}]
    )["gene_sets"]
    return entry


def test_download_with_pinned_hash_then_cache_hit_offline(tmp_path, server):
    cache = tmp_path / "cache"
    first = load_gene_sets([_msigdb(sha256=HALLMARK_SHA)], cache_dir=cache, base_url=server.url, timeout=5)
    assert len(first.sets) == 50
    assert first.provenance == [
        {
            "name": "h.all",
            "version": VERSION,
            "source": f"{server.url}/{VERSION}/{SERVED_NAME}",
            "sha256": HALLMARK_SHA,
            "n_sets": 50,
            "status": "downloaded",
            "kind": "msigdb",
        }
    ]
    assert sorted(p.name for p in cache.iterdir()) == [SERVED_NAME, SERVED_NAME + ".sha256"]  # no temp file left
    assert (cache / SERVED_NAME).read_bytes() == shared_path(HALLMARK).read_bytes()
    server.stop()
    again = load_gene_sets([_msigdb(sha256=HALLMARK_SHA)], cache_dir=cache, base_url=server.url, timeout=5)
    assert again.sets == first.sets
    assert again.provenance[0]["status"] == "cached" and again.provenance[0]["sha256"] == HALLMARK_SHA
    assert len(server.requests) == 1


def test_pinned_hash_mismatch_keeps_nothing(tmp_path, server):
    wrong = "0" * 64
    with pytest.raises(InputError) as info:
        load_gene_sets([_msigdb(sha256=wrong)], cache_dir=tmp_path, base_url=server.url, timeout=5)
    assert f"has sha256 {HALLMARK_SHA}, expected {wrong}; the file was not kept." in str(info.value)
    assert list(tmp_path.iterdir()) == []


def test_unpinned_hash_is_recorded_and_enforced(tmp_path, server):
    load_gene_sets([_msigdb()], cache_dir=tmp_path, base_url=server.url, timeout=5)
    assert (tmp_path / f"{SERVED_NAME}.sha256").read_text() == HALLMARK_SHA + "\n"
    cached = tmp_path / SERVED_NAME
    cached.write_text(cached.read_text().replace("GREB1", "GREB1L"))
    with pytest.raises(InputError) as info:
        load_gene_sets([_msigdb()], cache_dir=tmp_path, base_url=server.url, timeout=5)
    observed = hashlib.sha256(cached.read_bytes()).hexdigest()
    assert f"cached file has sha256 {observed} but {HALLMARK_SHA} was recorded when it was first used" in str(
        info.value
    )


def test_pinned_hash_also_checks_the_cache(tmp_path, server):
    load_gene_sets([_msigdb()], cache_dir=tmp_path, base_url=server.url, timeout=5)
    with pytest.raises(InputError, match=f"cached file has sha256 {HALLMARK_SHA} but gene_sets pins {'1' * 64}"):
        load_gene_sets([_msigdb(sha256="1" * 64)], cache_dir=tmp_path, base_url=server.url, timeout=5)


def test_file_placed_by_hand_is_used_offline(tmp_path):
    (tmp_path / SERVED_NAME).write_bytes(shared_path(HALLMARK).read_bytes())
    result = load_gene_sets([_msigdb(sha256=HALLMARK_SHA)], cache_dir=tmp_path, base_url=_refused_url(), timeout=5)
    assert result.provenance[0]["status"] == "cached" and len(result.sets) == 50


def test_404_is_unavailable_and_the_run_goes_on(tmp_path, server):
    sources = [{"builtin": "er_core"}, _msigdb(msigdb="C2")]
    result = load_gene_sets(sources, cache_dir=tmp_path / "cache", base_url=server.url, timeout=5)
    assert list(result.sets) == [ER_CORE_SET]
    entry = result.provenance[1]
    url = f"{server.url}/{VERSION}/c2.all.v{VERSION}.symbols.gmt"
    assert entry["status"] == "unavailable" and entry["sha256"] is None and entry["n_sets"] == 0
    assert entry["message"] == (
        f"MSigDB collection 'C2' {VERSION} could not be downloaded from {url} (HTTP 404 Not Found). "
        f"Offline, download that URL on another machine and place the file at "
        f"{(tmp_path / 'cache' / f'c2.all.v{VERSION}.symbols.gmt').resolve()}."
    )
    assert result.by_collection() == {"er_core": {ER_CORE_SET: er_core_genes()}}
    assert list((tmp_path / "cache").iterdir()) == []


def test_404_with_require_is_an_error(tmp_path, server):
    with pytest.raises(InputError) as info:
        load_gene_sets([_msigdb(msigdb="C2", require=True)], cache_dir=tmp_path, base_url=server.url, timeout=5)
    text = str(info.value)
    assert "could not be downloaded from" in text and "(HTTP 404 Not Found)" in text
    assert text.endswith("Fix: place the file there, or set require: false.")


def _refused_url() -> str:
    """URL of a local port that was free a moment ago: nothing listens there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


def test_connection_refused_is_unavailable(tmp_path):
    url = _refused_url()
    result = load_gene_sets([_msigdb()], cache_dir=tmp_path, base_url=url, timeout=5)
    message = result.provenance[0]["message"]
    assert result.provenance[0]["status"] == "unavailable" and result.sets == {}
    assert f"from {url}/{VERSION}/{SERVED_NAME} (" in message
    assert "Connection refused" in message
    assert f"place the file at {(tmp_path / SERVED_NAME).resolve()}" in message

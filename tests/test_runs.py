"""Run-level guarantees, with real Snakemake processes, real signals and a real HTTP mirror.

A run SIGKILLed in the middle of a step and then rerun ends byte-identical to an uninterrupted
one; reruns redo exactly the jobs a change affects; runs sharing one gene-set cache download
each file once; a full disk or a read-only results folder stops a run with a message that says
which file and what to do, and leaves nothing half-written. Every run is the bundled example
with MSigDB's hallmark collection fetched from a local mirror (the shared v7.0 file, read in
place), so GSEA has 50 sets to work on and the gene-set cache is exercised.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import threading
from pathlib import Path

import pytest
from conftest import PROJECT, shared_path
from runs_support import (
    CACHED_NAME,
    Mirror,
    example_with_mirror,
    finish,
    kill_group,
    partial_files,
    snapshot,
    start,
    wait_until,
)
from test_workflow import SNAKEMAKE, planned, snakemake

CONTRAST = "knockdown_vs_control"
HALLMARK = "data/genesets/h.all.v7.0.symbols.gmt"

#: Every job of the example, for changes that redo the counts: everything reads them (gene_sets
#: to check that the sets share genes with the data, targets to check the knockdown targets).
FROM_COUNTS = {
    "counts": 1,
    "targets": 1,
    "gene_sets": 1,
    "vst": 2,
    "fit": 1,
    "plots_fit": 1,
    "plots_qc": 1,
    "de": 1,
    "knockdown": 1,
    "gsea": 1,
    "ora": 1,
    "verdict": 1,
    "plots_contrast": 1,
    "summary": 1,
    "verdict_page": 1,
    "all": 1,
}
#: What a new gene-set collection (or a changed gsea.py) reaches: enrichment and what reads it.
FROM_GENE_SETS = {
    "gene_sets": 1,
    "gsea": 1,
    "ora": 1,
    "plots_contrast": 1,
    "verdict": 1,
    "summary": 1,
    "verdict_page": 1,
    "all": 1,
}


@pytest.fixture(scope="module")
def mirror():
    server = Mirror(shared_path(HALLMARK).read_bytes())
    yield server
    server.stop()


@pytest.fixture(scope="module")
def reference(mirror, tmp_path_factory) -> Path:
    """One uninterrupted run on 2 cores: what every other run must reproduce byte for byte."""
    workdir = example_with_mirror(tmp_path_factory.mktemp("reference"), mirror.url)
    snakemake(workdir, "--cores", "2")
    return workdir


def fit_id(reference: Path) -> str:
    """Id of the example's one DESeq2 fit."""
    (pickle,) = (reference / "results/de/fits").glob("*.pkl")
    return pickle.stem


def outputs(workdir: Path) -> dict[str, bytes]:
    """Every file of results/ and of the gene-set cache."""
    return {
        **{f"results/{k}": v for k, v in snapshot(workdir / "results").items()},
        **{f"cache/{k}": v for k, v in snapshot(workdir / "resources/gene_sets").items()},
    }


def unlock(workdir: Path) -> None:
    """What the user runs after a kill: Snakemake's directory lock outlives a SIGKILLed Snakemake."""
    assert any((workdir / ".snakemake/locks").iterdir())
    snakemake(workdir, "--unlock")


def test_reference_run_uses_the_mirror(reference, mirror):
    cache = reference / "resources/gene_sets"
    assert sorted(p.name for p in cache.iterdir()) == [CACHED_NAME, f"{CACHED_NAME}.sha256"]
    assert (cache / CACHED_NAME).read_bytes() == shared_path(HALLMARK).read_bytes()
    provenance = json.loads((reference / "results/gene_sets/provenance.json").read_text())
    assert [(p["name"], p["status"], p["source"]) for p in provenance] == [
        ("er_core", "loaded", provenance[0]["source"]),
        ("h.all", "downloaded", f"{mirror.url}/2024.1.Hs/{CACHED_NAME}"),
    ]


def test_kill_in_download_and_in_de_then_rerun_is_byte_identical(reference, mirror, tmp_path):
    workdir = example_with_mirror(tmp_path, mirror.url)
    cache = workdir / "resources/gene_sets"
    before = mirror.downloads()
    # 1. Killed mid-download: the mirror has sent half the file and holds the rest back.
    mirror.gate = threading.Event()
    run = start(workdir, "--cores", "2")
    try:
        wait_until(
            lambda: mirror.downloads() > before and any(p.name.endswith(".tmp") for p in cache.iterdir()),
            run,
            "the download under way",
        )
        pids = kill_group(run)
    finally:
        mirror.gate.set()
        mirror.gate = None
    assert len(pids) >= 2  # snakemake and its gene_sets job
    # Other jobs run beside the download and may have been killed mid-write too (their
    # temporaries go when those outputs are written again): the download's is the cache's one.
    (partial,) = [p for p in partial_files(workdir) if p.startswith("resources/")]
    assert partial.startswith(f"resources/gene_sets/.{CACHED_NAME}.") and not (cache / CACHED_NAME).exists()
    assert not (workdir / "results/gene_sets/gene_sets.gmt").exists()

    # 2. Rerun, killed once the DE job has started (its log is opened when the step begins).
    unlock(workdir)
    run = start(workdir, "--cores", "2")
    de_log = workdir / f"logs/de/{CONTRAST}.log"
    wait_until(de_log.exists, run, "the DE job's start")
    kill_group(run)
    assert not any((workdir / "results/de").glob(f"{CONTRAST}*")), "the kill came after the DE step"

    # 3. Rerun to the end.
    unlock(workdir)
    finish(start(workdir, "--cores", "2"), workdir)
    assert outputs(workdir) == outputs(reference)
    # The interrupted download's temporary is gone: the next download under the cache lock removed it.
    assert partial_files(workdir) == []
    assert mirror.downloads() - before == 2  # the killed download and the one kept


def test_kill_in_gsea_then_rerun_is_byte_identical(reference, mirror, tmp_path):
    workdir = example_with_mirror(tmp_path, mirror.url)
    run = start(workdir, "--cores", "2")
    wait_until((workdir / f"logs/gsea/{CONTRAST}.log").exists, run, "the GSEA job's start")
    kill_group(run)
    assert not (workdir / f"results/gsea/{CONTRAST}.tsv").exists(), "the kill came after the GSEA step"
    assert not (workdir / f"results/verdict/{CONTRAST}.json").exists()
    unlock(workdir)
    finish(start(workdir, "--cores", "2"), workdir)
    assert outputs(workdir) == outputs(reference)
    assert partial_files(workdir) == []


def test_one_core_and_two_cores_give_identical_outputs(reference, mirror, tmp_path):
    workdir = example_with_mirror(tmp_path, mirror.url)
    snakemake(workdir, "--cores", "1")
    ours, theirs = outputs(workdir), outputs(reference)
    assert ours.keys() == theirs.keys()
    # Every table, JSON, figure (PNG, SVG), the report page, the cache and the fit pickle: byte
    # for byte (the fit job takes one core either way, knockseq.resources.de_threads).
    assert [path for path in ours if ours[path] != theirs[path]] == []


# --- what a change reruns, job by job (dry runs on copies of the reference) ----------------------


def _copy(reference: Path, dest: Path) -> Path:
    """The reference run's folder with its Snakemake records and file times."""
    shutil.copytree(reference, dest, symlinks=True, dirs_exist_ok=True)
    return dest


def test_nothing_to_redo_after_the_reference(reference, tmp_path):
    assert planned(_copy(reference, tmp_path)) == {}


def test_one_samples_condition_edited(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    sheet = workdir / "config/samples.tsv"
    sheet.write_text(sheet.read_text().replace("control_3\tcontrol", "control_3\tknockdown"))
    # counts reads the sheet (for the quantifier paths), so the whole analysis is redone.
    assert planned(workdir) == FROM_COUNTS


def test_a_contrast_added(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    config = workdir / "config/config.yaml"
    config.write_text(
        config.read_text().replace(
            "    targets: [PPP3CA, PPP3CB]\n",
            "    targets: [PPP3CA, PPP3CB]\n  ppp3ca_only:\n    test: knockdown\n    reference: control\n"
            "    targets: [PPP3CA]\n",
        )
    )
    # Same samples, variable and reference: the fit on disk is reused; only the new contrast's
    # jobs run, the check of every contrast's targets, the dataset's one verdict job (the
    # direct-target p-values are adjusted across the run's contrasts) and one ORA job, each
    # writing both contrasts' files, and the pages that list every contrast.
    assert planned(workdir) == {
        "targets": 1,
        "de": 1,
        "knockdown": 1,
        "gsea": 1,
        "ora": 1,
        "verdict": 1,
        "plots_contrast": 1,
        "summary": 1,
        "verdict_page": 1,
        "all": 1,
    }


def test_a_contrasts_where_edited(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    config = workdir / "config/config.yaml"
    config.write_text(
        config.read_text().replace(
            "    targets: [PPP3CA, PPP3CB]\n", "    targets: [PPP3CA, PPP3CB]\n    where: {replicate: [1, 2]}\n"
        )
    )
    # Other samples: a fit of their own and everything of that contrast; counts, VST, the QC
    # plots and the gene sets stay.
    assert planned(workdir) == {
        "fit": 1,
        "plots_fit": 1,
        "de": 1,
        "knockdown": 1,
        "gsea": 1,
        "ora": 1,
        "verdict": 1,
        "plots_contrast": 1,
        "summary": 1,
        "verdict_page": 1,
        "all": 1,
    }


def test_the_gene_set_source_changed(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    config = workdir / "config/config.yaml"
    # The same hallmark file, now a local GMT instead of the mirror's download.
    config.write_text(config.read_text().replace("  - {msigdb: h", f"  - {{gmt: '{shared_path(HALLMARK)}'}}\n#"))
    assert planned(workdir) == FROM_GENE_SETS


def test_a_quantifier_file_touched_then_changed(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    quant = workdir / "example/htseq/control_1.htseq.txt"
    os.utime(quant)
    # Newer but the same bytes: Snakemake checks the sha256 it recorded and reruns nothing.
    assert planned(workdir) == {}
    lines = quant.read_text().splitlines(keepends=True)
    gene, count = lines[0].rstrip("\n").split("\t")
    quant.write_text("".join([f"{gene}\t{int(count) + 1}\n", *lines[1:]]))
    assert planned(workdir) == FROM_COUNTS


def test_a_workflow_script_changed(reference, tmp_path):
    # A private copy of the workflow: editing the checkout's scripts would disturb other runs.
    code = tmp_path / "knockseq"
    code.mkdir()
    shutil.copy2(PROJECT / "Snakefile", code)
    for folder in ("workflow", "profiles", "envs", "src"):
        shutil.copytree(
            PROJECT / folder, code / folder, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", ".snakemake")
        )
    workdir = _copy(reference, tmp_path / "run")
    plan = lambda: planned(workdir, "--snakefile", str(code / "Snakefile"))  # noqa: E731
    assert plan() == {}
    # Snakemake's code trigger is the script's mtime: its rule and what depends on it rerun.
    script = code / "workflow/scripts/gsea.py"
    script.write_text(script.read_text() + "\n")
    assert plan() == {key: value for key, value in FROM_GENE_SETS.items() if key not in ("gene_sets", "ora")}
    # The package's modules are not scripts: a change there is invisible to Snakemake, so after
    # changing src/knockseq, name the steps to redo (snakemake --forcerun gsea).
    module = code / "src/knockseq/enrichment.py"
    module.write_text(module.read_text() + "\n")
    os.utime(script, (0, 0))
    assert plan() == {}


# --- a gene-set cache shared by two runs -------------------------------------------------------


def test_two_runs_sharing_a_cache_download_once(mirror, tmp_path):
    cache = tmp_path / "shared_cache"
    workdirs = [example_with_mirror(tmp_path / name, mirror.url, cache=cache) for name in ("alice", "bob")]
    before = mirror.downloads()
    # The first download stops halfway until the other run is seen waiting for the cache lock.
    mirror.gate = threading.Event()
    runs = [start(workdir, "--cores", "1", "results/gene_sets/gene_sets.gmt") for workdir in workdirs]
    try:
        logs = [workdir / "logs/gene_sets.log" for workdir in workdirs]
        waiting = lambda: any(log.exists() and "waiting for another run" in log.read_text() for log in logs)  # noqa: E731
        wait_until(waiting, runs[0], "a run waiting for the cache lock")
        # While one run waits, the other's file is still a temporary: nobody can read it torn.
        assert not (cache / CACHED_NAME).exists()
    finally:
        mirror.gate.set()
        mirror.gate = None
    for run, workdir in zip(runs, workdirs):
        finish(run, workdir)
    assert mirror.downloads() - before == 1
    statuses = sorted(json.loads((w / "results/gene_sets/provenance.json").read_text())[1]["status"] for w in workdirs)
    assert statuses == ["cached", "downloaded"]
    assert sorted(p.name for p in cache.iterdir()) == [CACHED_NAME, f"{CACHED_NAME}.sha256"]
    assert (cache / CACHED_NAME).read_bytes() == shared_path(HALLMARK).read_bytes()
    gmts = [(w / "results/gene_sets/gene_sets.gmt").read_bytes() for w in workdirs]
    assert gmts[0] == gmts[1]
    assert all(partial_files(w) == [] for w in workdirs)


# --- a full disk, a read-only results folder ---------------------------------------------------


def _mount(*args: str) -> None:
    result = subprocess.run(["mount", *args], capture_output=True, text=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount here (needs root and CAP_SYS_ADMIN): {result.stderr.strip()}")


def _job_error(log: Path) -> str:
    """The knockseq ERROR line of a job's log, without its time stamp."""
    (line,) = [line for line in log.read_text().splitlines() if " knockseq ERROR: " in line]
    return line.split(" knockseq ERROR: ", 1)[1]


def test_a_full_disk_stops_with_the_file_and_what_to_do(reference, mirror, tmp_path):
    workdir = example_with_mirror(tmp_path, mirror.url)
    results = workdir / "results"
    results.mkdir()
    counts = {path: (reference / "results" / path).read_bytes() for path in ("counts/counts.tsv", "counts/qc.tsv")}
    # Room for the count table and QC (whole 4 KiB pages) and two pages more: not for the fit.
    pages = sum(-(-len(data) // 4096) for data in counts.values()) + 2
    _mount("-t", "tmpfs", "-o", f"size={pages * 4096}", "tmpfs", str(results))
    try:
        fit = fit_id(reference)
        target = f"results/de/fits/{fit}.pkl"
        result = snakemake(workdir, "--cores", "1", target, check=False)
        assert result.returncode != 0
        assert _job_error(workdir / f"logs/de/fit_{fit}.log") == (
            f"{target}: the disk is full (No space left on device); nothing was written. "
            "Fix: free space on the disk holding results/de/fits (see `df -h results/de/fits`) or run in a "
            "folder with more room (snakemake --directory DIR), then rerun: finished steps are kept."
        )
        assert snapshot(results) == counts
        assert partial_files(workdir) == []
        # With room made, the rerun starts from the fit.
        _mount("-o", "remount,size=4m", str(results))
        # (--directory again ends --quiet's list of values, so that the target is read as one.)
        assert planned(workdir, "--directory", str(workdir), target) == {"fit": 1}
    finally:
        subprocess.run(["umount", str(results)], check=True)


def _add_contrast_on_two_replicates(workdir: Path, reference: Path) -> str:
    """Add a contrast with a fit of its own to ``workdir``'s config; that fit's id."""
    config = workdir / "config/config.yaml"
    config.write_text(
        config.read_text().replace(
            "    targets: [PPP3CA, PPP3CB]\n",
            "    targets: [PPP3CA, PPP3CB]\n  first_two:\n    test: knockdown\n    reference: control\n"
            "    where: {replicate: [1, 2]}\n",
        )
    )
    (fit,) = {
        name
        for name in re.findall(r"results/de/fits/(\S+)\.pkl", snakemake(workdir, "-n").stdout)
        if name != fit_id(reference)
    }
    return fit


def _unprivileged_python() -> list[str]:
    """A command running this Python's packages as user "nobody", with no capabilities left.

    The venv's interpreter lives under /root (0700 here), so the system's CPython of the same
    minor version runs it, with the venv's site-packages on PYTHONPATH.
    """
    python = shutil.which("python3", path="/usr/bin:/usr/local/bin")
    if shutil.which("setpriv") is None or python is None:
        pytest.skip("needs setpriv (util-linux) and a system python3 to run the workflow as an unprivileged user")
    version = subprocess.run([python, "-c", "import sys; print(sys.version_info[:2])"], capture_output=True, text=True)
    if version.stdout.strip() != str(sys.version_info[:2]):
        pytest.skip(f"{python} is not Python {sys.version_info[0]}.{sys.version_info[1]}")
    return [
        "setpriv",
        "--reuid=65534",
        "--regid=65534",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        python,
    ]


def test_a_results_folder_without_write_permission_stops_with_the_file_and_what_to_do(reference):
    command = _unprivileged_python()
    # root ignores permissions: the run is made by "nobody", in a folder outside pytest's private
    # (0700) tmp tree.
    workdir = Path(tempfile.mkdtemp(prefix="knockseq-noperm-"))
    try:
        _copy(reference, workdir)
        fit = _add_contrast_on_two_replicates(workdir, reference)
        subprocess.run(["chown", "-R", "65534:65534", str(workdir)], check=True)
        (workdir / "results/de/fits").chmod(0o555)
        before = snapshot(workdir / "results")
        target = f"results/de/fits/{fit}.pkl"
        run = subprocess.run(
            [*command, *SNAKEMAKE[1:], "--directory", str(workdir), "--cores", "1", target],
            capture_output=True,
            text=True,
            env={
                **os.environ,
                "HOME": str(workdir),
                "PYTHONHASHSEED": "0",
                "PYTHONPATH": sysconfig.get_paths()["purelib"],
            },
        )
        assert run.returncode != 0
        assert _job_error(workdir / f"logs/de/fit_{fit}.log") == (
            f"{target}: cannot write into results/de/fits (Permission denied); nothing was written. "
            "Fix: make results/de/fits writable (chmod u+w, or mount it read-write), or run in a writable "
            "folder (snakemake --directory DIR), then rerun."
        )
        assert snapshot(workdir / "results") == before
        assert partial_files(workdir) == []
    finally:
        shutil.rmtree(workdir)


def test_a_read_only_results_folder_is_refused_before_any_job(reference, tmp_path):
    workdir = _copy(reference, tmp_path)
    results = workdir / "results"
    before = snapshot(results)
    config = workdir / "config/config.yaml"
    config.write_text(config.read_text().replace("permutations: 1000", "permutations: 500"))
    # A read-only mount (a finished analysis on a read-only share): Snakemake itself refuses to
    # redo outputs it cannot replace, naming them, before any job starts.
    _mount("--bind", str(results), str(results))
    try:
        _mount("-o", "remount,bind,ro", str(results))
        run = snakemake(workdir, "--cores", "1", check=False)
    finally:
        subprocess.run(["umount", str(results)], check=True)
    assert run.returncode != 0
    # (It names the first job it checks, gsea or one after it: all are to be redone.)
    assert re.search(r"Write-protected output files for rule \w+:\n    output: results/", run.stderr)
    assert snapshot(results) == before
    assert partial_files(workdir) == []


def test_a_writer_killed_mid_write_leaves_a_temporary_the_next_write_removes(tmp_path):
    dest = tmp_path / "table.tsv"
    code = (
        "import os, signal, sys\n"
        "from knockseq.io import atomic_path\n"
        "with atomic_path(sys.argv[1]) as tmp:\n"
        "    tmp.write_text('half')\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
    )
    killed = subprocess.run([sys.executable, "-c", code, str(dest)], capture_output=True)
    assert killed.returncode == -9
    (stale,) = tmp_path.iterdir()
    assert stale.name.startswith(".table.tsv.") and stale.name.endswith(".tmp")
    # Another destination's write leaves it; the same destination's removes it.
    from knockseq.io import write_text

    write_text("other\n", tmp_path / "table.tsv.gz")
    assert stale.exists()
    write_text("whole\n", dest)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.tsv", "table.tsv.gz"]
    assert dest.read_text() == "whole\n"

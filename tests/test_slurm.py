"""The workflow on a real single-node SLURM (``.ci/slurm``), submitted through ``profiles/slurm``.

CI (``.ci/run``) starts SLURM and sets ``KNOCKSEQ_SLURM=1``; a developer's run starts it here
with ``.ci/slurm start`` (root only) and stops it afterwards. When SLURM cannot be had the tests
skip, unless it was promised (``KNOCKSEQ_SLURM=1``, or ``KNOCKSEQ_REQUIRE_SHARED=1`` as in CI):
then they fail. No slurmdbd: jobs are followed with ``squeue``, and SLURM's record of finished
jobs is its job-completion file (``jobcomp.txt``: job id, state, start and end time).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest
import yaml
from conftest import PROJECT

from knockseq.resources import FIT, de_threads

SLURM_DIR = Path(os.environ.get("KNOCKSEQ_SLURM_DIR", "/tmp/knockseq-slurm"))
SLURM_ENV = {**os.environ, "SLURM_CONF": str(SLURM_DIR / "slurm.conf"), "PYTHONHASHSEED": "0"}
PROMISED = os.environ.get("KNOCKSEQ_SLURM") == "1" or os.environ.get("KNOCKSEQ_REQUIRE_SHARED") == "1"
SNAKEMAKE = [sys.executable, "-m", "snakemake", "--snakefile", str(PROJECT / "Snakefile")]
# The test cluster has no accounts and no slurmdbd; status checks every 2 s keep the test short.
# No --slurm-status-command: this SLURM keeps no accounting, which the workflow detects (its
# onstart switches the executor from sacct to squeue and says so).
SLURM_ARGS = [
    "--workflow-profile", str(PROJECT / "profiles/slurm"),
    "--slurm-no-account",
    "--slurm-init-seconds-before-status-checks", "1",
    "--seconds-between-status-checks", "2",
]  # fmt: skip
SUBMITTED = re.compile(r"has been submitted with SLURM jobid (\d+) \(log: (\S+)\)\.")
CONTRAST = "knockdown_vs_control"


def unavailable(reason: str) -> None:
    if PROMISED:
        pytest.fail(f"SLURM was promised (KNOCKSEQ_SLURM=1 or KNOCKSEQ_REQUIRE_SHARED=1) but {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def slurm():
    """A running SLURM; started (and stopped afterwards) here when none is."""
    if os.geteuid() != 0:
        unavailable("starting SLURM needs root")
    running = (
        subprocess.run(["sinfo", "--noheader"], env=SLURM_ENV, capture_output=True).returncode == 0
        if shutil.which("sinfo")
        else False
    )
    if not running:
        started = subprocess.run([str(PROJECT / ".ci/slurm"), "start"], env=SLURM_ENV, capture_output=True, text=True)
        if started.returncode != 0:
            unavailable(f"`.ci/slurm start` failed:\n{started.stdout[-2000:]}{started.stderr[-2000:]}")
    yield
    if not running:
        subprocess.run([str(PROJECT / ".ci/slurm"), "stop"], env=SLURM_ENV, check=True)


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [*SNAKEMAKE, "--directory", str(workdir), *args], capture_output=True, text=True, env=SLURM_ENV
    )
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def copy_example(dest: Path) -> Path:
    shutil.copytree(PROJECT / "config", dest / "config")
    shutil.copytree(PROJECT / "example", dest / "example")
    return dest


#: What the workflow prints when it follows the jobs with squeue.
NO_ACCOUNTING = (
    "knockseq: this SLURM keeps no accounting (sacct: accounting storage is disabled); following the jobs with "
    "squeue (--slurm-status-command squeue)."
)


def submissions(output: str) -> dict[int, str]:
    """SLURM job id -> rule, or ``contrast`` for a job group of profiles/slurm (a contrast's de and
    gsea), from Snakemake's output (the log path holds ``rule_<name>`` or ``group_<group>_<rules>``)."""
    names = {}
    for job, log in SUBMITTED.findall(output):
        kind, name = re.search(r"/(rule|group)_([^/]+)/", log).groups()
        names[int(job)] = name if kind == "rule" else name.split("_")[0]
    return names


def slurm_record() -> dict[int, dict[str, str]]:
    """SLURM's job-completion record: job id -> its fields (JobState, StartTime, EndTime ...)."""
    jobs = {}
    for line in (SLURM_DIR / "jobcomp.txt").read_text().splitlines():
        fields = dict(re.findall(r"(\w+)=(\S*)", line))
        jobs[int(fields["JobId"])] = fields
    return jobs


def seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp).timestamp()


# The DE tables and the verdicts are where a cluster run could differ (other CPU count, other
# environment); vst, the plots and the summary add jobs, not coverage. Three contrasts share one
# fit: each one's de and gsea are one submission (profiles/slurm's job group `contrast`).
CONTRASTS = ["kd_1", "kd_2", "kd_3"]
TARGETS = [f"results/{step}/{name}.{ext}" for name in CONTRASTS for step, ext in (("de", "tsv"), ("verdict", "json"))]


def three_contrasts(workdir: Path) -> Path:
    """The example's config with three contrasts of knockdown vs control sharing one fit."""
    config = yaml.safe_load((workdir / "config/config.yaml").read_text())
    config["contrasts"] = {name: {"test": "knockdown", "reference": "control"} for name in CONTRASTS}
    (workdir / "three.yaml").write_text(yaml.safe_dump(config))
    return workdir / "three.yaml"


def test_example_on_slurm_equals_local_run(slurm, tmp_path):
    local = copy_example(tmp_path / "local")
    snakemake(local, *TARGETS, "--configfile", str(three_contrasts(local)), "--cores", "2")
    cluster = copy_example(tmp_path / "cluster")
    run = snakemake(cluster, *TARGETS, "--configfile", str(three_contrasts(cluster)), *SLURM_ARGS)

    for path in TARGETS:
        # Byte-identical: the verdict JSON carries no timestamp or host name.
        assert (cluster / path).read_bytes() == (local / path).read_bytes(), path
    assert NO_ACCOUNTING in run.stderr
    # 5 submissions where one per rule would make 8: counts, the fit, and per contrast its de and
    # gsea together.
    jobs = submissions(run.stdout + run.stderr)
    assert sorted(jobs.values()) == ["contrast", "contrast", "contrast", "counts", "fit"]
    record = slurm_record()
    assert {job: record[job]["JobState"] for job in jobs} == {job: "COMPLETED" for job in jobs}
    # The fit's memory, time and cores came from knockseq.resources (6 samples x 506 genes; the
    # example's compat r and batched engine use one core). A contrast's group asks for the larger
    # cores and memory of its two jobs (one core each, de's 8000 MB) and their summed time.
    fit_job = next(job for job, rule in jobs.items() if rule == "fit")
    assert record[fit_job]["TimeLimit"] == str(FIT.runtime(6, 506)) == "10"
    assert f"mem={FIT.mem_mb(6, 506)}M" in record[fit_job]["Tres"]
    assert "cpu=1," in record[fit_job]["Tres"] and de_threads("r", "batched") == 1
    for job in (job for job, rule in jobs.items() if rule == "contrast"):
        assert "cpu=1," in record[job]["Tres"] and "mem=8000M" in record[job]["Tres"]
        assert record[job]["TimeLimit"] == "180"


def test_datasets_on_slurm_equal_a_local_run(slurm, tmp_path):
    # Two datasets of the bundled example's files (all six samples; a 2 vs 2 subset): each
    # dataset's counts, fit, de and gsea are cluster jobs of their own.
    blocks = {
        "all": {"contrasts": {"kd": {"test": "knockdown", "reference": "control"}}},
        "two": {"contrasts": {"kd": {"test": "knockdown", "reference": "control", "where": {"replicate": [1, 2]}}}},
    }
    text = yaml.safe_dump(
        {"datasets": {name: {"samples": "config/samples.tsv", **block} for name, block in blocks.items()}}
    )
    targets = [f"results/{name}/verdict/kd.json" for name in blocks]
    runs = {}
    for where in ("local", "cluster"):
        workdir = copy_example(tmp_path / where)
        (workdir / "datasets.yaml").write_text(text)
        # Targets first: --configfile takes every following word as a file.
        args = [*targets, "--configfile", str(workdir / "datasets.yaml")]
        runs[where] = (workdir, snakemake(workdir, *args, *(["--cores", "2"] if where == "local" else SLURM_ARGS)))
    (local, _), (cluster, run) = runs["local"], runs["cluster"]
    for path in [*targets, "results/all/de/kd.tsv", "results/two/de/kd.tsv"]:
        assert (cluster / path).read_bytes() == (local / path).read_bytes(), path
    jobs = submissions(run.stdout + run.stderr)
    assert sorted(jobs.values()) == sorted(["counts", "fit", "contrast"] * 2)
    record = slurm_record()
    assert {job: record[job]["JobState"] for job in jobs} == {job: "COMPLETED" for job in jobs}
    # Each dataset's fit asked for its own size: 6 and 4 samples x 506 genes.
    fits = [record[job]["Tres"] for job, rule in jobs.items() if rule == "fit"]
    asked = {int(re.search(r"mem=(\d+)M", tres).group(1)) for tres in fits}
    assert asked == {FIT.mem_mb(6, 506), FIT.mem_mb(4, 506)}


def wait_for_running(rule: str, run: subprocess.Popen, timeout: float = 120) -> int:
    """SLURM id of the first job of ``rule`` seen running (the plugin puts the rule in the comment)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if run.poll() is not None:
            raise AssertionError(f"snakemake ended before a {rule} job ran:\n{run.stdout.read()[-4000:]}")
        queue = subprocess.run(
            ["squeue", "--noheader", "--format=%i|%k|%T"], env=SLURM_ENV, capture_output=True, text=True
        ).stdout
        for line in queue.splitlines():
            job, comment, state = line.split("|")
            if comment.startswith(f"rule_{rule}") and state == "RUNNING":
                return int(job)
        time.sleep(0.2)
    raise AssertionError(f"no {rule} job ran within {timeout} s")


def test_failed_job_names_its_log_and_rerun_redoes_only_the_missing_steps(slurm, tmp_path):
    workdir = copy_example(tmp_path)
    # Two contrasts sharing one fit (each checks one target): one fit job, then two de jobs.
    config = workdir / "config/config.yaml"
    config.write_text(
        config.read_text().replace(
            f"  {CONTRAST}:\n    variable: condition\n    test: knockdown\n    reference: control\n    targets: [PPP3CA, PPP3CB]\n",
            "  kd_PPP3CA:\n    test: knockdown\n    reference: control\n    targets: [PPP3CA]\n"
            "  kd_PPP3CB:\n    test: knockdown\n    reference: control\n    targets: [PPP3CB]\n",
        )
    )
    targets = ["results/de/kd_PPP3CA.tsv", "results/de/kd_PPP3CB.tsv"]
    # A de job takes one core (knockseq.resources.de_threads), so the node's 2 CPUs hold both at once.
    args = [*targets, *SLURM_ARGS]
    first = subprocess.Popen(
        [*SNAKEMAKE, "--directory", str(workdir), *args],
        env=SLURM_ENV,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        cancelled = wait_for_running("fit", first)
        subprocess.run(["scancel", str(cancelled)], env=SLURM_ENV, check=True)
        output, _ = first.communicate(timeout=180)
    finally:
        first.kill()
    assert first.returncode != 0
    jobs = submissions(output)
    assert sorted(jobs.values()) == ["counts", "fit"] and jobs[cancelled] == "fit"
    assert f"SLURM-job '{cancelled}' failed, SLURM status is: 'CANCELLED'" in output
    slurm_log = next(log for job, log in SUBMITTED.findall(output) if int(job) == cancelled)
    assert "log: logs/de/fit_" in output and slurm_log in output.split("Error in rule fit:")[1]
    assert Path(slurm_log).is_file() and Path(slurm_log).is_relative_to(workdir / "logs/slurm/rule_fit")

    results = workdir / "results"
    before = {p: p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()}
    assert sorted(str(p.relative_to(results)) for p in before) == ["counts/counts.tsv", "counts/qc.tsv"]
    rerun = snakemake(workdir, *args)
    rerun_jobs = submissions(rerun.stdout + rerun.stderr)
    # Each de job is its contrast's group (gsea is not a target here).
    assert sorted(rerun_jobs.values()) == ["contrast", "contrast", "fit"]
    assert {p: p.stat().st_mtime_ns for p in before} == before
    assert all((workdir / t).stat().st_size > 0 for t in targets)

    # The two de jobs ran at the same time, by SLURM's own record.
    record = slurm_record()
    de_a, de_b = (record[job] for job, rule in rerun_jobs.items() if rule == "contrast")
    assert seconds(de_a["StartTime"]) < seconds(de_b["EndTime"]) and seconds(de_b["StartTime"]) < seconds(
        de_a["EndTime"]
    )
    assert record[cancelled]["JobState"] == "CANCELLED"

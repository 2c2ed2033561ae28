"""The set-up promises: pinned versions agree everywhere, CI runs the README's test command."""

from __future__ import annotations

import re

from conftest import PROJECT


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in (PROJECT / "requirements.lock").read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_conda_env_pins_match_the_lock():
    conda = dict(re.findall(r"^\s+- ([a-z0-9_-]+)=([0-9][^\s=]*)$", (PROJECT / "envs/knockseq.yaml").read_text(), re.M))
    conda.pop("python")
    lock = lock_pins()
    assert len(conda) == 9
    assert {name: lock.get(name) for name in conda} == conda


def test_pyproject_pins_match_the_lock():
    text = (PROJECT / "pyproject.toml").read_text()
    pins = dict(re.findall(r'"([A-Za-z0-9_-]+)==([^"]+)"', text))
    lock = lock_pins()
    assert {name: lock.get(name.lower()) for name in pins} == pins


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (PROJECT / "README.md").read_text())


def test_readme_opens_with_the_two_commands():
    run_example, run_tests = readme_commands()[:2]
    assert run_example.endswith("snakemake --cores 8")
    assert run_tests.endswith("pytest")
    assert run_example.rsplit("&&", 1)[0] == run_tests.rsplit("&&", 1)[0]


def test_ci_runs_the_readme_test_command():
    ci = (PROJECT / ".ci/run").read_text().splitlines()
    assert readme_commands()[1] in ci

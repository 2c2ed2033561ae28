"""The set-up promises: what the code imports is declared, pyproject's ranges admit the lock's pins
and the conda env carries the same pins, a wheel installed from the registry alone runs the
example's plots, and CI runs the README's test command."""

from __future__ import annotations

import ast
import importlib.metadata
import io
import os
import re
import shutil
import struct
import subprocess
import sys
import tokenize
import tomllib
import urllib.request
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import PROJECT
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

#: Where the package and the workflow's job code live: imported in the driver and in every job.
CODE_DIRS = ("src", "workflow/scripts")
#: The workflow's own Python, run only in the driver process (never in a job's conda env).
DRIVER_FILES = ("Snakefile", "workflow/rules/*.smk")
#: Distributions that pyproject may leave without an upper bound, and why.
UNCAPPED = {"xarray": "calendar versions that mark no breaking release"}


def lock_pins(name: str = "requirements.lock") -> dict[str, str]:
    """A lock file as canonical distribution name -> exact version."""
    pins = {}
    for line in (PROJECT / name).read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[canonicalize_name(name)] = version
    return pins


def all_pins() -> dict[str, str]:
    """requirements.lock and requirements-slurm.lock (the SLURM executor plugin) together."""
    return {**lock_pins(), **lock_pins("requirements-slurm.lock")}


def pyproject_requirements() -> dict[str, Requirement]:
    """[project].dependencies and every optional dependency, by canonical name."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + [line for extra in project["optional-dependencies"].values() for line in extra]
    requirements = [Requirement(line) for line in lines]
    return {canonicalize_name(req.name): req for req in requirements}


def pyproject_dependencies() -> set[str]:
    """Canonical names of [project].dependencies (what a plain install brings)."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    return {canonicalize_name(Requirement(line).name) for line in project["dependencies"]}


def conda_pins() -> dict[str, str]:
    """envs/knockseq.yaml as canonical name -> version, without python itself.

    conda-forge and bioconda name every current dependency by its PyPI name in lower case, which
    canonicalisation makes equal.
    """
    env = yaml.safe_load((PROJECT / "envs/knockseq.yaml").read_text())
    pins = dict(spec.split("=", 1) for spec in env["dependencies"])
    pins.pop("python")
    return {canonicalize_name(name): version for name, version in pins.items()}


def python_imports(source: str) -> list[tuple[str, int]]:
    """Top-level module and line of every absolute import in Python ``source``, function bodies,
    ``try`` blocks and ``if TYPE_CHECKING`` included (every import a reader of the file sees)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(alias.name.split(".")[0], node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            found.append((node.module.split(".")[0], node.lineno))
    return sorted(found, key=lambda item: item[1])


def snakemake_imports(source: str) -> list[tuple[str, int]]:
    """As :func:`python_imports` for a Snakefile: its rule syntax is not Python, but it tokenizes
    as Python, so each logical line that starts with ``import`` or ``from`` is parsed alone."""
    lines = source.splitlines(keepends=True)
    found = []
    first = None  # first token of the logical line being read
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type in (tokenize.INDENT, tokenize.DEDENT, tokenize.NL, tokenize.COMMENT):
            continue
        if token.type != tokenize.NEWLINE:
            first = first or token
            continue
        if first is not None and first.type == tokenize.NAME and first.string in ("import", "from"):
            (row, col), end_row = first.start, token.start[0]
            statement = lines[row - 1][col:] + "".join(lines[row:end_row])
            found += [(module, row) for module, _ in python_imports(statement)]
        first = None
    return found


def imports_by_module(root: Path) -> dict[str, dict[str, list[str]]]:
    """Every imported top-level module -> {"code" | "driver": ["path:line", ...]} under ``root``."""
    where: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for folder in CODE_DIRS:
        for path in sorted((root / folder).rglob("*.py")):
            for module, line in python_imports(path.read_text()):
                where[module]["code"].append(f"{path.relative_to(root)}:{line}")
    for pattern in DRIVER_FILES:
        for path in sorted(root.glob(pattern)):
            for module, line in snakemake_imports(path.read_text()):
                where[module]["driver"].append(f"{path.relative_to(root)}:{line}")
    return where


def third_party(where: dict[str, dict[str, list[str]]]) -> dict[str, dict[str, list[str]]]:
    """``where`` without the standard library and knockseq itself."""
    return {
        module: places
        for module, places in where.items()
        if module not in sys.stdlib_module_names and module != "knockseq"
    }


def undeclared(
    where: dict[str, dict[str, list[str]]], distributions: dict[str, list[str]], pyproject: set[str], conda: set[str]
) -> list[str]:
    """One line for each third-party module whose distribution a declaration lacks.

    Parameters
    ----------
    where : dict
        :func:`third_party` of :func:`imports_by_module`.
    distributions : dict
        Top-level module -> distribution names, :func:`importlib.metadata.packages_distributions`.
    pyproject, conda : set of str
        Canonical names declared in pyproject's dependencies and in the conda env. Modules that
        only the driver imports need only pyproject: jobs never run the Snakefile.
    """
    problems = []
    for module, places in sorted(where.items()):
        seen = ", ".join(places.get("code", []) + places.get("driver", []))
        dists = {canonicalize_name(name) for name in distributions.get(module, [])}
        if not dists:
            problems.append(f"{module} (imported by {seen}): no installed distribution provides it")
            continue
        missing = [] if dists & pyproject else ["pyproject.toml [project].dependencies"]
        if "code" in places and not dists & conda:
            missing.append("envs/knockseq.yaml")
        if missing:
            problems.append(
                f"{module} (distribution {'/'.join(sorted(dists))}, imported by {seen}): "
                f"missing from {' and '.join(missing)}"
            )
    return problems


def test_the_import_reader_finds_every_kind_of_import(tmp_path):
    (tmp_path / "src/pkg").mkdir(parents=True)
    (tmp_path / "workflow/scripts").mkdir(parents=True)
    (tmp_path / "workflow/rules").mkdir(parents=True)
    (tmp_path / "src/pkg/a.py").write_text(
        "import os.path, numpy as np\nfrom . import b\nfrom .c import d\n"
        "def f():\n    from adjustText import adjust_text\n"
        "try:\n    import h5py\nexcept ImportError:\n    pass\n"
    )
    (tmp_path / "workflow/scripts/s.py").write_text("import knockseq.io\nfrom xarray.core import dataset\n")
    (tmp_path / "workflow/rules/r.smk").write_text(
        'from snakemake.utils import (\n    validate,\n)\n\nrule a:\n    input: "x"\n    run:\n'
        '        import yaml\n        print("from here")\n\ndef g():\n    import json\n'
    )
    (tmp_path / "Snakefile").write_text('include: "workflow/rules/r.smk"\nfrom snakemake import utils\n')
    where = imports_by_module(tmp_path)
    assert {module: dict(places) for module, places in where.items()} == {
        "os": {"code": ["src/pkg/a.py:1"]},
        "numpy": {"code": ["src/pkg/a.py:1"]},
        "adjustText": {"code": ["src/pkg/a.py:5"]},
        "h5py": {"code": ["src/pkg/a.py:7"]},
        "knockseq": {"code": ["workflow/scripts/s.py:1"]},
        "xarray": {"code": ["workflow/scripts/s.py:2"]},
        "snakemake": {"driver": ["Snakefile:2", "workflow/rules/r.smk:1"]},
        "yaml": {"driver": ["workflow/rules/r.smk:8"]},
        "json": {"driver": ["workflow/rules/r.smk:12"]},
    }
    assert sorted(third_party(where)) == ["adjustText", "h5py", "numpy", "snakemake", "xarray", "yaml"]


def test_the_declaration_check_names_what_is_missing():
    where = {
        "adjustText": {"code": ["src/knockseq/plots/style.py:68"]},
        "snakemake": {"driver": ["Snakefile:4"]},
        "yaml": {"code": ["src/knockseq/schema.py:20"]},
        "nowhere": {"code": ["src/x.py:1"]},
    }
    distributions = {"adjustText": ["adjustText"], "snakemake": ["snakemake"], "yaml": ["PyYAML"]}
    assert undeclared(where, distributions, pyproject={"snakemake", "pyyaml"}, conda={"pyyaml"}) == [
        "adjustText (distribution adjusttext, imported by src/knockseq/plots/style.py:68): "
        "missing from pyproject.toml [project].dependencies and envs/knockseq.yaml",
        "nowhere (imported by src/x.py:1): no installed distribution provides it",
    ]


def test_every_third_party_import_is_declared_in_pyproject_and_the_conda_env():
    where = third_party(imports_by_module(PROJECT))
    # The reader must see the imports this check exists for (a function-level one among them).
    assert {"adjustText", "docutils", "h5py", "numpy", "snakemake"} <= set(where)
    problems = undeclared(
        where, importlib.metadata.packages_distributions(), pyproject_dependencies(), set(conda_pins())
    )
    assert problems == [], "undeclared third-party imports:\n" + "\n".join(problems)


def test_pyproject_states_ranges_that_admit_the_lock():
    lock = all_pins()
    for name, req in pyproject_requirements().items():
        operators = sorted(spec.operator for spec in req.specifier)
        if name == "pydeseq2":
            # knockseq.engine overrides PyDESeq2 internals (tests/test_engine_rules.py).
            assert str(req.specifier) == "==0.5.4"
        elif name in UNCAPPED:
            assert operators == [">="], name
        else:
            assert operators == ["<", ">="], f"{req}: state a floor and a ceiling, not a pin"
        assert name in lock, f"{req} is not pinned in requirements.lock or requirements-slurm.lock"
        assert req.specifier.contains(lock[name]), f"{req} does not admit the lock's {name}=={lock[name]}"


def closure(requirements: list[Requirement], lock: dict[str, str], extras: tuple[str, ...]) -> set[str]:
    """Every distribution ``requirements`` bring in (with ``extras`` asked of pyproject), each
    checked to be pinned in ``lock`` inside every range that asks for it, and installed at that pin
    (read from the installed metadata: the README's test command installs both locks)."""
    wanted = [(req, "pyproject.toml", extras) for req in requirements]
    reached: set[str] = set()
    while wanted:
        req, asker, asked = wanted.pop()
        if req.marker is not None and not any(req.marker.evaluate({"extra": extra}) for extra in (*asked, "")):
            continue
        name = canonicalize_name(req.name)
        assert name in lock, f"{req} (asked for by {asker}) is missing from the lock files"
        assert req.specifier.contains(lock[name], prereleases=True), (
            f"{asker} asks for {req}, the lock pins {lock[name]}"
        )
        if name in reached:
            continue
        reached.add(name)
        assert importlib.metadata.version(name) == lock[name], f"installed {name} is not the lock's"
        wanted += [(Requirement(line), name, tuple(req.extras)) for line in importlib.metadata.requires(name) or []]
    return reached


def test_the_locks_pin_exactly_what_pyproject_brings_in():
    """requirements.lock is the closure of pyproject's dependencies and its `test` extra;
    requirements-slurm.lock adds what the `slurm` extra brings in besides, and nothing else."""
    project = tomllib.loads((PROJECT / "pyproject.toml").read_text())["project"]
    assert sorted(project["optional-dependencies"]) == ["slurm", "test"]
    lines = project["dependencies"] + project["optional-dependencies"]["test"]
    base = closure([Requirement(line) for line in lines], lock_pins(), ("test",))
    assert sorted(set(lock_pins()) - base) == [], "pinned in requirements.lock but nothing asks for them"
    slurm = closure([Requirement(line) for line in project["optional-dependencies"]["slurm"]], all_pins(), ("slurm",))
    assert sorted(slurm - base) == sorted(lock_pins("requirements-slurm.lock"))
    assert sorted(lock_pins("requirements-slurm.lock")) == [
        "snakemake-executor-plugin-slurm",
        "snakemake-executor-plugin-slurm-jobstep",
    ]


def test_conda_env_pins_the_locks_versions_of_what_jobs_import():
    conda, lock = conda_pins(), lock_pins()
    assert {name: lock.get(name) for name in conda} == conda
    driver_only = {
        canonicalize_name(dist)
        for module, places in third_party(imports_by_module(PROJECT)).items()
        if "code" not in places
        for dist in importlib.metadata.packages_distributions()[module]
    }
    assert driver_only == {"snakemake"}
    assert sorted(conda) == sorted(pyproject_dependencies() - driver_only)


def readme_commands() -> list[str]:
    return re.findall(r"```bash\n(.+?)\n```", (PROJECT / "README.md").read_text())


def test_readme_opens_with_the_two_commands():
    run_example, run_tests = readme_commands()[:2]
    assert run_example.endswith("snakemake --cores 8")
    assert run_tests.endswith("pytest")
    # The suite also installs the SLURM executor plugin (its SLURM tests submit jobs); the
    # example's install leaves it out, so a laptop run never asks a SLURM controller anything.
    assert run_example.rsplit("&&", 1)[0] == run_tests.rsplit("&&", 1)[0].replace(" -r requirements-slurm.lock", "")
    assert "requirements-slurm.lock" in run_tests and "requirements-slurm.lock" not in run_example


def test_ci_runs_the_readme_test_command():
    ci = (PROJECT / ".ci/run").read_text().splitlines()
    assert readme_commands()[1] in ci


# -- the wheel, installed from the registry alone -------------------------------------------------

#: The example's contrast and the figure the fresh environment must draw.
CONTRAST = "knockdown_vs_control"
VOLCANO = f"results/plots/{CONTRAST}/volcano.png"


def require_registry() -> None:
    """Skip unless the package registry answers; in CI (``CI=true``) fail instead."""
    url = os.environ.get("PIP_INDEX_URL", "https://pypi.org/simple").rstrip("/") + "/adjusttext/"
    try:
        urllib.request.urlopen(url, timeout=20).close()
    except OSError as error:
        message = f"the package registry is unreachable ({url}: {error}); the fresh-install test needs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def run(args: list, what: str, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(arg) for arg in args], capture_output=True, text=True, **kwargs)
    assert result.returncode == 0, f"{what} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk; fails unless the file starts as a PNG does."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n" and head[12:16] == b"IHDR", f"{path} is not a PNG"
    return struct.unpack(">II", head[16:24])


@pytest.fixture(scope="module")
def fresh_install(tmp_path_factory) -> Iterator[tuple[Path, Path]]:
    """A wheel of the package, installed with its dependencies resolved from pyproject's ranges
    alone (no lock) into a new venv. Yields the venv's python and the folder it was made in."""
    require_registry()
    root = tmp_path_factory.mktemp("fresh")
    # Built from a copy: an in-tree build leaves build/ in the checkout, and a stale build/lib
    # would put modules deleted since into the wheel.
    source = root / "source"
    source.mkdir()
    shutil.copy(PROJECT / "pyproject.toml", source)
    shutil.copytree(PROJECT / "src", source / "src", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", root / "dist", source], "pip wheel")
    (wheel,) = (root / "dist").glob("knockseq-*.whl")
    run([sys.executable, "-m", "venv", root / "venv"], "python -m venv")
    python = root / "venv/bin/python"
    run([python, "-m", "pip", "install", "-q", wheel], "pip install of the wheel (no lock)", timeout=1200)
    yield python, root
    # 700 MB each, and pytest keeps the last three runs' temporary folders.
    shutil.rmtree(root / "venv")


def fresh_env(root: Path, **extra: str) -> dict[str, str]:
    """The test's environment less anything that could lead the fresh venv's Python to this one's
    packages (PYTHONPATH, an activated venv)."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(root / "venv/bin"), env.get("PATH", "")])
    return {**env, **extra}


def test_the_wheel_installs_the_package_and_its_data(fresh_install):
    python, root = fresh_install
    code = (
        "import importlib.resources, knockseq; print(knockseq.__file__); "
        "print(*sorted(p.name for p in importlib.resources.files('knockseq').joinpath('data').iterdir()))"
    )
    out = run([python, "-c", code], "import knockseq from the wheel", cwd=root, env=fresh_env(root)).stdout.splitlines()
    assert Path(out[0]).is_relative_to(root / "venv")
    assert out[1].split() == sorted(p.name for p in (PROJECT / "src/knockseq/data").iterdir())


def test_the_fresh_install_draws_the_example_volcano(fresh_install):
    """Snakemake from the fresh venv runs the example up to its volcano plot: counts, the PyDESeq2
    fit, the Wald test, the knockdown check and the plots, on that venv's third-party packages.

    The workflow puts the checkout's src/ first on the path (workflow/rules/common.smk), so the
    knockseq code is the checkout's; what this proves is that the dependencies pip resolved from
    pyproject's ranges alone run it.
    """
    python, root = fresh_install
    # Jobs run with the driver's Python and PYTHONPATH=src: every third-party module the code
    # imports must come from the fresh venv, not from the environment running this test.
    modules = sorted(third_party(imports_by_module(PROJECT)))
    code = "import importlib, sys; [print(importlib.import_module(m).__file__) for m in sys.argv[1:]]"
    files = run(
        [python, "-c", code, *modules],
        "imports in the fresh venv",
        cwd=root,
        env=fresh_env(root, PYTHONPATH=str(PROJECT / "src")),
    ).stdout.splitlines()
    assert [Path(f).is_relative_to(root / "venv") for f in files] == [True] * len(modules), dict(zip(modules, files))

    workdir = root / "example"
    shutil.copytree(PROJECT / "config", workdir / "config")
    shutil.copytree(PROJECT / "example", workdir / "example")
    run(
        [
            python,
            "-m",
            "snakemake",
            "--snakefile",
            PROJECT / "Snakefile",
            "--directory",
            workdir,
            "--cores",
            "2",
            VOLCANO,
        ],
        "snakemake from the fresh venv",
        env=fresh_env(root, PYTHONHASHSEED="0"),
        timeout=900,
    )

    # figsize (7, 6) at 150 dpi, no tight bounding box: exactly 1050 x 900 pixels.
    assert png_size(workdir / VOLCANO) == (1050, 900)
    assert 20_000 < (workdir / VOLCANO).stat().st_size < 1_000_000
    de = pd.read_csv(workdir / f"results/de/{CONTRAST}.tsv", sep="\t")
    values = pd.read_csv(workdir / VOLCANO.replace(".png", ".tsv"), sep="\t")
    tested = de[de["log2FoldChange"].notna() & de["pvalue"].notna()]
    assert len(de) == 506 and len(values) == len(tested) == 491
    assert values["gene_id"].tolist() == tested["gene_id"].tolist()
    # The example knocks down calcineurin: both catalytic subunits fall and are labelled as targets.
    targets = values.set_index("gene_id").loc[["PPP3CA", "PPP3CB"]]
    assert targets["label_kind"].tolist() == ["knockdown target"] * 2
    assert targets["class"].tolist() == ["down"] * 2


def stub_slurm(folder: Path, hang: bool) -> Path:
    """SLURM client tools that write each call to a log, then hang (as when a controller does not
    answer) or fail at once. Returns the log's path."""
    folder.mkdir()
    log = folder / "calls.log"
    for tool in ("scontrol", "sinfo", "squeue", "sacct", "sbatch", "srun", "scancel"):
        (folder / tool).write_text(f"#!/bin/sh\necho {tool} \"$@\" >> '{log}'\n{'sleep 600' if hang else 'exit 1'}\n")
        (folder / tool).chmod(0o755)
    return log


def test_a_local_run_of_the_example_install_never_asks_slurm(fresh_install, tmp_path):
    """Snakemake loads every installed executor plugin at start-up, and the SLURM one then runs
    `scontrol show config`, which waits for a controller that may not answer. The example's install
    (the wheel, without the `slurm` extra) runs Snakemake without asking SLURM anything; the suite's
    environment, which has the plugin, asks at once (so the stubs would see a call)."""
    python, root = fresh_install
    workdir = tmp_path / "example"
    shutil.copytree(PROJECT / "config", workdir / "config")
    shutil.copytree(PROJECT / "example", workdir / "example")
    dry_run = ["-m", "snakemake", "--snakefile", PROJECT / "Snakefile", "--directory", workdir, "--cores", "2", "-n"]
    hanging = stub_slurm(tmp_path / "hanging", hang=True)
    env = fresh_env(root)
    env["PATH"] = os.pathsep.join([str(tmp_path / "hanging"), env["PATH"]])
    # A hanging stub that was called would keep this past its timeout.
    run([python, *dry_run], "snakemake -n from the example's install", env=env, timeout=120)
    assert not hanging.exists()

    failing = stub_slurm(tmp_path / "failing", hang=False)
    env = {**os.environ, "PATH": os.pathsep.join([str(tmp_path / "failing"), os.environ["PATH"]])}
    env.pop("SLURM_CONF", None)
    run([sys.executable, *dry_run], "snakemake -n with the SLURM plugin", env=env, timeout=120)
    assert failing.read_text().splitlines()[0] == "scontrol show config"

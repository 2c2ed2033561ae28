"""Real processes for tests/test_runs.py: a local MSigDB mirror, workflow runs that can be killed,
and snapshots of what a run leaves on disk.
"""

from __future__ import annotations

import http.server
import os
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path

from test_workflow import SNAKEMAKE, copy_example

#: The MSigDB release the example's config asks the mirror for (the shared v7.0 hallmark file is
#: served under this release's name).
VERSION = "2024.1.Hs"
CACHED_NAME = f"h.all.v{VERSION}.symbols.gmt"

#: Names of the temporary files knockseq.io.atomic_path and the MSigDB download make.
PARTIAL = re.compile(r"^\..+\.[a-z0-9_]{8}\.(tmp|part)$")


class Mirror:
    """http.server on 127.0.0.1 serving one GMT at every ``/<release>/<name>.symbols.gmt``.

    With ``only``, at that one path alone (404 elsewhere). ``requests`` lists the paths of the GET
    requests received. While ``gate`` is an unset
    Event, each response stops after half of the file until the gate opens, so a test can act
    while a download is provably under way.
    """

    def __init__(self, body: bytes, only: str | None = None):
        self.requests: list[str] = []
        self.gate: threading.Event | None = None
        mirror = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 (http.server's naming)
                mirror.requests.append(self.path)
                if not self.path.endswith(".symbols.gmt") or only not in (None, self.path):
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                half = len(body) // 2
                try:
                    self.wfile.write(body[:half])
                    self.wfile.flush()
                    if mirror.gate is not None:
                        mirror.gate.wait(timeout=120)
                    self.wfile.write(body[half:])
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client was killed mid-download: what the test wanted

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def downloads(self) -> int:
        """GET requests for the hallmark file so far."""
        return sum(path == f"/{VERSION}/{CACHED_NAME}" for path in self.requests)

    def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join()


def example_with_mirror(dest: Path, mirror_url: str, cache: Path | None = None) -> Path:
    """The bundled example in ``dest``, with MSigDB's hallmark collection fetched from ``mirror_url``.

    ``cache``: a ``gene_sets_cache`` shared with other runs (default the run's own
    ``resources/gene_sets``).
    """
    copy_example(dest)
    config = dest / "config/config.yaml"
    text = config.read_text()
    # MSigDB's hallmark collection in place of the builtin one (set names are unique across sources).
    sources = f"  - builtin: er_core\n  - {{msigdb: h, version: {VERSION}, base_url: '{mirror_url}'}}\n"
    builtins = "  - builtin: er_core\n  - builtin: hallmark\n"
    assert text.count(builtins) == 1
    text = text.replace(builtins, sources)
    if cache is not None:
        text = text.replace("gene_sets_cache: resources/gene_sets", f"gene_sets_cache: '{cache}'")
    config.write_text(text)
    return dest


def start(workdir: Path, *args: str) -> subprocess.Popen:
    """Start snakemake in ``workdir`` in a process group of its own (stdout+stderr in run.out)."""
    out = open(workdir / "run.out", "ab")
    return subprocess.Popen(
        [*SNAKEMAKE, "--directory", str(workdir), *args],
        stdout=out,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )


def finish(proc: subprocess.Popen, workdir: Path, timeout: float = 600) -> str:
    """Wait for a run started by :func:`start`; its output, or an AssertionError if it failed."""
    code = proc.wait(timeout=timeout)
    output = (workdir / "run.out").read_text()
    assert code == 0, f"snakemake exited with {code}:\n{output[-6000:]}"
    return output


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen, what: str, timeout: float = 300) -> None:
    """Poll ``condition`` every 5 ms while ``proc`` runs; fail if it ends or times out first."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            raise AssertionError(f"snakemake ended (status {proc.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.005)


def group_members(pgid: int) -> list[int]:
    """Pids of the live (not zombie) processes in process group ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the parenthesised command: state, ppid, pgrp, ...
        state, _, pgrp = stat.rsplit(")", 1)[1].split()[:3]
        if int(pgrp) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


def kill_group(proc: subprocess.Popen) -> list[int]:
    """SIGKILL snakemake and its jobs (one process group); the pids that were in it.

    Returns once no process of the group is left.
    """
    members = group_members(proc.pid)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while group_members(proc.pid):
        assert time.monotonic() < deadline, f"processes of group {proc.pid} outlived SIGKILL"
        time.sleep(0.01)
    return members


def snapshot(root: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file under ``root``."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def partial_files(workdir: Path) -> list[str]:
    """Temporary files of atomic writes or downloads anywhere in ``workdir`` (Snakemake's own
    ``.snakemake`` bookkeeping aside)."""
    return sorted(
        str(p.relative_to(workdir))
        for p in workdir.rglob("*")
        if PARTIAL.match(p.name) and ".snakemake" not in p.relative_to(workdir).parts
    )

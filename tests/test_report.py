"""The Snakemake HTML report of the example run, opened in a real headless browser (Debian's chromium)."""

from __future__ import annotations

import base64
import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from test_workflow import copy_example, snakemake

#: Every figure the plot rules register, per contrast ({contrast}) or once.
FIGURES = [
    "results/plots/{contrast}/volcano.png",
    "results/plots/{contrast}/ma.png",
    "results/plots/{contrast}/pvalues.png",
    "results/plots/{contrast}/targets.png",
    "results/plots/{contrast}/gsea_curves.png",
    "results/plots/{contrast}/gsea_sets.png",
    "results/plots/qc/pca.png",
    "results/plots/qc/distances.png",
    "results/plots/qc/library_sizes.png",
    "results/plots/verdicts.html",
    "results/summary/er_targets_heatmap.png",
]
CATEGORIES = ["Differential expression", "Knockdown", "Enrichment", "Quality control", "Verdict", "Summary"]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--virtual-time-budget=5000"]


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = "chromium not installed (apt-get install -y chromium)"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path


def browse(browser: str, page: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [browser, *CHROMIUM_FLAGS, *args, page.as_uri()], capture_output=True, text=True, timeout=60, check=True
    )


@pytest.fixture(scope="module")
def report(tmp_path_factory) -> tuple[Path, Path]:
    browser = chromium()
    workdir = copy_example(tmp_path_factory.mktemp("report"))
    snakemake(workdir, "--cores", "2")
    snakemake(workdir, "--report", "report.html")
    return workdir, Path(browser)


def test_report_opens_with_the_verdict_and_every_figure(report):
    workdir, browser = report
    loaded = browse(str(browser), workdir / "report.html", "--dump-dom", "--enable-logging=stderr", "--v=0")
    dom = loaded.stdout
    # Chromium logs every console message of the page to stderr; none may be an error. (The one
    # message Snakemake 9.27's template prints is Tailwind's "should not be used in production".)
    console = [line for line in loaded.stderr.splitlines() if ":CONSOLE" in line]
    assert [line for line in console if re.search(r"error|uncaught|failed", line, re.I)] == []
    visible = html.unescape(re.sub(r"<script.*?</script>", "", dom, flags=re.S))
    text = " ".join(re.sub(r"<[^>]+>", "", visible).split())
    # The app rendered: its menu lists every category, and the first page states each verdict.
    for category in CATEGORIES:
        assert f">{category}<" in visible
    verdict = json.loads((workdir / "results/verdict/knockdown_vs_control.json").read_text())
    assert verdict["verdict"] == "suppressed"
    assert "knockdown_vs_control: SUPPRESSED (strength: strong)" in text
    for words in (
        verdict["sentence"],
        verdict["summary"],
        f"strength 'strong': {verdict['strength_meaning']}",
        *(f"reason: {reason}" for reason in verdict["reasons"]),
    ):
        assert " ".join(words.split()) in text
    assert "PPP3CA: effective, 28.2% of control expression remaining" in text
    assert "er_core version 2: loaded" in text and "hallmark version 7.0: loaded" in text
    # Every registered figure is embedded byte for byte in the page the browser loaded.
    start = dom.index("var results = {") + len("var results = ")
    results, _ = json.JSONDecoder().raw_decode(dom, start)
    expected = [f.format(contrast="knockdown_vs_control") for f in FIGURES]
    assert set(expected) <= set(results)
    for path in expected:
        uri = results[path]["data_uri"]
        assert base64.b64decode(uri.split("base64,", 1)[1]) == (workdir / path).read_bytes(), path


def test_report_screenshot(report):
    workdir, browser = report
    shot = workdir / "report.png"
    browse(str(browser), workdir / "report.html", "--window-size=1280,900", f"--screenshot={shot}")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert (int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")) == (1280, 900)
    # A blank page compresses to a few kB; the rendered first page (text, rule graph) does not.
    assert len(data) > 50_000


LAYOUT_PROBE = """<script>
setTimeout(function () {
  const out = document.createElement("pre");
  out.id = "knockseq-layout";
  try {
  function box(element) { const r = element.getBoundingClientRect(); return [r.top, r.bottom]; }
  const heading = [...document.querySelectorAll("h1")].find(h => h.textContent.trim() === "Verdicts");
  const heatmap = document.querySelector("img.knockseq-heatmap");
  const graph = document.querySelector("#rulegraph");
  out.textContent = JSON.stringify({heading: box(heading), heatmap: box(heatmap),
    heatmap_loaded: heatmap.complete && heatmap.naturalWidth > 0, graph: box(graph)});
  } catch (error) { out.textContent = JSON.stringify({error: String(error)}); }
  document.body.appendChild(out);
}, 3000);
</script>"""


def test_report_first_page_opens_on_the_verdicts_and_the_heatmap(report):
    """At 1280 x 900 the first screen shows the Verdicts heading at the top and the direct-target
    heatmap (embedded, loaded) below it; Snakemake's rule graph comes after both."""
    workdir, browser = report
    probe = workdir / "report_probe.html"
    page, end = (workdir / "report.html").read_text().rsplit("</body>", 1)
    probe.write_text(page + LAYOUT_PROBE + "</body>" + end)
    dom = browse(str(browser), probe, "--window-size=1280,900", "--dump-dom").stdout
    layout = json.loads(html.unescape(re.search(r'<pre id="knockseq-layout">(.*?)</pre>', dom, re.S).group(1)))
    assert layout["heading"][0] < 60
    assert layout["heading"][1] < layout["heatmap"][0] and layout["heatmap"][1] < 900
    assert layout["heatmap_loaded"] is True
    assert layout["graph"][0] > layout["heatmap"][1]
    # The page embeds the heatmap file itself.
    png = (workdir / "results/summary/er_targets_heatmap.png").read_bytes()
    assert base64.b64encode(png).decode()[:200] in re.sub(
        r"\s", "", (workdir / "results/plots/verdicts.rst").read_text()
    )

"""The report's HTML as a reader meets it: exported offline (formulas as MathML, no remote
script), then rendered in headless Chromium at 1280 px with the network off and checked for
tables wider than the page, figures without a caption or whose alt text is not their
caption, formulas left as raw TeX, and, in the visible text outside code, code names
(lowercase words joined by underscores), dict or list reprs and "(s)" plurals.

A figure's caption is the first paragraph (or <figcaption>) after the image and before the
next image, and it starts with "Figure". Raw TeX is, in the rendered text outside code and
MathML: "$$", a "$...$" pair with no space just inside either dollar (so "$5 and $6" is
prose), "\\(", "\\[" or a backslash command such as "\\sum".
"""

import base64
import json
import re
import shutil
import subprocess
from html import unescape
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from tracin_study.notebooks import to_html

ROOT = Path(__file__).resolve().parents[1]
REPORT = ROOT / "report" / "report.html"
WIDTH = 1280
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install -y chromium)"
)
REMOTE = re.compile(
    r"<script[^>]*\ssrc=[\"']?(?:https?:)?//|<link[^>]*\shref=[\"']?(?:https?:)?//", re.I
)

# Runs in the page after it has loaded; writes its findings as JSON into <pre id=...>.
CHECK_SCRIPT = r"""
<script>
window.addEventListener("load", () => {
  const page = document.documentElement.clientWidth;
  const wide = [...document.querySelectorAll("table")]
    .filter(t => t.getBoundingClientRect().right > page + 1 || t.scrollWidth > page + 1)
    .map(t => (t.innerText || "").slice(0, 80));
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT);
  const order = [];
  for (let n = walker.currentNode; n; n = walker.nextNode()) {
    if (n.matches("img, p, figcaption")) order.push(n);
  }
  const uncaptioned = [];
  const wrong_alt = [];
  order.forEach((n, i) => {
    if (n.tagName !== "IMG") return;
    const next = order[i + 1];
    const text = next && next.tagName !== "IMG" ? next.innerText.trim() : "";
    if (!/^Figure\b/.test(text)) uncaptioned.push((n.alt || n.src).slice(0, 60));
    else if (n.alt.replace(/\s+/g, " ") !== text.replace(/\s+/g, " ")) {
      wrong_alt.push((n.alt || "(none)").slice(0, 60));
    }
  });
  const clone = document.body.cloneNode(true);
  const hidden = ".jp-CodeCell .jp-InputArea, pre, code, script, style, math";
  clone.querySelectorAll(hidden).forEach(e => e.remove());
  const text = clone.textContent;
  const find = (r) => [...new Set(text.match(r) || [])].slice(0, 20);
  const identifiers = find(/\b[a-z]+(?:_[a-z0-9]+)+\b/g);
  const reprs = find(/\{\s*'[^']*'\s*:|\[\s*'[^']*'\s*[,\]]/g);
  const plurals = find(/\w+\(s\)/g);
  const tex = [/\$\$/, /\$(?=\S)[^$]*?\S\$(?!\d)/, /\\\(|\\\[/, /\\[A-Za-z]{2,}/];
  const raw = tex.flatMap(r => (text.match(new RegExp(r.source, "g")) || []).slice(0, 5));
  const unrendered = [...document.querySelectorAll("math")]
    .filter(m => m.getBoundingClientRect().width === 0).length;
  const remote = performance.getEntriesByType("resource").map(e => e.name)
    .filter(u => !/^(file|data|blob):/.test(u));
  const out = document.createElement("pre");
  out.id = "report-check";
  out.textContent = JSON.stringify({
    page_width: page, document_width: document.documentElement.scrollWidth,
    wide_tables: wide, uncaptioned_images: uncaptioned, raw_tex: raw, wrong_alt: wrong_alt,
    identifiers: identifiers, reprs: reprs, plurals: plurals,
    images: order.filter(n => n.tagName === "IMG").length,
    formulas: document.querySelectorAll("math").length, unrendered_formulas: unrendered,
    remote_requests: remote,
  });
  document.body.appendChild(out);
});
</script>
"""


def render_check(html: Path, tmp_path: Path) -> dict:
    """Load `html` in headless Chromium (1280 px wide, network off) with `CHECK_SCRIPT`
    appended, and return the script's findings plus `remote_in_source` (remote <script> or
    stylesheet tags in the file)."""
    source = Path(html).read_text(encoding="utf-8")
    page = tmp_path / "checked.html"
    page.write_text(source.replace("</body>", CHECK_SCRIPT + "</body>"), encoding="utf-8")
    command = [
        CHROMIUM,
        *"--headless --no-sandbox --disable-gpu --disable-quic --no-first-run".split(),
        *"--disable-background-networking --disable-component-update --disable-sync".split(),
        "--proxy-server=127.0.0.1:9",  # nothing listens there: every request fails
        f"--user-data-dir={tmp_path / 'profile'}",
        f"--window-size={WIDTH},900",
        "--virtual-time-budget=10000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    found = re.search(r'<pre id="report-check">(.*?)</pre>', done.stdout, re.S)
    assert found, f"the check script left no result; chromium said: {done.stderr[-2000:]}"
    result = json.loads(unescape(found.group(1)))
    result["remote_in_source"] = REMOTE.findall(source)
    return result


def assert_laid_out(result: dict) -> None:
    """No overflow, every figure captioned, formulas rendered, nothing loaded remotely."""
    assert result["page_width"] <= WIDTH and result["document_width"] <= result["page_width"]
    assert result["wide_tables"] == [], "tables wider than the page"
    assert result["uncaptioned_images"] == [], "figures without a 'Figure ...' caption"
    assert result["raw_tex"] == [], "formulas left as raw TeX"
    assert result["unrendered_formulas"] == 0
    assert result["remote_requests"] == [] and result["remote_in_source"] == []


def assert_worded(result: dict) -> None:
    """Alt texts are the captions; the visible text outside code has no code names, dict
    or list reprs or "(s)" plurals."""
    assert result["wrong_alt"] == [], "figures whose alt text is not their caption"
    assert result["identifiers"] == [], "code names in the visible text"
    assert result["reprs"] == [], "dict or list reprs in the visible text"
    assert result["plurals"] == [], '"(s)" plurals in the visible text'


def assert_readable(result: dict) -> None:
    assert_laid_out(result)
    assert_worded(result)


PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


def fixture_notebook(path: Path, caption: str = "Figure 1. A one-pixel figure.", extra=()):
    """A tiny report: formulas inline and displayed, prose dollar amounts, a narrow table,
    an image followed by `caption`, and `extra` Markdown cells."""
    image = new_code_cell("plot()")
    image.outputs = [new_output("display_data", data={"image/png": base64.b64encode(PNG).decode()})]
    table = new_code_cell("show()")
    table.outputs = [
        new_output(
            "display_data",
            data={
                "text/html": "<table><tr><th>price ($100,000)</th></tr>"
                "<tr><td>2.5</td></tr></table>"
            },
        )
    ]
    cells = [
        new_markdown_cell("The loss is $x^2$, and $$\\sum_i \\eta_i \\lVert g_i \\rVert^2.$$"),
        new_markdown_cell("Prices from $15,000 to $500,001, and \\$5 on its own."),
        table,
        image,
        new_markdown_cell(caption),
        *(new_markdown_cell(text) for text in extra),
    ]
    nbformat.write(new_notebook(cells=cells), path)
    return path


def test_export_turns_formulas_into_mathml_and_loads_no_remote_script(tmp_path):
    html = tmp_path / "report.html"
    to_html(fixture_notebook(tmp_path / "report.ipynb"), html)
    text = html.read_text(encoding="utf-8")
    assert text.count("<math") == 2 and 'display="block"' in text
    assert "$x^2$" not in text and "\\sum" not in text and "$$" not in text
    assert "$15,000 to $500,001" in text  # prose dollars stay as they are
    assert REMOTE.findall(text) == [] and "mathjax" not in text.lower()
    assert "cdnjs" not in text and "require.min.js" not in text


@needs_chromium
def test_chromium_passes_a_readable_fixture(tmp_path):
    html = tmp_path / "report.html"
    to_html(fixture_notebook(tmp_path / "report.ipynb"), html)
    result = render_check(html, tmp_path)
    assert result["images"] == 1 and result["formulas"] == 2
    assert_readable(result)


@needs_chromium
def test_chromium_check_catches_overflow_missing_captions_and_raw_tex(tmp_path):
    wide = "| " + " | ".join(f"column_{i}_" + "x" * 30 for i in range(12)) + " |\n"
    wide += "|" + "---|" * 12 + "\n| " + " | ".join("1" * 30 for _ in range(12)) + " |"
    notebook = fixture_notebook(
        tmp_path / "report.ipynb",
        caption="A picture.",
        extra=[wide, "A stray \\frac{a}{b} outside dollars."],
    )
    code = new_code_cell("code_only = {'a_name': 'x'}  # code may use them")
    notebook_node = nbformat.read(notebook, as_version=4)
    notebook_node.cells.append(code)
    notebook_node.cells.append(
        new_markdown_cell("The fixed_order run, 1 checkpoint(s), {'preprocessing': 'minmax'}.")
    )
    nbformat.write(notebook_node, notebook)
    html = tmp_path / "report.html"
    to_html(notebook, html)
    text = html.read_text(encoding="utf-8")
    html.write_text(text.replace("</body>", "<p>raw $y^2$, \\nabla and \\(a\\)</p></body>"))
    result = render_check(html, tmp_path)
    assert len(result["wide_tables"]) == 1
    assert len(result["uncaptioned_images"]) == 1
    assert {"$y^2$", "\\nabla", "\\(", "\\frac"} <= set(result["raw_tex"])
    assert "fixed_order" in result["identifiers"]  # the prose's
    assert "column_0_" + "x" * 30 in result["identifiers"]  # the wide table's headers
    assert "code_only" not in result["identifiers"]  # code cells may use code names
    assert result["reprs"] == ["{'preprocessing':"] and result["plurals"] == ["checkpoint(s)"]
    assert result["wrong_alt"] == []  # "A picture." is no caption: counted as uncaptioned


def test_each_figure_gets_its_caption_as_alt_text(tmp_path):
    html = tmp_path / "report.html"
    to_html(fixture_notebook(tmp_path / "report.ipynb", caption="Figure 1. A dot."), html)
    assert 'alt="Figure 1. A dot."' in html.read_text(encoding="utf-8")
    to_html(fixture_notebook(tmp_path / "other.ipynb", caption="A dot."), html)
    assert 'alt="No description has been provided for this image"' in html.read_text()


@needs_chromium
def test_committed_report_reads_well_offline(tmp_path):
    assert_laid_out(render_check(REPORT, tmp_path))


@needs_chromium
def test_committed_report_is_worded_for_people(tmp_path):
    assert_worded(render_check(REPORT, tmp_path))


@needs_chromium
def test_the_report_of_the_smoke_run_reads_well_offline(smoke_run, tmp_path):
    assert_readable(render_check(smoke_run / "results/smoke/report/report.html", tmp_path))

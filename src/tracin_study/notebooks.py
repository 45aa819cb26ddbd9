"""Executing the papermill notebook templates and exporting the report to HTML.

The HTML works offline: formulas are converted to MathML when the page is built (Chromium,
Firefox and Safari render MathML without any script) and the page loads no script or style
sheet from the network (no MathJax, RequireJS or Mermaid from a CDN). In Markdown, `$...$`
is a formula unless a space follows the opening or precedes the closing dollar (as in "$5
and $6"); write `\\$` for a dollar sign that should never start a formula."""

from pathlib import Path

KERNEL = "python3"  # ipykernel's own kernel spec: always the running interpreter
HIDE_INPUT = "hide-input"  # cell tag: the HTML shows the cell's output, not its code
INJECTED = "injected-parameters"  # papermill's tag of the parameters it injects


def declared_parameters(template: Path) -> set[str]:
    """The names the template's `parameters` cell assigns (chained assignments included):
    the parameters the notebook expects."""
    import ast

    import nbformat

    cells = nbformat.read(template, as_version=4).cells
    cell = next((c for c in cells if "parameters" in c.metadata.get("tags", [])), None)
    if cell is None:
        raise ValueError(f"{template} has no cell tagged 'parameters'; tag its parameters cell")
    return {
        target.id
        for node in ast.parse(cell.source).body
        if isinstance(node, ast.Assign)
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def execute(template: Path, output: Path, parameters: dict, cwd: Path) -> None:
    """Run `template` with `parameters` injected after its `parameters` cell, in `cwd`, and
    save the executed copy to `output`; a failing cell raises papermill's execution error.
    The copy records the template by its file name only, not this machine's path to it."""
    import nbformat
    import papermill

    Path(output).parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(
        str(template),
        str(output),
        parameters=parameters,
        kernel_name=KERNEL,
        cwd=str(cwd),
        log_output=True,
        progress_bar=False,
    )
    executed = nbformat.read(output, as_version=4)
    executed.metadata.papermill.input_path = Path(template).name
    nbformat.write(executed, output)


# The lab template without its remote scripts (RequireJS, MathJax, Mermaid).
OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
"""


def tex_to_mathml(tex: str, display: bool) -> str:
    """MathML for the TeX formula `tex` (block if `display`, else inline); a formula the
    converter cannot read raises ValueError quoting it."""
    from latex2mathml.converter import convert

    try:
        return convert(tex, display="block" if display else "inline")
    except Exception as error:
        raise ValueError(
            f"cannot convert the formula ${tex}$ to MathML ({error}); rewrite it with the "
            "commands latex2mathml supports"
        ) from error


def _exporter(config):
    """An nbconvert HTML exporter whose Markdown (cells and outputs) renders math as MathML
    and whose template loads nothing from the network."""
    from jinja2 import DictLoader, pass_context
    from nbconvert import HTMLExporter
    from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

    class MathMLRenderer(IPythonRenderer):
        def block_math(self, body: str) -> str:
            return tex_to_mathml(body, display=True)

        def inline_math(self, body: str) -> str:
            if body != body.strip():  # "$5 and $6": dollar signs, not a formula
                return self.escape_html(f"${body}$")
            return tex_to_mathml(body, display=False)

        def latex_environment(self, name: str, body: str) -> str:
            return tex_to_mathml(f"\\begin{{{name}}}{body}\\end{{{name}}}", display=True)

    class OfflineHTMLExporter(HTMLExporter):
        @pass_context
        def markdown2html(self, context, source):
            cell = context.get("cell", {})
            renderer = MathMLRenderer(
                escape=False,
                attachments=cell.get("attachments", {}),
                embed_images=self.embed_images,
                path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                anchor_link_text=self.anchor_link_text,
                exclude_anchor_links=self.exclude_anchor_links,
                **self.lexer_options,
            )
            return MarkdownWithMath(renderer=renderer).render(source)

    loader = DictLoader({"offline.html.j2": OFFLINE_TEMPLATE})
    exporter = OfflineHTMLExporter(config=config, extra_loaders=[loader])
    exporter.template_file = "offline.html.j2"
    return exporter


def to_html(notebook: Path, html: Path) -> None:
    """Write the executed `notebook` as a self-contained HTML page that renders offline
    (formulas as MathML, no remote script or style sheet); the code of cells tagged
    `hide-input`, and of the parameters papermill injected, is left out (the notebook itself
    keeps it); each figure's alt text is its caption (`alt_texts_from_captions`)."""
    import nbformat
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.remove_input_tags = {HIDE_INPUT, INJECTED}
    config.TagRemovePreprocessor.enabled = True
    body, _ = _exporter(config).from_notebook_node(nbformat.read(notebook, as_version=4))
    Path(html).write_text(alt_texts_from_captions(body), encoding="utf-8")


def alt_texts_from_captions(html: str) -> str:
    """`html` with each image's alt text set to its caption: the first paragraph (or
    <figcaption>) after the image, before the next image, when it starts with "Figure"."""
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, features="html.parser")
    order = soup.find_all(["img", "p", "figcaption"])
    for i, node in enumerate(order):
        if node.name != "img" or i + 1 == len(order) or order[i + 1].name == "img":
            continue
        caption = " ".join(order[i + 1].get_text().split())
        if caption.startswith("Figure"):
            node["alt"] = caption
    return str(soup)

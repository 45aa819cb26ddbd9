"""Executing the papermill notebook templates and exporting the report to HTML."""

from pathlib import Path

KERNEL = "python3"  # ipykernel's own kernel spec: always the running interpreter
HIDE_INPUT = "hide-input"  # cell tag: the HTML shows the cell's output, not its code
INJECTED = "injected-parameters"  # papermill's tag of the parameters it injects


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


def to_html(notebook: Path, html: Path) -> None:
    """Write the executed `notebook` as a self-contained HTML page; the code of cells tagged
    `hide-input`, and of the parameters papermill injected, is left out (the notebook itself
    keeps it)."""
    import nbformat
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    config = Config()
    config.TagRemovePreprocessor.remove_input_tags = {HIDE_INPUT, INJECTED}
    config.TagRemovePreprocessor.enabled = True
    exporter = HTMLExporter(config=config)
    body, _ = exporter.from_notebook_node(nbformat.read(notebook, as_version=4))
    Path(html).write_text(body, encoding="utf-8")

"""benchmarks/stage_times.py on a small fake benchmark folder: the per-step sums and the
generated docs/measured-times.md."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks/stage_times.py"
HEADER = "s\th:m:s\tmax_rss\tmax_vms\tmax_uss\tmax_pss\tio_in\tio_out\tmean_load\tcpu_time\n"


def _module():
    spec = importlib.util.spec_from_file_location("stage_times", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _bench(path: Path, seconds: float, cpu: float, rss: float) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(HEADER + f"{seconds}\t0:00:00\t{rss}\t0\t0\t0\t0\t0\t0\t{cpu}\n")


@pytest.fixture
def folder(tmp_path):
    root = tmp_path / "benchmarks"
    _bench(root / "train/default_seed_0.tsv", 100.0, 40.0, 500.0)
    _bench(root / "train/default_seed_1.tsv", 140.0, 60.0, 520.0)
    _bench(root / "removal_summary/closest.tsv", 5.0, 2.0, 300.0)
    _bench(root / "report.tsv", 30.0, 15.0, 800.0)
    return root


def test_steps_sum_their_jobs(folder):
    table = _module().stage_times(folder)
    assert list(table.index) == ["removal_summary", "report", "train"]
    train = table.loc["train"]
    assert train["jobs"] == 2 and train["summed_s"] == 240.0 and train["longest_s"] == 140.0
    assert train["summed_cpu_s"] == 100.0 and train["peak_rss_mb"] == 520.0


def test_the_page_is_the_table_with_its_totals(folder, tmp_path, capsys):
    page = tmp_path / "measured-times.md"
    _module().main([str(folder), "--write", str(page), "--wall", "9 min", "--run", "a test"])
    text = page.read_text()
    assert "Run: a test. Wall time: **9 min**." in text
    assert "| train | 2 | 4.0 min | 100 s | 2.3 min | 520 MB |" in text
    assert "| all jobs | 4 | 4.6 min | 117 s | | |" in text
    assert "benchmarks/stage_times.py" in text
    assert "all jobs: 4.6 min of job time" in capsys.readouterr().out


def test_errors_name_the_file_and_the_missing_option(folder, tmp_path):
    with pytest.raises(SystemExit, match="--write needs --wall"):
        _module().main([str(folder), "--write", str(tmp_path / "page.md")])
    (folder / "broken.tsv").write_text("s\n1.0\n")
    with pytest.raises(ValueError, match=r"broken.tsv is not a Snakemake benchmark file"):
        _module().stage_times(folder)
    with pytest.raises(SystemExit, match="is not a folder of benchmark files"):
        _module().main([str(tmp_path / "nowhere")])

"""The pip route (pyproject.toml) and the conda route (environment.yml) pin the same versions."""

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _pip_pins_of_environment() -> list[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_sections = [d["pip"] for d in env["dependencies"] if isinstance(d, dict)]
    assert len(pip_sections) == 1, "environment.yml needs exactly one pip: section"
    return [p for p in pip_sections[0] if not p.startswith("-e")]


def test_environment_and_pyproject_pin_the_same_versions():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pyproject_pins = project["dependencies"] + extras["test"] + extras["slurm"]
    assert sorted(_pip_pins_of_environment()) == sorted(pyproject_pins)


def test_the_slurm_extra_pins_the_executor_plugin():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    slurm = project["optional-dependencies"]["slurm"]
    assert all("==" in p for p in slurm), slurm
    assert any(p.startswith("snakemake-executor-plugin-slurm==") for p in slurm)


def test_every_pin_is_exact_and_torch_is_the_cpu_wheel_on_disk():
    pins = _pip_pins_of_environment()
    assert all("==" in p for p in pins), [p for p in pins if "==" not in p]
    assert "torch==2.13.0" in pins

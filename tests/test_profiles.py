"""The Slurm profile plans the default study: every job that goes to the cluster has the
memory and runtime the profile sets for its rule (a dry run, no cluster needed)."""

import subprocess

import pytest
import yaml
from conftest import ROOT, local_rules, snakemake_command

PROFILE = ROOT / "workflow/profiles/slurm"


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    """(rule -> list of `resources:` lines) of `snakemake --profile ... -n` on the default
    config."""
    pytest.importorskip("snakemake_executor_plugin_slurm", reason="pip install -e '.[slurm]'")
    workdir = tmp_path_factory.mktemp("plan")
    cmd = snakemake_command(workdir, "--profile", str(PROFILE), "-n")
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    jobs, rule = {}, None
    for line in result.stdout.splitlines():
        if line.startswith("rule ") and line.endswith(":"):
            rule = line.removeprefix("rule ").removesuffix(":")
            jobs.setdefault(rule, [])
        elif line.strip().startswith("resources:") and rule is not None:
            jobs[rule].append(line.strip())
    return jobs


def test_every_cluster_rule_has_its_resources_and_no_other_rule_is_listed(plan):
    settings = yaml.safe_load((PROFILE / "config.yaml").read_text())["set-resources"]
    cluster_rules = set(plan) - local_rules() - {"all"}
    assert set(settings) == cluster_rules
    for rule, lines in plan.items():
        if rule not in settings:
            continue
        wanted = settings[rule]
        assert lines, f"no resources shown for {rule}"
        for line in lines:
            shown = dict(
                item.split("=", 1) for item in line.removeprefix("resources: ").split(", ")
            )
            assert shown["mem_mb"] == str(wanted["mem_mb"]), (rule, line)
            assert shown["runtime"] == str(wanted["runtime"]), (rule, line)


def test_the_profile_leaves_cpus_to_threads():
    # A cpus_per_task in default-resources would override every rule's `threads:`.
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert "cpus_per_task" not in profile["default-resources"]
    assert all("cpus_per_task" not in r for r in profile["set-resources"].values())

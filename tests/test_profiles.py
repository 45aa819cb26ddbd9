"""The rules carry their own cluster resources: every rule that may go to a cluster declares
its memory and runtime, and the Slurm profile plans the default study with exactly those (a
dry run, no cluster needed); the profile sets no per-rule resources of its own."""

import subprocess

import pytest
import yaml
from conftest import ROOT, declared_resources, local_rules, rule_blocks, snakemake_command

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


def test_every_rule_that_runs_a_job_is_local_or_declares_memory_and_runtime():
    local = local_rules()
    assert {"all", "recipe", "prepare_data", "claims"} <= local
    for name, block in rule_blocks().items():
        if name in local:
            assert "resources:" not in block, f"local rule {name} declares resources"
        elif "script:" in block:
            assert set(declared_resources(block)) >= {"mem_mb", "runtime"}, name


def test_the_slurm_plan_shows_each_rules_own_resources(plan):
    blocks = rule_blocks()
    cluster_rules = set(plan) - local_rules()
    assert {"train", "seed_influence", "report"} <= cluster_rules
    for rule in cluster_rules:
        wanted = declared_resources(blocks[rule])
        assert plan[rule], f"no resources shown for {rule}"
        for line in plan[rule]:
            shown = dict(
                item.split("=", 1) for item in line.removeprefix("resources: ").split(", ")
            )
            assert shown["mem_mb"] == str(wanted["mem_mb"]), (rule, line)
            assert shown["runtime"] == str(wanted["runtime"]), (rule, line)


def test_the_profile_leaves_resources_to_the_rules_and_cpus_to_threads():
    # A cpus_per_task in default-resources would override every rule's `threads:`.
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    assert "set-resources" not in profile
    assert "cpus_per_task" not in profile["default-resources"]

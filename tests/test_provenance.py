import subprocess

from tracin_study.config import config_hash
from tracin_study.provenance import git_commit


def _git(repo, *args):
    subprocess.run(["git", *args], cwd=repo, check=True, capture_output=True)


def test_git_commit_is_dirty_for_changed_sources_but_not_for_the_report(tmp_path):
    _git(tmp_path, "init", "-q")
    (tmp_path / "report").mkdir()
    for name in ("code.py", "report/summary.json"):
        (tmp_path / name).write_text("1\n")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "x")
    clean = git_commit(tmp_path)
    assert len(clean) == 40 and not clean.endswith("-dirty")
    (tmp_path / "report/summary.json").unlink()  # the pipeline rewrites its report
    assert git_commit(tmp_path) == clean
    (tmp_path / "code.py").write_text("2\n")
    assert git_commit(tmp_path) == f"{clean}-dirty"


def test_git_commit_outside_a_repository_is_none(tmp_path):
    assert git_commit(tmp_path) is None


def test_config_hash_ignores_key_order():
    assert config_hash({"a": 1, "b": [2]}) == config_hash({"b": [2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})

"""The version comes from git tags (setuptools-scm); manifests know the commit in plain installs.

A plain ``pip install .`` puts flowsim into site-packages, outside any git checkout:
``git`` cannot tell which commit it is. setuptools-scm writes the version and the
commit into ``flowsim/_version.py`` at build time (git-ignored), and
:func:`flowsim.provenance.git_commit` falls back to it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import types
import zipfile
from pathlib import Path

import pytest

import flowsim
from flowsim import provenance
from flowsim.cli import main as cli

ROOT = Path(__file__).resolve().parents[1]


def fake_version_module(version: str, commit_id: str | None) -> types.ModuleType:
    module = types.ModuleType("flowsim._version")
    module.version = module.__version__ = version
    module.commit_id = module.__commit_id__ = commit_id
    return module


def no_git(*args, **kwargs):
    raise FileNotFoundError("git")


@pytest.mark.parametrize(
    ("version", "commit_id", "expected"),
    [
        ("0.2.0.dev348+g841e3d466", "g841e3d466", ("841e3d466", False)),
        ("0.2.0.dev348+g841e3d466.d20261205", "g841e3d466", ("841e3d466", True)),
        ("1.0.0", "g1a2b3c4", ("1a2b3c4", False)),  # on a tag, clean
        ("0.2.0.dev0", None, (None, None)),  # the fallback version: no git at build time
    ],
)
def test_without_git_the_commit_comes_from_the_build(monkeypatch, version, commit_id, expected):
    monkeypatch.setitem(sys.modules, "flowsim._version", fake_version_module(version, commit_id))
    monkeypatch.setattr(provenance, "_git", no_git)
    assert provenance.git_commit() == expected, (version, commit_id)


def test_another_projects_checkout_is_not_flowsims_commit(tmp_path, monkeypatch):
    """A venv inside a user's own git project: its HEAD is not the code flowsim runs."""
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.org"}
    env |= {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    for command in (["init", "-q"], ["commit", "-q", "--allow-empty", "-m", "theirs"]):
        subprocess.run(["git", *command], cwd=tmp_path, env=env, check=True)
    theirs = provenance._git(tmp_path, "rev-parse", "HEAD")
    monkeypatch.setitem(sys.modules, "flowsim._version", fake_version_module("1.0", "gabcdef1"))
    assert provenance.git_commit(tmp_path) == ("abcdef1", False), "the build's, not theirs"
    assert theirs != "abcdef1"


def test_version_option_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"flowsim {flowsim.__version__}"
    assert flowsim.__version__ and flowsim.__version__[0].isdigit(), flowsim.__version__


def test_version_file_is_generated_never_committed():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", "src/flowsim/_version.py"], cwd=ROOT, check=False
    )
    if ignored.returncode == 128:
        pytest.skip("not a git checkout")
    assert ignored.returncode == 0, "src/flowsim/_version.py must be git-ignored"
    tracked = subprocess.run(
        ["git", "ls-files", "src/flowsim/_version.py"], cwd=ROOT, capture_output=True, text=True
    )
    assert tracked.stdout.strip() == "", "the generated version file is committed"


def test_a_plain_install_records_its_commit_in_the_manifest(tmp_path):
    """A wheel of HEAD, unpacked as pip would outside git: the manifest names the commit.

    The wheel is built from a clone, so that the checkout under test is left untouched.
    """
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.strip()
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
    subprocess.run(["git", "checkout", "-q", head], cwd=clone, check=True)
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(wheels), str(clone)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    if built.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no package index?): {built.stderr[-500:]}")
    (wheel,) = wheels.glob("flowsim-*.whl")
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
        assert "flowsim/_version.py" in archive.namelist(), "setuptools-scm wrote no version"
    work = tmp_path / "work"
    work.mkdir()
    env = {**os.environ, "PYTHONPATH": str(site), "MPLBACKEND": "Agg"}
    env["XDG_CACHE_HOME"] = str(tmp_path / "cache")
    code = "import flowsim, json, sys; print(json.dumps([flowsim.__file__, flowsim.__version__]))"
    where = subprocess.run(
        [sys.executable, "-c", code], cwd=work, env=env, capture_output=True, text=True
    )
    location, version = json.loads(where.stdout)
    assert Path(location).is_relative_to(site), f"ran {location}, not the installed copy"
    assert head[:7] in version, f"version {version} does not name commit {head[:9]}"
    scenario = ROOT / "scenarios" / "baseline.yaml"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "flowsim",
            "run",
            str(scenario),
            "--scale",
            "0.002",
            "--steps",
            "3",
            "--set",
            "warmup_steps=6",
            "--replications",
            "1",
            "--quiet",
            "--out",
            "run",
        ],  # fmt: skip
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    manifest = json.loads((work / "run" / "manifest.json").read_text())
    commit = manifest["git_commit"]
    assert commit and head.startswith(commit) and len(commit) >= 7, (commit, head)
    assert manifest["flowsim"] == version, (manifest["flowsim"], version)

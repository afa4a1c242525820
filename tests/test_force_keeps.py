"""``--force`` replaces only what flowsim wrote; a sweep stopped at its start can go on.

What a user adds to a results folder — notes, a ``figures/`` folder, a notebook — is
theirs: ``run --force`` and ``sweep --force`` keep it (and say so). A folder whose
manifest merely says ``{"kind": "sweep"}`` is not a flowsim sweep and is never deleted.
A sweep whose start a full disk stopped can be run again, resumed or forced.
"""

from __future__ import annotations

import errno
import json
from pathlib import Path

import pytest
from sweep_helpers import write_tiny_sweep

from flowsim import cli
from flowsim.diskio import clean_stale, hidden_sibling, keep_journal
from flowsim.results import FILES

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

TINY = "name: tiny\nscale: 0.002\nsteps: 3\nwarmup_steps: 0\n"

MINI_SWEEP = """\
name: mini
base: base.yaml
design: factorial
replications: 1
seed: 3
levers:
  policy.corridors.GD-HK.data.approval: {values: [0.3, 0.9]}
outcomes: [papers]
"""


def _cli(argv: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, text
    return code, text


def _add_user_files(folder: Path) -> dict[str, bytes]:
    """A note, a notebook and a figures/ folder, as a user would add them; their bytes."""
    (folder / "notes.txt").write_text("what I saw in this run\n")
    (folder / "analysis.ipynb").write_text('{"cells": []}\n')
    (folder / "figures").mkdir(exist_ok=True)
    (folder / "figures" / "mine.png").write_bytes(b"\x89PNG my figure")
    return {
        "notes.txt": (folder / "notes.txt").read_bytes(),
        "analysis.ipynb": (folder / "analysis.ipynb").read_bytes(),
        "figures/mine.png": (folder / "figures" / "mine.png").read_bytes(),
    }


def test_run_force_replaces_flowsim_files_and_keeps_what_the_user_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text(TINY)
    out = tmp_path / "run"
    assert _cli(["run", scenario, "--out", out, "--quiet"], capsys)[0] == 0
    before = json.loads((out / "manifest.json").read_text())
    mine = _add_user_files(out)
    code, text = _cli(["run", scenario, "--out", out, "--quiet", "--force", "--seed", "9"], capsys)
    assert code == 0, text
    after = json.loads((out / "manifest.json").read_text())
    assert after["root_seed"] == 9 != before["root_seed"], "the results were replaced"
    for name, data in mine.items():
        assert (out / name).read_bytes() == data, f"--force lost or changed the user's {name}"
    assert "kept what you had added: analysis.ipynb, figures, notes.txt" in text, text
    assert sorted(p.name for p in out.iterdir()) == sorted(
        [*FILES, "notes.txt", "analysis.ipynb", "figures"]
    )
    assert not list(tmp_path.glob(".run.*")), "nothing left beside the folder"


def test_a_force_killed_between_exchange_and_carry_over_is_finished_by_the_next_run(
    tmp_path: Path,
) -> None:
    """The next writer finishes what a --force killed mid-way had to keep.

    The state a SIGKILL leaves: new results in place, the old folder (with the user's
    note) aside, and the keep journal. :func:`clean_stale` moves the note back.
    """
    out = tmp_path / "run"
    out.mkdir()
    (out / "manifest.json").write_text("{}")  # stands for the new results
    token = "0123abcd"
    old = hidden_sibling(out, "replaced", token)
    old.mkdir()
    (old / "manifest.json").write_text('{"old": true}')
    (old / "notes.txt").write_text("mine")
    keep_journal(out, token).write_text(json.dumps({"keep": ["notes.txt"]}))
    notes = clean_stale(tmp_path)
    assert (out / "notes.txt").read_text() == "mine", notes
    assert json.loads((out / "manifest.json").read_text()) == {}, "the new results stay"
    assert not old.exists() and not keep_journal(out, token).exists()
    assert any("moved back" in n for n in notes), notes


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    return write_tiny_sweep(tmp_path / "in", MINI_SWEEP)


def test_sweep_force_keeps_the_users_files_and_removes_only_flowsims(
    sweep_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sweep"
    base = ["sweep", sweep_file, "--out", out, "--workers", "1", "--quiet"]
    assert _cli(base, capsys)[0] == 0
    (out / "sensitivity.csv").write_text("outcome,parameter\n")  # flowsim's: stale after --force
    mine = _add_user_files(out)
    code, text = _cli([*base, "--force"], capsys)
    assert code == 0, text
    for name, data in mine.items():
        assert (out / name).read_bytes() == data, f"sweep --force lost the user's {name}"
    assert not (out / "sensitivity.csv").exists(), "an analysis of the old runs is not kept"
    assert "kept what you had added: analysis.ipynb, figures, notes.txt" in text, text
    assert json.loads((out / "manifest.json").read_text())["status"] == "complete"


@pytest.mark.parametrize(
    "manifest",
    [
        {"kind": "sweep"},
        {"kind": "sweep", "status": "complete", "runs": 2, "design": "factorial"},
    ],
)
def test_sweep_force_never_deletes_a_folder_that_merely_says_it_is_a_sweep(
    manifest: dict, sweep_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "thesis.tex").write_text("years of work")
    (out / "runs.parquet").write_bytes(b"not flowsim's")
    code, text = _cli(
        ["sweep", sweep_file, "--out", out, "--workers", "1", "--quiet", "--force"], capsys
    )
    assert code == 2, text
    assert "was not written by `flowsim sweep`" in text and "nothing was changed" in text, text
    assert (out / "thesis.tex").read_text() == "years of work"
    assert (out / "runs.parquet").read_bytes() == b"not flowsim's"
    assert json.loads((out / "manifest.json").read_text()) == manifest


@pytest.mark.parametrize("then", ["again", "--resume", "--force"])
def test_a_full_disk_at_the_start_of_a_sweep_leaves_a_folder_the_next_try_can_use(
    then: str,
    sweep_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import flowsim.diskio

    real = flowsim.diskio.write_text_atomic

    def full(path, text):  # the first manifest cannot be written: the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(flowsim.diskio, "write_text_atomic", full)
    out = tmp_path / "sweep"
    base = ["sweep", sweep_file, "--out", out, "--workers", "1", "--quiet"]
    code, text = _cli(base, capsys)
    assert code == 1 and "No space left on device" in text, text
    assert not (out / "manifest.json").exists()
    monkeypatch.setattr(flowsim.diskio, "write_text_atomic", real)
    extra = [] if then == "again" else [then]
    code, text = _cli([*base, *extra], capsys)
    assert code == 0, f"after a full disk at the start, `sweep {then}` must work:\n{text}"
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "complete" and manifest["runs"] == 2


def test_a_sweep_started_on_a_really_full_disk_can_be_resumed_once_there_is_room(
    sweep_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The same on a real 1 MB tmpfs (skipped where mounting is not allowed)."""
    import os
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        stat = os.statvfs(disk)
        filler = disk / "filler"
        filler.write_bytes(b"\0" * (stat.f_bavail * stat.f_frsize - 12 * 1024))
        out = disk / "sweep"
        base = ["sweep", sweep_file, "--out", out, "--workers", "1", "--quiet"]
        code, text = _cli(base, capsys)
        assert code == 1 and "No space left on device" in text and "--resume" in text, text
        filler.unlink()  # the user makes room
        code, text = _cli([*base, "--resume"], capsys)
        assert code == 0, text
        assert json.loads((out / "manifest.json").read_text())["status"] == "complete"
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)

"""Fault injection for ``calibrate``, ``explain`` and ``discover``: nothing lost or half-written.

As ``tests/test_sweep_faults.py`` does for sweeps, each command is hit where it writes:

- **a full disk**: the figure writer fails with ``ENOSPC`` after writing half a file
  (and, where the test may mount one, a real 1 MB tmpfs fills up);
- **a kill**: the command runs in a subprocess whose figure writer writes half a file
  and stops; the process is then killed with SIGKILL;
- **concurrent commands**: another process holds the output folder's writer lock, or a
  second command starts while the first is writing.

Afterwards the earlier outputs are byte for byte as they were (or absent, for a new
folder): never a CSV without its PNG, never a truncated file, never a traceback.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import yaml
from test_discover import synthetic_sweep

from flowsim import cli
from flowsim.calibration.fit import calibrate, finish
from flowsim.diskio import TEMP_FILE, output_lock

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")

ROOT = Path(__file__).resolve().parents[1]

DISCOVER = ["--outcome", "papers", "--threshold", "6"]

CALIBRATION_OUTPUTS = (
    "trials.csv",
    "fit.csv",
    "validation.csv",
    "fit.png",
    "best.yaml",
    "ensemble.csv",
    "ensemble.yaml",
    "report.txt",
)

EXPLAIN_OUTPUTS = ("explain_replicates.csv", "explain.csv", "explain.png")

# A driver for the kill tests: the figure writer writes half the figure, says where, and
# hangs, so that the test can kill the process in the middle of writing its outputs.
HANGING_WRITER = """
import sys, time
from pathlib import Path
import matplotlib.figure

marker = Path(sys.argv[1])
real = matplotlib.figure.Figure.savefig

def half_then_hang(self, fname, *args, **kwargs):
    real(self, fname, *args, **kwargs)
    path = Path(fname)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    marker.write_text(str(path))
    time.sleep(120)

matplotlib.figure.Figure.savefig = half_then_hang
from flowsim.cli import main
sys.exit(main(sys.argv[2:]))
"""


def _cli(argv: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, text
    return code, text


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every visible file of ``folder`` and its bytes."""
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _no_temporary_files(folder: Path) -> None:
    left = [p.name for p in folder.iterdir() if TEMP_FILE.match(p.name)]
    assert not left, f"temporary files left in {folder}: {left}"


def _half_written_then_full(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every figure write fails like a full disk, after half the file is on disk."""
    import matplotlib.figure

    real = matplotlib.figure.Figure.savefig

    def full(self, fname, *args, **kwargs):
        real(self, fname, *args, **kwargs)
        path = Path(fname)
        path.write_bytes(path.read_bytes()[:100])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)


def _kill_while_writing(tmp_path: Path, argv: list[object]) -> str:
    """Run ``flowsim ARGV`` with the hanging figure writer; SIGKILL it mid-write."""
    script = tmp_path / "hang.py"
    script.write_text(textwrap.dedent(HANGING_WRITER))
    marker = tmp_path / "writing"
    marker.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    process = subprocess.Popen(
        [sys.executable, str(script), str(marker), *map(str, argv)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.monotonic() + 240
    while not marker.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.communicate()[0]
            pytest.fail(
                f"flowsim {argv} never reached its figure (exit {process.poll()}):\n{output}"
            )
        time.sleep(0.1)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    return marker.read_text()


# ------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished synthetic sweep (100 cases, a fast model) that discover can analyse."""
    return synthetic_sweep(tmp_path_factory.mktemp("faults") / "sweep", samples=100)


@pytest.fixture
def discovered(sweep_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """An --out folder holding discover's earlier outputs."""
    out = tmp_path / "discover"
    code, text = _cli(["discover", sweep_folder, *DISCOVER, "--out", out], capsys)
    assert code == 0, text
    assert len(list(out.glob("discover-*"))) == 4
    return out


@pytest.fixture(scope="module")
def calibration(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A targets file and the folder of its (two-trial) calibration."""
    folder = tmp_path_factory.mktemp("calibration")
    spec = {
        "name": "faults",
        "scenario": str(ROOT / "scenarios" / "baseline.yaml"),
        "run": {"scale": 0.005, "steps": 12, "start_year": 2022, "warmup_steps": 0},
        "replicates": 1,
        "seed": 5,
        "free": {"research.pct_prob.GD": {"low": 0.04, "high": 0.16}},
        "search": {"budget": 2, "ensemble": 2},
        "targets": [
            {
                "id": "pct",
                "output": "pct_applications",
                "jurisdiction": "GD",
                "year": 2022,
                "value": 100.0,
                "tolerance": 50.0,  # any trial meets it: these tests are about files
                "source": "test",
                "role": "calibration",
                "reason": "fault injection",
            },
            {
                "id": "papers",
                "output": "papers",
                "year": 2022,
                "value": 100.0,
                "tolerance": 0.5,
                "source": "test",
                "role": "validation",
                "reason": "fault injection",
            },
        ],
    }
    targets = folder / "targets.yaml"
    targets.write_text(yaml.safe_dump(spec), encoding="utf-8")
    out = folder / "out"
    calibrate(targets, out, workers=1, progress=False)
    finish(targets, out)
    return targets, out


@pytest.fixture(scope="module")
def run_pair(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A policy's and its baseline's run folders of one replicate each (explain re-runs them)."""
    from run_folders import POLICY, run_replicates, tiny_scenario, write_run_folder

    root = tmp_path_factory.mktemp("explain")
    baseline = write_run_folder(run_replicates(tiny_scenario("baseline"), 1), root / "base")
    scenario = tiny_scenario("data_sandbox", **POLICY)
    return write_run_folder(run_replicates(scenario, 1), root / "policy"), baseline


@pytest.fixture
def calibrated(calibration: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path]:
    """A fresh copy of the calibration folder (each test may damage its own)."""
    import shutil

    targets, out = calibration
    copy = tmp_path / "calibration"
    shutil.copytree(out, copy)
    return targets, copy


def _check_calibration_intact(folder: Path, before: dict[str, bytes]) -> None:
    """Each output is the earlier file or a complete new one, and parses; none half-written."""
    import pandas as pd
    from PIL import Image

    after = _snapshot(folder)
    assert set(before) <= set(after), f"files lost: {set(before) - set(after)}"
    for name in ("trials.csv", "fit.csv", "validation.csv", "ensemble.csv"):
        pd.read_csv(folder / name)
    for name in ("best.yaml", "ensemble.yaml"):
        yaml.safe_load((folder / name).read_text())
    with Image.open(folder / "fit.png") as image:
        image.load()  # a truncated PNG raises here
    assert after["fit.png"] == before["fit.png"], "the figure being written was not replaced"
    assert after["report.txt"] == before["report.txt"], "report.txt is written after fit.png"
    _no_temporary_files(folder)


# ------------------------------------------------------------------ full disk, patched writer


def test_discover_on_a_full_disk_leaves_the_earlier_outputs(
    discovered: Path, sweep_folder: Path, capsys, monkeypatch
) -> None:
    before = _snapshot(discovered)
    _half_written_then_full(monkeypatch)
    code, text = _cli(["discover", sweep_folder, *DISCOVER, "--out", discovered, "--force"], capsys)
    assert code == 1, text
    assert "the disk is full" in text and "nothing was replaced" in text, text
    assert _snapshot(discovered) == before, "a full disk changed discover's earlier outputs"
    _no_temporary_files(discovered)


def test_discover_on_a_full_disk_writes_no_csv_without_its_png(
    sweep_folder: Path, tmp_path: Path, capsys, monkeypatch
) -> None:
    out = tmp_path / "new"
    _half_written_then_full(monkeypatch)
    code, text = _cli(["discover", sweep_folder, *DISCOVER, "--out", out], capsys)
    assert code == 1, text
    assert not list(out.glob("discover-*")), f"partial outputs: {sorted(os.listdir(out))}"
    _no_temporary_files(out)


def test_explain_on_a_full_disk_leaves_no_partial_outputs(
    run_pair: tuple[Path, Path], tmp_path: Path, capsys, monkeypatch
) -> None:
    policy_folder, baseline_folder = run_pair
    out = tmp_path / "explain"
    _half_written_then_full(monkeypatch)
    code, text = _cli(
        ["explain", policy_folder, baseline_folder, "--out", out, "--workers", "1"], capsys
    )
    assert code == 1, text
    assert "the disk is full" in text, text
    left = [name for name in EXPLAIN_OUTPUTS if (out / name).exists()]
    assert not left, f"explain left {left} without the rest of its outputs"
    if out.exists():
        _no_temporary_files(out)
    hidden = [p.name for p in out.parent.iterdir() if p.name.startswith(f".{out.name}.tmp-")]
    assert not hidden, f"explain left its hidden work folder {hidden} beside {out}"


def test_calibrate_report_on_a_full_disk_keeps_every_file_whole(
    calibrated: tuple[Path, Path], capsys, monkeypatch
) -> None:
    targets, out = calibrated
    before = _snapshot(out)
    assert set(CALIBRATION_OUTPUTS) <= set(before)
    _half_written_then_full(monkeypatch)
    code, text = _cli(["calibrate", targets, "--report", "--out", out], capsys)
    assert code == 1, text
    assert "the disk is full" in text and "never half-written" in text, text
    _check_calibration_intact(out, before)


# ------------------------------------------------------------------ full disk, a real tmpfs


@pytest.fixture
def small_disk(tmp_path: Path):
    """A 1 MB tmpfs (needs root or CAP_SYS_ADMIN; skipped where mounting is not allowed)."""
    mount = tmp_path / "small"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], capture_output=True)


def _fill(mount: Path, leave: int) -> None:
    """Fill ``mount`` until about ``leave`` bytes are free."""
    stat = os.statvfs(mount)
    free = stat.f_bavail * stat.f_frsize
    (mount / "filler").write_bytes(b"\0" * max(0, free - leave))


def test_discover_on_a_full_tmpfs_writes_nothing_half(
    small_disk: Path, sweep_folder: Path, capsys
) -> None:
    out = small_disk / "out"
    out.mkdir()
    _fill(small_disk, leave=16 * 1024)  # room for the CSVs, not for the figure
    code, text = _cli(["discover", sweep_folder, *DISCOVER, "--out", out], capsys)
    assert code == 1, text
    assert "the disk is full" in text, text
    assert not list(out.iterdir()), f"a full tmpfs left {sorted(os.listdir(out))}"


def test_explain_on_a_full_tmpfs_writes_nothing_half(
    small_disk: Path, run_pair: tuple[Path, Path], capsys
) -> None:
    policy_folder, baseline_folder = run_pair
    out = small_disk / "explain"
    out.mkdir()
    _fill(small_disk, leave=8 * 1024)
    code, text = _cli(
        ["explain", policy_folder, baseline_folder, "--out", out, "--workers", "1"], capsys
    )
    assert code == 1, text
    assert not list(out.iterdir()), f"a full tmpfs left {sorted(os.listdir(out))}"


# ------------------------------------------------------------------ kills


def test_explain_killed_mid_write_leaves_no_outputs(
    run_pair: tuple[Path, Path], tmp_path: Path
) -> None:
    policy_folder, baseline_folder = run_pair
    out = tmp_path / "explain"
    _kill_while_writing(
        tmp_path, ["explain", policy_folder, baseline_folder, "--out", out, "--workers", "1"]
    )
    left = [name for name in EXPLAIN_OUTPUTS if (out / name).exists()]
    assert not left, f"a killed explain left {left}"


def test_calibrate_killed_mid_write_keeps_every_file_whole(
    calibrated: tuple[Path, Path], tmp_path: Path
) -> None:
    targets, out = calibrated
    before = _snapshot(out)
    _kill_while_writing(tmp_path, ["calibrate", targets, "--report", "--out", out])
    for path in list(out.iterdir()):  # what a kill leaves are hidden temporary files only
        if TEMP_FILE.match(path.name):
            path.unlink()
    _check_calibration_intact(out, before)


# ------------------------------------------------------------------ concurrent commands


def test_a_command_on_a_folder_another_process_writes_is_refused(
    discovered: Path,
    sweep_folder: Path,
    calibrated: tuple[Path, Path],
    run_pair: tuple[Path, Path],
    tmp_path: Path,
    capsys,
) -> None:
    policy_folder, baseline_folder = run_pair
    targets, calibration_out = calibrated
    explain_out = tmp_path / "explain"
    commands = [
        (discovered, ["discover", sweep_folder, *DISCOVER, "--out", discovered, "--force"]),
        (calibration_out, ["calibrate", targets, "--report", "--out", calibration_out]),
        (
            explain_out,
            ["explain", policy_folder, baseline_folder, "--out", explain_out, "--workers", "1"],
        ),
    ]
    for folder, argv in commands:
        before = _snapshot(folder) if folder.exists() else {}
        with output_lock(folder):  # this test process is "another process writing it"
            code, text = _cli(argv, capsys)
        assert code == 2, f"{argv[0]}: exit {code}\n{text}"
        assert "is being written by process" in text, text
        after = _snapshot(folder) if folder.exists() else {}
        assert after == before, f"{argv[0]} changed a folder another process was writing"


def test_discover_killed_mid_write_while_a_second_one_is_refused_loses_nothing(
    discovered: Path, sweep_folder: Path, tmp_path: Path, capsys
) -> None:
    """A second discover on a folder the first is writing is refused, and nothing is mixed.

    The first hangs while writing its figure (holding the lock); the second is refused at
    once; killing the first leaves the earlier files; a third takes the stale lock over.
    """
    before = _snapshot(discovered)
    script = tmp_path / "hang.py"
    script.write_text(textwrap.dedent(HANGING_WRITER))
    marker = tmp_path / "writing"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT / "tests")])}
    argv = ["discover", sweep_folder, *DISCOVER, "--out", discovered, "--force"]
    first = subprocess.Popen(
        [sys.executable, str(script), str(marker), *map(str, argv)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 240
        while not marker.exists():
            assert first.poll() is None and time.monotonic() < deadline, "first never wrote"
            time.sleep(0.1)
        code, text = _cli(argv, capsys)
        assert code == 2 and f"process {first.pid}" in text, text
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    after = {n: b for n, b in _snapshot(discovered).items() if not TEMP_FILE.match(n)}
    assert after == before, "a discover killed mid-write changed the earlier outputs"
    written = marker.read_text()
    assert TEMP_FILE.match(Path(written).name), f"the figure was written in place: {written}"
    code, text = _cli(argv, capsys)  # the lock of the killed process is stale: taken over
    assert code == 0, text


def test_the_next_writer_removes_the_temporary_files_a_killed_one_left(
    discovered: Path, sweep_folder: Path, capsys
) -> None:
    stale = discovered / ".discover-papers-above-6.png.tmp-0123abcd.png"
    stale.write_bytes(b"half a figure")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    fresh = discovered / ".other.csv.tmp-89abcdef.csv"  # may be another writer's, right now
    fresh.write_bytes(b"being written")
    code, text = _cli(["discover", sweep_folder, *DISCOVER, "--out", discovered, "--force"], capsys)
    assert code == 0, text
    assert not stale.exists(), "a killed writer's temporary file was left"
    assert fresh.exists(), "a temporary file younger than a writer could take was removed"

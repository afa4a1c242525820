"""Issue 13: no lost or corrupted results, and a clear message (never a traceback) for each fault.

Two-process tests use real processes (a sweep resumed twice at once, a ``run --force``
killed while it writes); the rest call ``flowsim.cli.main`` in this process.
"""

from __future__ import annotations

import errno
import json
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest
from sweep_helpers import free_port, ishigami, ishigami_spec, write_tiny_sweep

import flowsim
from flowsim import cli
from flowsim.folders import FolderError, read_run_folder, read_sweep_folder
from flowsim.results import FILES, write_run
from flowsim.sweep.api import SweepError, read_sweep

ROOT = Path(__file__).resolve().parents[1]
TINY = {"scale": 0.002, "steps": 3, "warmup_steps": 0}

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


def _main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, f"flowsim {' '.join(map(str, argv))} printed a traceback"
    return code, text


@pytest.fixture(scope="module")
def scenario_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("scenario") / "tiny.yaml"
    path.write_text("name: tiny\n" + "".join(f"{k}: {v}\n" for k, v in TINY.items()))
    return path


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    scenario = flowsim.Scenario(name="tiny", **TINY)
    # two replicates: `flowsim compare` refuses one (no interval) with exit 2
    runs = [flowsim.run(scenario, seed) for seed in (1, 2)]
    return write_run(runs, scenario, tmp_path_factory.mktemp("r") / "run")


def _copy(folder: Path, tmp_path: Path, name: str = "copy") -> Path:
    return Path(shutil.copytree(folder, tmp_path / name))


# ------------------------------------------------------------------ two processes, one sweep

SLOW_SWEEP = textwrap.dedent(
    """
    import sys, time, math
    import flowsim
    sys.path.insert(0, sys.argv[2])
    from sweep_helpers import ishigami, ishigami_spec

    def slow(overrides, seed):
        time.sleep(0.05)
        return ishigami(overrides, seed)

    flowsim.sweep(ishigami_spec("monte_carlo", 60), model=slow, workers=1, out=sys.argv[1],
                  resume=sys.argv[3] == "resume", progress=False, batch_size=5)
    """
)


def test_two_resumes_of_one_sweep_the_second_is_refused_and_the_folder_stays_whole(
    tmp_path: Path,
) -> None:
    out = tmp_path / "sweep"
    spec = ishigami_spec("monte_carlo", 60)
    # an unfinished sweep: interrupted after its first parts
    calls = {"n": 0}

    def stop_after_ten(overrides, seed):
        calls["n"] += 1
        if calls["n"] > 10:
            raise KeyboardInterrupt
        return ishigami(overrides, seed)

    with pytest.raises(KeyboardInterrupt):
        flowsim.sweep(spec, model=stop_after_ten, workers=1, out=out, progress=False, batch_size=5)
    first = subprocess.Popen(
        [sys.executable, "-c", SLOW_SWEEP, str(out), str(Path(__file__).parent), "resume"],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        lock = out.with_name(".sweep.lock")
        deadline = time.monotonic() + 60
        while not lock.exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        assert lock.exists(), "the first resume never took the folder's lock"
        with pytest.raises(SweepError) as caught:
            flowsim.sweep(spec, model=ishigami, workers=1, out=out, resume=True, progress=False)
        assert f"being written by process {first.pid}" in str(caught.value), str(caught.value)
        with pytest.raises(SweepError, match="being written by"):
            read_sweep(out)
    finally:
        _, err = first.communicate(timeout=120)
    assert first.returncode == 0, err
    runs = read_sweep(out).runs
    assert sorted(runs["run_id"]) == list(range(60)), "every run id once, none lost, none twice"


@pytest.fixture
def finished_sweep(tmp_path: Path) -> Path:
    out = tmp_path / "done"
    flowsim.sweep(
        ishigami_spec("monte_carlo", 8), model=ishigami, workers=1, out=out, progress=False
    )
    return out


@pytest.mark.parametrize("damage", ["repeated", "missing"])
def test_readers_refuse_a_sweep_whose_run_ids_are_repeated_or_missing(
    finished_sweep: Path, damage: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = finished_sweep / "runs.parquet"
    runs = pd.read_parquet(path)
    runs = pd.concat([runs, runs.iloc[[2]]]) if damage == "repeated" else runs.drop(index=[3])
    runs.to_parquet(path)
    with pytest.raises(SweepError, match=f"run ids {damage}"):
        read_sweep(finished_sweep)
    with pytest.raises(FolderError, match=f"run ids {damage}"):
        read_sweep_folder(finished_sweep)
    code, text = _main(["plot", finished_sweep, "--out", finished_sweep / "fig"], capsys)
    assert code == 2 and f"run ids {damage}" in text, text
    code, text = _main(["sensitivity", finished_sweep], capsys)
    assert code == 2 and f"run ids {damage}" in text, text


# ------------------------------------------------------------------ run --force, killed

SLOW_RUN = textwrap.dedent(
    """
    import signal, sys, time
    # Ctrl-C as in a terminal, whatever SIGINT disposition the suite passes down (Python
    # keeps an inherited "ignore"; one full run under load saw the signal ignored)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    import flowsim.results as results
    real = results.dump_scenario
    def slow(scenario):
        print("writing", flush=True)
        time.sleep(30)
        return real(scenario)
    results.dump_scenario = slow
    from flowsim.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)


def _slow_run(*argv: object) -> subprocess.Popen:
    child = subprocess.Popen(
        [sys.executable, "-c", SLOW_RUN, *map(str, argv)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    line = child.stdout.readline()
    assert line.strip() == "writing", f"the run never started writing: {line!r}"
    return child


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT])
def test_a_run_force_stopped_while_writing_keeps_the_old_results_and_says_so(
    run_folder: Path, scenario_file: Path, tmp_path: Path, signum: int
) -> None:
    out = _copy(run_folder, tmp_path, "results")
    before = (out / "manifest.json").read_text()
    child = _slow_run("run", scenario_file, "--out", out, "--force", "--quiet")
    child.send_signal(signum)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 128 + signum, f"exit {child.returncode}: {err}"
    assert f"{out} still holds the earlier results" in err, err
    assert (out / "manifest.json").read_text() == before, "the old results are untouched"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results"], "no partial left behind"


def test_a_run_killed_while_writing_leaves_a_partial_that_the_next_run_removes(
    run_folder: Path, scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = _copy(run_folder, tmp_path, "results")
    child = _slow_run("run", scenario_file, "--out", out, "--force", "--quiet")
    child.kill()
    child.communicate(timeout=60)
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".results.partial-")]
    assert left, "SIGKILL cannot be handled: the partial folder stays until the next run"
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES), "the old results are whole"
    code, text = _main(["run", scenario_file, "--out", tmp_path / "next", "--quiet"], capsys)
    assert code == 0
    assert "removed unfinished results left by an interrupted flowsim process" in text, text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["next", "results"], (
        f"the stale partial was not removed: {sorted(p.name for p in tmp_path.iterdir())}"
    )


def test_run_force_replaces_only_a_flowsim_results_folder(
    scenario_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    thesis = tmp_path / "thesis"
    thesis.mkdir()
    (thesis / "chapter1.tex").write_text("years of work")
    code, text = _main(["run", scenario_file, "--out", thesis, "--force", "--quiet"], capsys)
    assert code == 2 and "not a flowsim results folder" in text, text
    assert (thesis / "chapter1.tex").read_text() == "years of work"
    parent = tmp_path / "results"
    code, _ = _main(["run", scenario_file, "--out", parent / "a", "--quiet"], capsys)
    assert code == 0
    code, text = _main(["run", scenario_file, "--out", parent, "--force", "--quiet"], capsys)
    assert code == 2 and "not a flowsim results folder" in text, (
        "--out results --force must not wipe every earlier result"
    )
    assert (parent / "a" / "manifest.json").is_file()


# ------------------------------------------------------------------ damaged run folders


@pytest.mark.parametrize("content", ["[]", "null", "3"])
def test_plot_and_compare_refuse_a_summary_that_is_not_an_object(
    run_folder: Path, tmp_path: Path, content: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _copy(run_folder, tmp_path)
    (bad / "summary.json").write_text(content)
    for argv in (["plot", bad, "--out", tmp_path / "f"], ["compare", run_folder, bad]):
        code, text = _main(argv, capsys)
        assert code == 2, f"{argv[0]}: exit {code}"
        assert "summary.json" in text, text


def test_plot_and_compare_refuse_an_edited_folder(
    run_folder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = _copy(run_folder, tmp_path)
    summary = json.loads((bad / "summary.json").read_text())
    summary["annual_mean"] = {k: 2 * v for k, v in summary["annual_mean"].items()}
    (bad / "summary.json").write_text(json.dumps(summary))
    with pytest.raises(FolderError, match="changed since the run was written"):
        read_run_folder(bad)
    for argv in (["plot", bad, "--out", tmp_path / "f"], ["compare", run_folder, bad]):
        code, text = _main(argv, capsys)
        assert code == 2 and "summary.json changed since the run was written" in text, text


@pytest.mark.parametrize("command", ["plot", "compare"])
def test_plot_and_compare_on_a_full_disk_leave_no_empty_files(
    run_folder: Path,
    tmp_path: Path,
    command: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import matplotlib.figure
    import pandas

    def full(self, *args, **kwargs):
        Path(args[0]).touch()  # the file is opened, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(args[0]))

    out = tmp_path / "out"
    if command == "plot":
        monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
        argv = ["plot", run_folder, "--out", out]
    else:
        monkeypatch.setattr(pandas.DataFrame, "to_csv", full)
        argv = ["compare", run_folder, run_folder, "--out", out / "table.csv"]
    code, text = _main(argv, capsys)
    assert code == 1 and "No space left on device" in text, text
    written = [p for p in out.rglob("*") if p.is_file()] if out.exists() else []
    assert not [p for p in written if p.stat().st_size == 0], f"0-byte files: {written}"


# ------------------------------------------------------------------ the tracebacks of issue 13


def test_run_out_under_proc_or_a_read_only_mount_is_a_clear_error(
    scenario_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, text = _main(["run", scenario_file, "--out", "/proc/flowsim/x", "--quiet"], capsys)
    assert code == 2 and "cannot write results in /proc/flowsim" in text, text
    real_mkdir = Path.mkdir

    def read_only(self, *args, **kwargs):
        if self.name.startswith(".flowsim-probe"):
            raise OSError(errno.EROFS, "Read-only file system", str(self))
        return real_mkdir(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", read_only)
    code, text = _main(["run", scenario_file, "--out", tmp_path / "ro" / "x", "--quiet"], capsys)
    assert code == 2 and "Read-only file system" in text and "nothing was written" in text, text


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_out_dot_force_is_refused(
    command: str,
    scenario_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sweep_file = write_tiny_sweep(tmp_path / "in", MINI_SWEEP)
    monkeypatch.chdir(tmp_path)
    file = scenario_file if command == "run" else sweep_file
    code, text = _main([command, file, "--out", ".", "--force", "--quiet"], capsys)
    assert code == 2 and "current folder" in text, text
    assert (tmp_path / "in" / "base.yaml").exists(), "nothing was deleted"


@pytest.fixture
def sweep_file(tmp_path: Path) -> Path:
    return write_tiny_sweep(tmp_path / "in", MINI_SWEEP)


def test_sweep_out_at_an_existing_file(
    sweep_file: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "notes.txt"
    target.write_text("mine")
    code, text = _main(["sweep", sweep_file, "--out", target, "--workers", "1"], capsys)
    assert code == 2 and "exists and is not a folder" in text, text
    assert target.read_text() == "mine"


@pytest.mark.parametrize(
    ("address", "fragment"),
    [
        ("not a url", "not a Dask scheduler address"),
        ("tcp://127.0.0.1", "not a Dask scheduler address"),
        ("http://127.0.0.1:8786", "not a Dask scheduler address"),
        ("tcp://127.0.0.1:{port}", "cannot reach a Dask scheduler there"),
    ],
)
def test_sweep_scheduler_that_is_not_an_address_or_not_there(
    address: str,
    fragment: str,
    sweep_file: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    address = address.format(port=free_port())
    code, text = _main(
        ["sweep", sweep_file, "--scheduler", address, "--out", tmp_path / "o", "--quiet"], capsys
    )
    assert code == 2 and fragment in text, text
    assert not (tmp_path / "o").exists(), "nothing is written before the scheduler answers"


def _unfinished(sweep_file: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import flowsim.sweep.api as api

    real = api.execute

    def one_then_stop(tasks, model, on_result, **kwargs):
        first = [next(iter(tasks))]
        real(iter(first), model, on_result, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(api, "execute", one_then_stop)
    assert (
        cli.main(
            [
                "sweep",
                str(sweep_file),
                "--out",
                str(out),
                "--workers",
                "1",
                "--quiet",
                "--batch-size",
                "1",
            ]
        )
        == 130
    )
    monkeypatch.setattr(api, "execute", real)


def test_ctrl_c_during_a_sweep_keeps_the_finished_runs_and_says_how_to_resume(
    sweep_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "o"
    _unfinished(sweep_file, out, monkeypatch)
    text = capsys.readouterr().err
    assert "interrupted" in text and f"--resume --out {out}" in text and "Traceback" not in text
    assert not out.with_name(".o.lock").exists(), "the lock is released"
    code, text = _main(
        ["sweep", sweep_file, "--out", out, "--resume", "--workers", "1", "--quiet"], capsys
    )
    assert code == 0, text
    assert sorted(read_sweep(out).runs["run_id"]) == [0, 1]


def test_resume_with_a_corrupt_manifest_or_a_truncated_part(
    sweep_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    out = tmp_path / "o"
    _unfinished(sweep_file, out, monkeypatch)
    capsys.readouterr()
    part = next((out / "parts").glob("runs-*.parquet"))
    part.write_bytes(part.read_bytes()[:20])
    argv = ["sweep", sweep_file, "--out", out, "--resume", "--workers", "1", "--quiet"]
    code, text = _main(argv, capsys)
    assert code == 2 and f"{part}: this part of the unfinished sweep is damaged" in text, text
    (out / "manifest.json").write_text('{"kind": "sweep", "status": ')
    code, text = _main(argv, capsys)
    assert code == 2 and "manifest.json: damaged" in text and "cannot be resumed" in text, text
    code, text = _main(["sensitivity", out], capsys)
    assert code == 2 and "manifest.json: damaged" in text, text


def test_a_sweep_on_a_full_disk_is_a_clear_error_and_resumable(
    sweep_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    import flowsim.sweep.store as store

    def full(table, path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(store, "_write_atomic", full)
    out = tmp_path / "o"
    code, text = _main(["sweep", sweep_file, "--out", out, "--workers", "1", "--quiet"], capsys)
    assert code == 1 and "No space left on device" in text and "--resume" in text, text


def test_ctrl_c_during_start_up_imports(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted():
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    code, text = _main(["validate", "x.yaml"], capsys)
    assert code == 130 and "interrupted" in text, text


def test_sigterm_to_a_running_sweep_process_exits_143_and_keeps_runs(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import sys, time
        sys.path.insert(0, sys.argv[2])
        import flowsim.sweep.api as api
        from sweep_helpers import ishigami
        def slow(overrides, seed):
            time.sleep(0.2)
            return ishigami(overrides, seed)
        from flowsim.diskio import signals_as_interrupt, interrupt_exit_code
        from sweep_helpers import ishigami_spec
        try:
            with signals_as_interrupt():
                print("started", flush=True)
                api.sweep(ishigami_spec("monte_carlo", 400), model=slow, workers=1,
                          out=sys.argv[1], progress=False, batch_size=2)
        except KeyboardInterrupt as err:
            sys.exit(interrupt_exit_code(err))
        """
    )
    out = tmp_path / "o"
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(out), str(Path(__file__).parent)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 60
    while not list((out / "parts").glob("runs-*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.05)
    child.send_signal(signal.SIGTERM)
    child.communicate(timeout=60)
    assert child.returncode == 143
    assert list((out / "parts").glob("runs-*.parquet")), "finished runs are kept"
    assert not out.with_name(".o.lock").exists(), "the lock is released on SIGTERM"

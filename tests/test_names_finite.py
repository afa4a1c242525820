"""Names cannot climb out of ``results/``, links are described as links, numbers stay finite.

- A scenario's or targets file's ``name`` is free text: the default folders of
  ``explain`` and ``calibrate`` are made from it with :func:`flowsim.folders.safe_name`.
- A symbolic link that loops is reported as such, not as "no such file".
- ``plot`` names the file or folders its errors are about.
- Valid but tiny world totals are refused; every JSON file flowsim writes is strict
  (``NaN``/``Infinity`` are written ``null``).
"""

from __future__ import annotations

import errno
import json
import math
from pathlib import Path

import pytest
import yaml

from flowsim import cli
from flowsim.diskio import finite, strict_json
from flowsim.folders import safe_name
from flowsim.results import write_run

ROOT = Path(__file__).resolve().parents[1]
TINY = {"scale": 0.002, "steps": 3, "warmup_steps": 0}


def _cli(argv: list[object], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    code = cli.main([str(a) for a in argv])
    out = capsys.readouterr()
    text = out.out + out.err
    assert "Traceback" not in text, text
    return code, text


@pytest.mark.parametrize(
    ("name", "safe"),
    [
        ("../../x", "x"),
        ("/abs/path", "abs-path"),
        ("a/../b", "a-.-b"),
        ("..", "unnamed"),
        ("....hidden", "hidden"),
        ("C:\\Windows\\x", "C-Windows-x"),
        ("plain_name-1.0", "plain_name-1.0"),
        ("", "unnamed"),
    ],
)
def test_safe_name_is_one_plain_folder_name(name: str, safe: str) -> None:
    result = safe_name(name)
    assert result == safe, f"safe_name({name!r}) = {result!r}"
    assert "/" not in result and "\\" not in result and ".." not in result
    assert not result.startswith(".") and len(safe_name("x" * 500)) <= 80


def test_calibrate_default_folder_of_a_climbing_name_stays_in_results(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    spec = yaml.safe_load((ROOT / "scenarios" / "calibration" / "targets.yaml").read_text())
    spec["name"] = "../../escaped"
    spec["scenario"] = str(ROOT / "scenarios" / "baseline.yaml")
    targets = tmp_path / "t.yaml"
    targets.write_text(yaml.safe_dump(spec))
    work = tmp_path / "a" / "b"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    # a name that would climb out of results/calibration/ is refused where it is written
    code, text = _cli(["calibrate", targets], capsys)
    assert code == 2, text
    assert f"{targets}:" in text and "name: '../../escaped' is not a plain name" in text, text
    assert "results/calibration/<name>" in text, text
    assert not (tmp_path / "escaped").exists() and not (tmp_path / "a" / "escaped").exists()
    assert not (work / "results").exists(), "nothing is written for a refused targets file"


def test_explain_default_folder_of_a_climbing_name_stays_in_results() -> None:
    from flowsim.commands.explain import _default_out

    for name in ("../../../escaped", "/abs/escaped", "..", ""):
        out = _default_out(name)
        assert out.parts[0] == "results" and len(out.parts) == 2, (name, out)
        assert ".." not in out.parts[1] and "/" not in out.parts[1], (name, out)
    assert _default_out("../../../escaped").name.startswith("explain-escaped-")


def test_a_self_looping_symlink_is_named_as_a_loop(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    loop = tmp_path / "loop.yaml"
    loop.symlink_to(loop)
    broken = tmp_path / "broken.yaml"
    broken.symlink_to(tmp_path / "gone.yaml")
    for argv in (["run", loop], ["validate", loop], ["plot", loop], ["sweep", loop]):
        code, text = _cli(argv, capsys)
        assert code == 2, text
        assert "symbolic link that loops" in text and "no such file" not in text, (argv, text)
    code, text = _cli(["run", broken], capsys)
    assert code == 2 and "is a symbolic link to" in text and "which does not exist" in text, text


def test_plot_names_the_folders_of_an_unknown_output(
    baseline_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, text = _cli(["plot", baseline_folder, "--outputs", "paperz"], capsys)
    assert code == 2 and str(baseline_folder) in text and "paperz" in text, text


def test_plot_names_the_figure_a_full_disk_stopped(
    baseline_folder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import matplotlib.figure

    def full(self, fname, *args, **kwargs):  # the error a full disk gives carries no file name
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", full)
    out = tmp_path / "figures"
    code, text = _cli(["plot", baseline_folder, "--out", out], capsys)
    assert code == 1, text
    assert str(out / "timeseries.png") in text, f"the figure is not named: {text}"


def test_tiny_world_totals_are_refused_with_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = tmp_path / "tiny.yaml"
    scenario.write_text("name: tiny\n" + "".join(f"{k}: {v}\n" for k, v in TINY.items()))
    for key in ("pct_per_year", "papers_per_year", "vc_deals_per_year"):
        out = tmp_path / key
        argv = ["run", scenario, "--set", f"world.{key}=1e-320", "--out", out, "--quiet"]
        code, text = _cli(argv, capsys)
        assert code == 2 and f"world.{key}" in text and ">= 1" in text, text
        assert "extends" not in text, f"a --set value is not inherited: {text}"
        assert not out.exists()


def _refuse_constant(constant: str) -> None:
    raise AssertionError(f"not strict JSON: {constant}")


def test_summary_and_manifest_are_strict_json_even_with_non_finite_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flowsim.results

    scenario = flowsim.Scenario(name="tiny", **TINY)
    real = flowsim.results.annual_mean

    def with_infinity(results):  # stands for any ratio whose denominator was zero
        means = real(results)
        return {**means, "papers": math.inf, "licences": -math.inf, "vc_deals": math.nan}

    monkeypatch.setattr(flowsim.results, "annual_mean", with_infinity)
    out = write_run([flowsim.run(scenario, 1)], scenario, tmp_path / "run")
    for name in ("summary.json", "manifest.json"):
        text = (out / name).read_text()
        assert "NaN" not in text and "Infinity" not in text, f"{name} is not strict JSON"
        json.loads(text, parse_constant=_refuse_constant)
    annual = json.loads((out / "summary.json").read_text())["annual_mean"]
    assert annual["papers"] is None and annual["licences"] is None and annual["vc_deals"] is None


def test_strict_json_writes_null_for_every_non_finite_number() -> None:
    import numpy as np

    data = {"a": [1.0, math.inf, (math.nan, -math.inf)], "b": np.float64("inf"), "c": 2}
    assert finite(data) == {"a": [1.0, None, [None, None]], "b": None, "c": 2}
    assert json.loads(strict_json(data)) == {"a": [1.0, None, [None, None]], "b": None, "c": 2}

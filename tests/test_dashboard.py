"""The dashboard's parts without a browser: levers, cached runs, tables, the command."""

from __future__ import annotations

import inspect
import zipfile
from io import BytesIO

import pandas as pd
import pytest
from run_folders import tiny_scenario

from flowsim.cli import main
from flowsim.dashboard import levers as lv
from flowsim.dashboard import runner, views
from flowsim.dashboard.server import is_loopback, server_env
from flowsim.model import FlowModel
from flowsim.params import Friction, Scenario
from flowsim.scenario import load_scenario, scenario_hash


def test_levers_read_units_ranges_and_defaults_from_params():
    by_path = {lever.path: lever for lever in lv.levers()}
    approval = by_path["policy.corridors.GD-HK.data.approval"]
    assert (approval.low, approval.high, approval.default) == (0.0, 1.0, 0.3)
    assert approval.unit == "share" and approval.group == "corridor GD-HK"
    delay = by_path["policy.corridors.HK-MO.samples.delay_days"]
    assert delay.unit == "days" and delay.default == 5.0 and delay.high is None
    quota = by_path["policy.corridors.GD-MO.talent.quota"]
    assert quota.optional and quota.default is None and "empty = none" in quota.allowed
    zone = by_path["policy.zones.Hetao.grant_portability"]
    assert zone.group == "zone Hetao" and zone.optional
    scale = by_path["scale"]
    assert scale.low == 0.0 and scale.low_open and scale.allowed == "0 < x <= 2"
    assert by_path["capital.rounds_to_grow"].kind == "int"
    # every corridor x element x friction field, every zone, every behaviour section
    friction = [p for p in by_path if p.startswith("policy.corridors.")]
    assert len(friction) == 3 * 4 * len(Friction.model_fields)
    assert {"talent", "research", "transfer", "capital", "commercialization"} <= set(lv.groups())
    assert lv.groups()[0] == "run"


def test_lever_hint_names_description_range_and_default():
    lever = next(x for x in lv.levers() if x.path == "talent.move_rate")
    assert lever.hint == (
        "job moves per researcher per month (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 0.01, assumption: ~12%/year) [share]. "
        "Allowed: 0 <= x <= 1. Default: 0.01171"
    )


def test_runs_are_cached_by_resolved_scenario():
    cache = runner.RunCache()
    scenario = tiny_scenario(steps=3)
    ticks: list[int] = []
    first, cached = runner.run_replicates(scenario, 2, progress=ticks.append, cache=cache)
    assert not cached and sum(ticks) == 2 * 3
    again, cached = runner.run_replicates(
        Scenario.model_validate(scenario.model_dump()), 2, cache=cache
    )
    assert cached and again is first, "an equal scenario is served from the cache"
    other, cached = runner.run_replicates(scenario, 3, cache=cache)
    assert not cached and len(other) == 3


def test_cache_is_bounded_by_replicate_months():
    cache = runner.RunCache(months=2 * 3 * 2)  # room for two runs of 2 replicates x 3 months
    runs = [tiny_scenario(f"s{i}", steps=3) for i in range(3)]
    for scenario in runs:
        runner.run_replicates(scenario, 2, cache=cache)
    assert len(cache) == 2, "the oldest run went to stay within the months"
    assert runner.run_key(runs[0], 2) not in cache and runner.run_key(runs[2], 2) in cache


def test_cancel_stops_a_run_and_caches_nothing():
    cache = runner.RunCache()
    scenario = tiny_scenario(steps=6)
    ticks: list[int] = []
    with pytest.raises(runner.Cancelled):
        runner.run_replicates(
            scenario, 2, progress=ticks.append, cancelled=lambda: len(ticks) >= 2, cache=cache
        )
    assert len(ticks) == 2 and len(cache) == 0


def test_pair_reports_progress_to_one_and_difference_is_paired():
    cache = runner.RunCache()
    ref = tiny_scenario(steps=6)
    cur = ref.model_copy(update={"name": "more-papers"})
    cur = Scenario.model_validate(
        {**cur.model_dump(by_alias=True), "research": {"papers_per_project_lab": 6.0}}
    )
    seen: list[float] = []
    pair = runner.run_pair(cur, ref, 2, progress=lambda f, _: seen.append(f), cache=cache)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    table = views.difference_table(pair.current, pair.reference).set_index("output")
    papers = table.loc["papers"]
    assert papers["test"] == "paired"
    assert papers["difference"] == pytest.approx(papers["current"] - papers["reference"])
    assert papers["current"] > 1.5 * papers["reference"]


def test_html_table_cells_carry_keys():
    frame = pd.DataFrame({"output": ["papers"], "difference": [12345.6]})
    text = views.html_table(frame, "t", key="output")
    assert '<td data-column="difference" data-key="papers">12,346</td>' in text


def test_by_city_tables_sum_fields_and_cities():
    results = []
    for replicate in range(2):
        result = type("R", (), {})()
        result.by_city = pd.DataFrame(
            {
                "year": [2025, 2025, 2025, 2026],
                "city": ["Shenzhen", "Shenzhen", "Hong Kong", "Shenzhen"],
                "field": ["ict", "biomedicine", "ict", "ict"],
                "output": ["papers"] * 4,
                "value": [10.0 + replicate, 5.0, 3.0, 20.0],
            }
        )
        results.append(result)
    by_city, by_field = views.by_city_tables(results)
    shenzhen = by_city.set_index("city").loc["Shenzhen", "papers"]
    assert shenzhen == pytest.approx(((15.0 + 20.0) / 2 + (16.0 + 20.0) / 2) / 2)
    assert by_field.set_index("field").loc["biomedicine", "papers"] == 5.0
    plain = [type("R", (), {"extra": {}})()]
    assert views.by_city_tables(plain) is None


def test_saved_scenario_yaml_reproduces_the_scenario(tmp_path):
    scenario = tiny_scenario("edited", **{"policy.corridors.GD-HK.data.approval": 0.8})
    path = views.save_text(tmp_path, "s.yaml", views.scenario_yaml(scenario, 3, "baseline"))
    assert path == tmp_path / "s.yaml"
    assert load_scenario(path) == scenario
    assert scenario_hash(load_scenario(path)) in path.read_text()
    with pytest.raises(FileExistsError, match="exists already"):
        views.save_text(tmp_path, "s.yaml", "name: x\n")
    views.save_text(tmp_path, "s", "name: x\n", replace=True)
    assert path.read_text() == "name: x\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.yaml"], "no temporary file left"


@pytest.mark.parametrize(
    "name",
    [
        "../escape.yaml",
        "~/.bashrc",
        "/tmp/abs.yaml",
        "sub/x.yaml",
        "..",
        ".yaml",
        "a b.yaml",
        "x.yml",
        "x.yaml/",
        "x\\y.yaml",
        "x\ny.yaml",
        "",
        "a" * 101 + ".yaml",
    ],
)
def test_save_refuses_anything_but_a_plain_name(tmp_path, name):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    with pytest.raises(ValueError, match="not allowed as a file name"):
        views.save_text(folder, name, "name: x\n", replace=True)
    assert not list(tmp_path.rglob("*.yaml")) and not list(tmp_path.rglob(".bashrc"))


def test_save_never_writes_through_a_link_or_creates_folders(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    outside = tmp_path / "outside.yaml"
    outside.write_text("mine\n")
    (folder / "link.yaml").symlink_to(outside)
    with pytest.raises(FileExistsError, match="not a plain file"):
        views.save_text(folder, "link.yaml", "name: x\n", replace=True)
    assert outside.read_text() == "mine\n", "a file outside the save folder was changed"
    (folder / "dir.yaml").mkdir()
    with pytest.raises(FileExistsError, match="not a plain file"):
        views.save_text(folder, "dir.yaml", "name: x\n", replace=True)
    with pytest.raises(FileNotFoundError, match="creates no folders"):
        views.save_text(tmp_path / "missing", "x.yaml", "name: x\n")
    assert not (tmp_path / "missing").exists()


def test_every_string_in_a_saved_scenario_is_quoted(tmp_path):
    hostile = "$(touch pwned)\nname: other # <script>"
    scenario = tiny_scenario("x").model_copy(
        update={"name": "$(touch X); `id`", "description": hostile, "sources": ["a: b", "- c"]}
    )
    text = views.scenario_yaml(scenario, 2, "ref'\n# injected")
    assert 'name: "$(touch X); `id`"' in text
    assert 'description: "$(touch pwned)\\nname: other # <script>"' in text
    assert "\n# injected" not in text, "the reference's name cannot start a line"
    path = views.save_text(tmp_path, "q.yaml", text)
    assert load_scenario(path) == scenario, "the file reads back as the same scenario"


@pytest.mark.parametrize("name", ["../../x", "/abs/path", "..", "a/../../b", "名字"])
def test_results_zip_holds_both_runs_and_writes_only_in_its_temporary_folder(
    tmp_path, monkeypatch, name
):
    import tempfile

    temporary = tmp_path / "tmp"
    temporary.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    monkeypatch.chdir(tmp_path)
    reference = tiny_scenario(steps=3)
    current = reference.model_copy(update={"name": name})
    pair = runner.run_pair(current, reference, 1, cache=runner.RunCache())
    data = views.results_zip(pair.current, current, pair.reference, reference)
    names = zipfile.ZipFile(BytesIO(data)).namelist()
    roots = {n.split("/")[0] for n in names}
    assert roots == {f"current-{views.safe_name(name)}", "reference-baseline"}, roots
    assert all(".." not in n and not n.startswith("/") for n in names)
    assert any(n.endswith("/timeseries.parquet") for n in names)
    assert list(temporary.iterdir()) == [], "the temporary folder is removed"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"], "nothing written elsewhere"


def test_run_size_is_capped_with_a_message():
    from flowsim.dashboard import limits

    default = Scenario()
    assert limits.refusal(default, 3) is None, "the default run is allowed"
    assert limits.work(default, 3) == pytest.approx(90.0)
    message = limits.refusal(default, 100_000)
    assert "more than the dashboard runs (50)" in message and "flowsim run" in message
    long = default.model_copy(update={"steps": 1200, "scale": 0.3})
    message = limits.refusal(long, 2)
    assert "above the cap of 600" in message and "828 full-scale months" in message
    big = default.model_copy(update={"steps": 12, "scale": 0.5})
    message = limits.refusal(big, 1)
    assert "warm-up is too large" in message and "above the cap of 60" in message
    assert limits.refusal(default, 0) == "give at least 1 replicate"


def test_edited_scenario_gets_its_own_name_and_description():
    from flowsim.dashboard.app import current_scenario

    opened = tiny_scenario("small")
    current, problem = current_scenario(opened, {"research.papers_per_project_lab": "6"}, "")
    assert problem is None and current.name == "small-edited"
    assert "research.papers_per_project_lab = 6" in current.description
    same, _ = current_scenario(opened, {"steps": "4"}, "")
    assert same.name == "small", "changing only the run settings keeps the name"
    typed, _ = current_scenario(opened, {"research.papers_per_project_lab": "6"}, "mine", "why")
    assert (typed.name, typed.description) == ("mine", "why")


def test_server_listens_on_loopback_and_serves_assets_locally(tmp_path, monkeypatch):
    from flowsim.dashboard.server import address, bind, save_folder

    assert is_loopback("127.0.0.1") and is_loopback("localhost") and is_loopback("::1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.2")
    env = server_env(None, None)
    assert env["SOLARA_TELEMETRY_MIXPANEL_ENABLE"] == "False"
    assert env.get("SOLARA_ASSETS_PROXY", "True") != "False", "the server must serve the assets"
    assert env["SOLARA_KERNEL_CULL_TIMEOUT"] == "60s"
    sock = bind("127.0.0.1", 0)
    try:
        port = sock.getsockname()[1]
        assert sock.getsockname()[0] == "127.0.0.1" and port > 0
        with pytest.raises(OSError):
            bind("127.0.0.1", port)
    finally:
        sock.close()
    assert address("127.0.0.1", 9000, "T0k") == "http://127.0.0.1:9000/?token=T0k"
    scenario = tmp_path / "s" / "x.yaml"
    assert save_folder(str(scenario)) == (tmp_path / "s").resolve()
    assert save_folder(str(scenario), tmp_path) == tmp_path.resolve()
    monkeypatch.chdir(tmp_path)
    assert save_folder(None) == tmp_path.resolve()


def test_dashboard_command_default_host_and_warning(monkeypatch, capsys):
    calls = []
    monkeypatch.setattr("flowsim.dashboard.server.serve", lambda *a, **k: calls.append(k) or 0)
    assert main(["dashboard"]) == 0
    assert calls[-1]["host"] == "127.0.0.1" and "warning" not in capsys.readouterr().err
    assert main(["dashboard", "--host", "0.0.0.0", "--port", "9001"]) == 0
    assert calls[-1]["host"] == "0.0.0.0" and calls[-1]["port"] == 9001
    assert "warning: the dashboard listens on 0.0.0.0" in capsys.readouterr().err


def test_dashboard_command_refuses_a_missing_save_folder_and_a_busy_port(tmp_path, capsys):
    from flowsim.dashboard.server import bind

    assert main(["dashboard", "--save-dir", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err and not (tmp_path / "missing").exists()
    busy = bind("127.0.0.1", 0)
    try:
        port = str(busy.getsockname()[1])
        assert main(["dashboard", "--port", port, "--save-dir", str(tmp_path)]) == 2
        assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err
    finally:
        busy.close()


def test_dashboard_command_refuses_results_that_is_a_file_or_missing(tmp_path, monkeypatch, capsys):
    calls = []
    monkeypatch.setattr("flowsim.dashboard.server.serve", lambda *a, **k: calls.append(k) or 0)
    a_file = tmp_path / "table.csv"
    a_file.write_text("x\n1\n")
    assert main(["dashboard", "--results", str(a_file)]) == 2
    err = capsys.readouterr().err
    assert f"--results {a_file}: is not a folder" in err and "Traceback" not in err, err
    assert main(["dashboard", "--results", str(tmp_path / "missing")]) == 2
    assert "no such folder" in capsys.readouterr().err
    assert not calls, "the server started for a --results that is not a folder"
    assert main(["dashboard", "--results", str(tmp_path)]) == 0 and len(calls) == 1


def test_dashboard_help_states_the_security_model_and_limits(capsys):
    with pytest.raises(SystemExit):
        main(["dashboard", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for part in (
        "?token=",
        "HttpOnly, SameSite=Strict",
        "Host or Origin",
        "50 replicates",
        "<= 600",
        "At most 8 pages",
        "60s",
        "--save-dir",
    ):
        assert part in text, part


def test_dashboard_command_rejects_a_bad_scenario(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: bad\nsteps: -1\n")
    assert main(["dashboard", str(bad)]) == 2
    assert "bad.yaml:2:1: steps: -1 is out of range" in capsys.readouterr().err


def test_flowmodel_accepts_what_solara_viz_passes():
    """Mesa 3.3 checks the constructor's signature; Mesa 3.5's Reset passes ``scenario=``."""
    from mesa.visualization.solara_viz import _check_model_params

    params = {"scale": 0.002, "policy.corridors.GD-HK.data.approval": 0.5}
    if "model" in inspect.signature(_check_model_params).parameters:  # Mesa >= 3.5
        _check_model_params(FlowModel.__init__, params, model=None)
    else:
        _check_model_params(FlowModel.__init__, params)
    mesa_scenario = type("MesaScenario", (), {"rng": 7})()
    model = FlowModel(steps=2, warmup_steps=0, scenario=mesa_scenario, **params)
    assert model.seed_value == 7 and model.params.policy.corridors.gd_hk.data.approval == 0.5
    assert not hasattr(type(model), "scenario") or "scenario" not in vars(model)


def test_dashboard_command_says_how_to_install_solara(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "solara" else real(name, *a)
    )
    assert main(["dashboard"]) == 2
    assert "pip install 'flowsim[dashboard]'" in capsys.readouterr().err

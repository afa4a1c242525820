"""A Dask Client or cluster object runs sweeps (Python) and FLOWSIM_SCHEDULER sets --scheduler.

One in-process LocalCluster (tcp on 127.0.0.1, two single-threaded workers) serves every
test; the sweeps are a synthetic model (fast) or flowsim at scale 0.002 for 3 months.
"""

from __future__ import annotations

import json
import sys

import cloudpickle
import pytest
import yaml

import flowsim
from flowsim.cli import main as cli
from flowsim.sweep.api import SweepError
from flowsim.sweep.executor import dask_client, scheduler_address

distributed = pytest.importorskip("distributed")
cloudpickle.register_pickle_by_value(sys.modules[__name__])


def linear_model(overrides, seed):
    """The outcome y = 2 x + seed / 1e6: each run's exact value is known."""
    return {"y": 2.0 * overrides["x"] + seed / 1e6}, None


SPEC = {
    "name": "client",
    "design": "factorial",
    "replications": 2,
    "seed": 5,
    "levers": {"x": {"values": [0.0, 1.0, 2.0]}},
    "outcomes": ["y"],
}


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        host="127.0.0.1",
        protocol="tcp://",
        dashboard_address=None,
    ) as running:
        yield running


def check(result, address):
    runs = result.runs
    assert len(runs) == 6 and runs["error"].isna().all(), runs
    assert (runs["y"] - (2.0 * runs["x"] + runs["seed"] / 1e6)).abs().max() < 1e-12
    assert result.manifest["executor"] == {"scheduler": address}, result.manifest["executor"]
    assert result.manifest["sessions"][-1]["scheduler"] == address


def test_sweep_on_a_client_leaves_it_open(cluster, tmp_path):
    with distributed.Client(cluster) as client:
        result = flowsim.sweep(
            SPEC, client=client, out=tmp_path / "s", model=linear_model, progress=False
        )
        check(result, cluster.scheduler_address)
        assert client.status == "running", "the caller's client is theirs to close"
        assert client.submit(sum, [1, 2]).result() == 3


def test_sweep_on_a_cluster_object_leaves_it_running(cluster, tmp_path):
    """What a dask-jobqueue SLURMCluster or a KubeCluster is: an object with .scheduler_address."""
    result = flowsim.sweep(
        SPEC, client=cluster, out=tmp_path / "s", model=linear_model, progress=False
    )
    check(result, cluster.scheduler_address)
    assert cluster.status.name == "running"
    assert len(cluster.scheduler_info["workers"]) == 2


def test_wrong_client_arguments_are_refused_before_anything_runs(cluster, tmp_path):
    with pytest.raises(TypeError, match="scheduler_address"):
        flowsim.sweep(SPEC, client=object(), out=tmp_path / "a", model=linear_model)
    with pytest.raises(SweepError, match="not both"):
        flowsim.sweep(
            SPEC,
            client=cluster,
            scheduler=cluster.scheduler_address,
            out=tmp_path / "b",
            model=linear_model,
        )
    assert not (tmp_path / "a" / "manifest.json").exists()
    assert not (tmp_path / "b").exists()


def test_calibrate_and_explain_share_the_executor_that_takes_clients(cluster):
    """calibrate(client=) and explain(client=) reach Dask through dask_client/execute."""
    with distributed.Client(cluster) as client:
        with dask_client(scheduler=client) as used:
            assert used is client
        assert client.status == "running"
    with dask_client(scheduler=cluster) as opened:
        assert opened.scheduler.address == cluster.scheduler_address
        assert sum(opened.nthreads().values()) == 2
    assert scheduler_address(cluster) == cluster.scheduler_address
    assert scheduler_address("tls://10.0.0.1:8786") == "tls://10.0.0.1:8786"


def write_sweep_file(tmp_path):
    path = tmp_path / "tiny.yaml"
    spec = {
        "name": "tiny",
        "design": "factorial",
        "replications": 1,
        "levers": {"policy.corridors.GD-HK.data.approval": {"values": [0.3, 0.9]}},
        "constants": {"warmup_steps": 6},
        "outcomes": ["projects_started"],
    }
    path.write_text(yaml.safe_dump(spec))
    return path


def test_flowsim_scheduler_variable_is_the_default_scheduler(
    cluster, tmp_path, monkeypatch, capsys
):
    address = cluster.scheduler_address
    monkeypatch.setenv("FLOWSIM_SCHEDULER", address)
    spec = write_sweep_file(tmp_path)
    small = ["--scale", "0.002", "--steps", "3", "--quiet"]
    assert cli(["sweep", str(spec), "--out", str(tmp_path / "env"), *small]) == 0
    err = capsys.readouterr().err
    assert f"--scheduler {address} (from $FLOWSIM_SCHEDULER)" in err, err
    manifest = json.loads((tmp_path / "env" / "manifest.json").read_text())
    assert manifest["executor"] == {"scheduler": address}, manifest["executor"]
    # --workers given: the variable does not apply
    assert (
        cli(["sweep", str(spec), "--out", str(tmp_path / "local"), "--workers", "1", *small]) == 0
    )
    manifest = json.loads((tmp_path / "local" / "manifest.json").read_text())
    assert manifest["executor"] == {"workers": 1}, manifest["executor"]


def test_a_dead_flowsim_scheduler_address_is_exit_2(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("FLOWSIM_SCHEDULER", "tcp://127.0.0.1:9")
    spec = write_sweep_file(tmp_path)
    code = cli(["sweep", str(spec), "--out", str(tmp_path / "s"), "--scale", "0.002", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "FLOWSIM_SCHEDULER" in err and "127.0.0.1:9" in err, err
    assert "Traceback" not in err


def test_dasks_scheduler_address_setting_is_the_next_default(
    cluster, tmp_path, monkeypatch, capsys
):
    """Without FLOWSIM_SCHEDULER, Dask's scheduler-address (what Client() connects to)."""
    import dask

    monkeypatch.delenv("FLOWSIM_SCHEDULER", raising=False)
    address = cluster.scheduler_address
    spec = write_sweep_file(tmp_path)
    with dask.config.set({"scheduler-address": address}):
        code = cli(
            [
                "sweep",
                str(spec),
                "--out",
                str(tmp_path / "cfg"),
                "--scale",
                "0.002",
                "--steps",
                "3",
                "--quiet",
            ]  # fmt: skip
        )
    err = capsys.readouterr().err
    assert code == 0, err
    assert "from Dask's scheduler-address setting" in err, err
    manifest = json.loads((tmp_path / "cfg" / "manifest.json").read_text())
    assert manifest["executor"] == {"scheduler": address}, manifest["executor"]

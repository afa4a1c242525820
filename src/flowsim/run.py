"""Run a scenario: ``run(scenario, seed) -> RunResult``, tidy tables in memory.

Writing results to disk (files and manifest) is :mod:`flowsim.results`; this
module only runs models and shapes their outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from flowsim.channels import Hold
from flowsim.flows import CHANNEL_ELEMENT, CHANNEL_NAMES
from flowsim.geography import CITIES, ELEMENTS, PLACES
from flowsim.model import SEED_REPORTER, FlowModel, apply_parameters
from flowsim.outputs import COUNTERS, GAUGES
from flowsim.params import FIELDS, Scenario
from flowsim.streams import replicate_seeds
from flowsim.tally import BY_CITY_FIELDS, BY_CITY_OUTPUTS, LINK_KINDS

FLOW_MEASURES = ("count", "volume", "delay_days", "refusals")

FLOW_COLUMNS: tuple[str, ...] = (
    "step",
    "element",
    "channel",
    "origin",
    "destination",
    "count",
    "volume",
    "mean_delay_days",
    "refusals",
)
"""Columns of :attr:`RunResult.flows`."""

BY_CITY_COLUMNS: tuple[str, ...] = ("year", "city", "field", "output", "value")
"""Columns of :attr:`RunResult.by_city`."""

LINK_COLUMNS: tuple[str, ...] = (
    "year",
    "kind",
    "origin",
    "destination",
    "field",
    "count",
    "volume",
)
"""Columns of :attr:`RunResult.links`."""


@dataclass
class RunResult:
    """Outputs of one run (one replicate).

    Attributes:
        scenario: the scenario that was run (after overrides).
        seed: the run's seed.
        timeseries: one row per step: ``step``, ``year``, then every output in real-world units.
        flows: one row per (step, element, channel, origin, destination) with any flow:
            ``count``, ``volume``, ``mean_delay_days``, ``refusals`` (real-world units).
        yearly: one row per simulated year: counters summed, gauges at year end, GII shares.
        n_agents: agents at the end of the run (model units).
        by_city: one row per (year, city, field, output): ``value`` in real-world units,
            counters summed over the year, stocks at its last month (columns
            :data:`BY_CITY_COLUMNS`; outputs :data:`flowsim.tally.BY_CITY_OUTPUTS`).
        links: one row per (year, kind, origin, destination, field) with any link:
            ``count`` and ``volume`` (columns :data:`LINK_COLUMNS`; kinds
            :data:`flowsim.tally.LINK_KINDS`).
        agents: one row per firm and lab at the end of the run
            (:data:`flowsim.agents.AGENT_COLUMNS`), when asked for (``agents=True``); else None.
    """

    scenario: Scenario
    seed: int
    timeseries: pd.DataFrame
    flows: pd.DataFrame
    yearly: pd.DataFrame
    n_agents: int
    by_city: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=BY_CITY_COLUMNS))
    links: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LINK_COLUMNS))
    agents: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def flows_frame(history: list[np.ndarray], scale: float) -> pd.DataFrame:
    """Tidy flows from the per-step ledger arrays (measure, channel, origin, destination)."""
    # step, measure, channel, origin, destination; no steps gives typed empty columns
    empty = (0, len(FLOW_MEASURES), len(CHANNEL_NAMES), len(PLACES), len(PLACES))
    arr = np.stack(history) if history else np.zeros(empty)
    steps, _, n_ch, n_c, _ = arr.shape
    s_idx, ch_idx, o_idx, d_idx = np.meshgrid(
        np.arange(steps), np.arange(n_ch), np.arange(n_c), np.arange(n_c), indexing="ij"
    )
    count = arr[:, 0]
    volume = arr[:, 1]
    delay = arr[:, 2]
    refused = arr[:, 3]
    keep = (count > 0) | (refused > 0)
    mean_delay = np.divide(delay, count, out=np.zeros_like(delay), where=count > 0)
    return pd.DataFrame(
        {
            "step": s_idx[keep].astype(np.int32),
            "element": pd.Categorical.from_codes(CHANNEL_ELEMENT[ch_idx[keep]], ELEMENTS),
            "channel": pd.Categorical.from_codes(ch_idx[keep], CHANNEL_NAMES),
            "origin": pd.Categorical.from_codes(o_idx[keep], PLACES),
            "destination": pd.Categorical.from_codes(d_idx[keep], PLACES),
            "count": count[keep] / scale,
            "volume": volume[keep] / scale,
            "mean_delay_days": mean_delay[keep],
            "refusals": refused[keep] / scale,
        }
    )


def by_city_frame(years: np.ndarray, start_year: int) -> pd.DataFrame:
    """Tidy by-city table from the model's yearly array (year, output, city, field).

    Every (year, city, field, output) has a row, zeros included, except the field
    ``any``, which only investors' stocks use.
    """
    n_y, n_o, n_c, n_f = years.shape
    y, o, c, f = np.meshgrid(
        np.arange(n_y), np.arange(n_o), np.arange(n_c), np.arange(n_f), indexing="ij"
    )
    investor = np.isin(np.asarray(BY_CITY_OUTPUTS)[o], ("capital_held", "capital_invested"))
    keep = investor == (f == n_f - 1)
    return pd.DataFrame(
        {
            "year": (start_year + y[keep]).astype(np.int32),
            "city": pd.Categorical.from_codes(c[keep], CITIES),
            "field": pd.Categorical.from_codes(f[keep], BY_CITY_FIELDS),
            "output": pd.Categorical.from_codes(o[keep], BY_CITY_OUTPUTS),
            "value": years[keep],
        }
    )


def links_frame(years: np.ndarray, start_year: int) -> pd.DataFrame:
    """Tidy links from the model's yearly array (year, kind, measure, origin, destination, field).

    Only rows with any link are kept.
    """
    count, volume = years[:, :, 0], years[:, :, 1]
    y, k, o, d, f = np.nonzero(count)
    return pd.DataFrame(
        {
            "year": (start_year + y).astype(np.int32),
            "kind": pd.Categorical.from_codes(k, LINK_KINDS),
            "origin": pd.Categorical.from_codes(o, PLACES),
            "destination": pd.Categorical.from_codes(d, PLACES),
            "field": pd.Categorical.from_codes(f, FIELDS),
            "count": count[y, k, o, d, f],
            "volume": volume[y, k, o, d, f],
        }
    )


def yearly_frame(timeseries: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """Counters summed per simulated year, gauges at the year's end, and GII-style shares.

    A trailing partial year is summed over the months it has (column ``months``).
    """
    year = timeseries["year"]
    counts = timeseries.groupby(year)[list(COUNTERS)].sum()
    gauges = timeseries.groupby(year)[list(GAUGES)].last()
    out = counts.join(gauges)
    out.insert(0, "months", timeseries.groupby(year).size())
    started = out["projects_started"].where(out["projects_started"] > 0)
    out["cross_border_collaboration_share"] = (out["projects_cross_border"] / started).fillna(0.0)
    w = scenario.world
    per_year = 12.0 / out["months"]
    out["world_share_pct"] = out["pct_applications"] * per_year / w.pct_per_year
    out["world_share_papers"] = out["papers"] * per_year / w.papers_per_year
    out["world_share_vc_deals"] = out["vc_deals"] * per_year / w.vc_deals_per_year
    out["gii_cluster_score"] = out[
        ["world_share_pct", "world_share_papers", "world_share_vc_deals"]
    ].mean(axis=1)
    return out.reset_index()


def run_model(model: FlowModel, progress: Callable[[int], None] | None = None) -> None:
    """Step a model to its end, calling ``progress(1)`` after each step."""
    while model.running:
        model.step()
        if progress is not None:
            progress(1)


def run(
    scenario: Scenario | None = None,
    seed: int | None = None,
    *,
    overrides: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
    hold: Hold | None = None,
    cache: str | bool | None = None,
    agents: bool = False,
) -> RunResult:
    """Run one replicate of a scenario and return its tidy outputs.

    Args:
        scenario: what to run; defaults to the baseline defaults.
        seed: the run's seed; defaults to ``scenario.seed``.
        overrides: dotted-path parameter overrides (``{"scale": 0.01}``).
        progress: called with 1 after each step (e.g. ``tqdm.update``).
        hold: channels held at a baseline's behaviour (``flowsim explain``); None for an
            ordinary run.
        cache: the warm-start cache (:class:`flowsim.model.FlowModel`'s ``cache``): None
            from the environment, False none, a path that folder.
        agents: also return the per-agent table (:meth:`FlowModel.agent_table`).
    """
    scenario = scenario or Scenario()
    if overrides:
        scenario = apply_parameters(scenario, overrides, source="run() overrides")
    seed = scenario.seed if seed is None else int(seed)
    model = FlowModel(scenario, rng=seed, hold=hold, cache=cache)
    run_model(model, progress)
    ts = model.datacollector.get_model_vars_dataframe().reset_index(drop=True)
    ts = ts.drop(columns=SEED_REPORTER)  # the result's seed; tables insert it per replicate
    ts.insert(0, "step", np.arange(len(ts), dtype=np.int32))
    ts.insert(1, "year", (scenario.start_year + ts["step"] // 12).astype(np.int32))
    flows = flows_frame(model.flow_history, scenario.scale)
    return RunResult(
        scenario=scenario,
        seed=seed,
        timeseries=ts,
        flows=flows,
        yearly=yearly_frame(ts, scenario),
        n_agents=model.n_agents,
        by_city=by_city_frame(model.by_city_years, scenario.start_year),
        links=links_frame(model.link_years, scenario.start_year),
        agents=model.agent_table() if agents else None,
    )


def run_replicates(
    scenario: Scenario,
    replications: int = 1,
    root_seed: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[RunResult]:
    """Run ``replications`` replicates with seeds spawned from the root seed (or the scenario's)."""
    seeds = replicate_seeds(scenario.seed if root_seed is None else root_seed, replications)
    return [run(scenario, s, progress=progress) for s in seeds]


def stack_replicates(results: Sequence[RunResult], table: str) -> pd.DataFrame:
    """One table of every replicate (``timeseries``, ``flows``, ``yearly``, ``by_city``...).

    Any table of :class:`RunResult` stacks: ``timeseries``, ``flows``, ``yearly``,
    ``by_city``, ``links`` or ``agents`` (replicates without it are left out).

    ``replicate`` and ``seed`` come first, so rows say which run they belong to; replicates
    of an ensemble run (``extra["parameter_set"]``, see :mod:`flowsim.ensemble`) have a
    ``parameter_set`` column after them.
    """
    frames = []
    ensemble = any("parameter_set" in r.extra for r in results)
    for replicate, result in enumerate(results):
        frame = getattr(result, table)
        if frame is None:
            continue
        frame = frame.copy()
        frame.insert(0, "replicate", replicate)
        frame.insert(1, "seed", np.int64(result.seed))
        if ensemble:
            frame.insert(2, "parameter_set", np.int64(result.extra.get("parameter_set", -1)))
        frames.append(frame)
    if not frames:
        raise ValueError("no replicates to stack")
    return pd.concat(frames, ignore_index=True)

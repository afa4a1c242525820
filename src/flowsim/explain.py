"""Why a policy works: its effect on each headline output split by channel, adding up.

**The game.** For a policy and its baseline run with the same seed, let ``v(S)`` be
the effect on an output of the policy run with only the channels in ``S`` free to
respond and every other channel (:data:`flowsim.channels.PLAYERS`: collaboration,
data, samples, capital, mobility, relocation into zones) held at the baseline's
behaviour (:class:`flowsim.channels.Hold`), minus the baseline run. ``v(all)`` is the
policy's total effect. ``v(none)`` - the policy with every channel held - is what the
policy does through levers outside every channel (researchers owning their results,
say): it is reported as the part ``direct``. The channels' **Shapley values**
split the rest, ``v(all) - v(none)``, so that::

    direct + sum over channels of their contribution = total     (exactly, per replicate)

A channel's Shapley value is its marginal effect ``v(S + c) - v(S)`` averaged over
every order in which channels could be switched on; interactions are shared out
between the channels that make them, and a channel the policy does not touch gets
exactly zero (it is left out of the runs: :func:`touched_channels`).

**Knowledge is a mediator.** Knowledge spillovers are fed by the other channels
(collaboration, data and samples raise research output, which raises the knowledge
stock, which raises everyone's productivity). They are never held: each channel's
contribution *includes* what it does through knowledge, and nothing is counted twice.

**Exact or sampled.** ``method="exact"`` runs every subset of the k channels the
policy touches: 2^k configurations per replicate, plus the baseline (k = 6 for full
integration: 64 + 1 runs). ``method="sampled"`` averages the marginal effects over
``permutations`` random orders per replicate (half of them the reverse of the other
half), drawn afresh for each replicate from its seed: each order needs at most k - 1
runs besides the full policy and the all-held run. The parts still add up exactly,
and because each replicate draws its own orders, the replicate intervals include the
sampling error of the orders.

**Units.** Effects are per year, as in ``flowsim compare``'s period ``all``: a
counter's whole-run total / months x 12; a stock or share is the mean over years.
Every number is a mean over replicates (common random numbers) with a 95% Student-t
interval; for an ensemble run (each parameter set applied to the policy *and* the
baseline) the mean over parameter sets of their per-set means, with the t interval
over sets (as ``compare``'s ``diff_ci``).
"""

from __future__ import annotations

import itertools
import math
import os
import shutil
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from flowsim.channels import CHANNEL_GROUPS, DEFAULT_PERMUTATIONS, METHODS, PLAYERS, Hold
from flowsim.compare import ensemble_difference, mean_interval, whole_run
from flowsim.model import FlowModel
from flowsim.outputs import unit_of
from flowsim.params import Scenario, with_overrides
from flowsim.run import run

HEADLINE: tuple[str, ...] = (
    "papers",
    "invention_patents",
    "pct_applications",
    "startups",
    "vc_deals",
    "commercialized",
    "commercialized_value",
)
"""Outputs ``flowsim explain`` decomposes by default (per year over the reported months)."""

DIRECT = "direct"
"""Part of the effect from levers outside every channel: the policy with every channel held."""

TOTAL = "total"
BASELINE = "baseline"

RUN_KEY = "@run"
HELD_KEY = "@held"
"""Reserved keys of an explain task's overrides: which scenario runs, which channels are held."""


class ExplainError(ValueError):
    """Bad input to ``flowsim explain`` (the message says what to do)."""


# ------------------------------------------------------------------ which channels


def _element_slice(a: np.ndarray, e: int, n_elements: int) -> np.ndarray:
    """The part of a friction-table array that element ``e`` reads (the whole array if unsure)."""
    if a.ndim >= 2 and a.shape[1] == n_elements:
        return a[:, e]
    return a


def _differ(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape != b.shape or not np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    return False


def touched_channels(
    policy: Scenario, baseline: Scenario, channels: Sequence[str] = PLAYERS
) -> tuple[str, ...]:
    """The channels whose holding can change the policy run (the others are null players).

    A channel is untouched when everything a held run swaps for the baseline's - the
    friction tables and border deterrence of its flows' element, grant portability,
    guidance leverage, and for relocation the zones' access gain - is equal in the
    policy and the baseline: holding it then changes no draw, and its Shapley value
    is exactly 0. Anything not recognised counts as touched (more runs, never a
    wrong answer).
    """
    from dataclasses import fields, is_dataclass

    from flowsim.flows import CHANNELS as FLOWS
    from flowsim.geography import ELEMENTS
    from flowsim.mechanisms import data, relocation, samples
    from flowsim.world import World

    element_of = {name: element for element, name in FLOWS}
    free = World(policy, 0, hold=Hold(baseline, frozenset()))
    # relocation's access gain weighs data and samples by each field's need, which the
    # input mechanisms own and set in their init (no agents needed)
    data.init(free)
    samples.init(free)
    out = []
    for channel in channels:
        if channel == "relocation":
            if _differ(
                relocation.access_gain(free, free.border),
                relocation.access_gain(free, free.baseline_border),
            ):
                out.append(channel)
            continue
        flows = CHANNEL_GROUPS[channel]
        if not flows:
            out.append(channel)
            continue
        touched = False
        for flow in flows:
            element = element_of.get(flow)
            if element is None:
                touched = True
                break
            e = ELEMENTS.index(element)
            tables, base = free.tables, free.baseline_tables
            arrays = (
                [(getattr(tables, f.name), getattr(base, f.name)) for f in fields(tables)]
                if is_dataclass(tables)
                else [(tables, base)]
            )
            if any(
                _differ(
                    _element_slice(np.asarray(a), e, len(ELEMENTS)),
                    _element_slice(np.asarray(b), e, len(ELEMENTS)),
                )
                for a, b in arrays
            ) or _differ(free.border[element], free.baseline_border[element]):
                touched = True
                break
        if not touched:
            held = World(policy, 0, hold=Hold(baseline, frozenset({channel})))
            data.init(held)
            samples.init(held)
            touched = any(
                _differ(value, getattr(held, name, None))
                for name, value in vars(free).items()
                if isinstance(value, np.ndarray)
            )
        if touched:
            out.append(channel)
    return tuple(out)


# ------------------------------------------------------------------ Shapley values


def all_coalitions(players: Sequence[str]) -> list[frozenset[str]]:
    """Every subset of ``players`` (the free channels of a configuration)."""
    return [
        frozenset(c) for r in range(len(players) + 1) for c in itertools.combinations(players, r)
    ]


def shapley_exact(
    value: Mapping[frozenset[str], float], players: Sequence[str]
) -> dict[str, float]:
    """Shapley values of ``players`` from ``value`` of every coalition (of free channels)."""
    n = len(players)
    out = {}
    for p in players:
        others = [q for q in players if q != p]
        total = 0.0
        for r in range(n):
            weight = math.factorial(r) * math.factorial(n - r - 1) / math.factorial(n)
            for c in itertools.combinations(others, r):
                s = frozenset(c)
                total += weight * (value[s | {p}] - value[s])
        out[p] = total
    return out


def sample_orders(players: Sequence[str], count: int, seed: int) -> list[tuple[str, ...]]:
    """``count`` orders of ``players`` drawn from ``seed``, half of them reversed copies."""
    rng = np.random.default_rng([int(seed), 0x5A4B])
    orders: list[tuple[str, ...]] = []
    while len(orders) < count:
        order = tuple(players[i] for i in rng.permutation(len(players)))
        orders.append(order)
        if len(orders) < count:
            orders.append(order[::-1])
    return orders


def order_coalitions(orders: Sequence[Sequence[str]]) -> list[frozenset[str]]:
    """The coalitions (prefixes) the orders pass through, each once."""
    seen: dict[frozenset[str], None] = {}
    for order in orders:
        for r in range(len(order) + 1):
            seen.setdefault(frozenset(order[:r]), None)
    return list(seen)


def shapley_sampled(
    value: Mapping[frozenset[str], float], orders: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Mean marginal effect of each player over the given orders (sums to v(all) - v(none))."""
    out = dict.fromkeys(orders[0], 0.0)
    for order in orders:
        for r, p in enumerate(order):
            out[p] += value[frozenset(order[: r + 1])] - value[frozenset(order[:r])]
    return {p: v / len(orders) for p, v in out.items()}


# ------------------------------------------------------------------ one run


def per_year(yearly: pd.DataFrame, outputs: Sequence[str]) -> dict[str, float]:
    """Each output over the whole run in ``compare``'s units (counters per year)."""
    frame = whole_run(yearly.assign(replicate=0), outputs)
    return {name: float(frame[name].iloc[0]) for name in outputs}


def run_rates(
    scenario: Scenario, seed: int, outputs: Sequence[str], hold: Hold | None = None
) -> dict[str, float]:
    """One run (``hold``: channels held at the baseline's behaviour), per year."""
    held = hold if hold is not None and hold.groups else None
    return per_year(run(scenario, seed, hold=held).yearly, outputs)


@dataclass(frozen=True)
class ExplainModel:
    """The picklable model of an explain task for the sweep executor.

    ``overrides`` carries ``@run`` (``"baseline"`` or ``"policy"``), ``@held`` (the
    channels held at the baseline's behaviour) and a parameter set's values (dotted
    paths), applied to the policy *and* the baseline.
    """

    policy: Scenario
    baseline: Scenario
    outputs: tuple[str, ...]

    def __call__(self, overrides: dict[str, Any], seed: int) -> tuple[dict[str, float], None]:
        """Run one configuration and return its outputs per year."""
        which = overrides.pop(RUN_KEY, "policy")
        held = frozenset(overrides.pop(HELD_KEY, ()))
        baseline = with_overrides(self.baseline, overrides) if overrides else self.baseline
        if which == BASELINE:
            return run_rates(baseline, seed, self.outputs), None
        policy = with_overrides(self.policy, overrides) if overrides else self.policy
        hold = Hold(baseline, held) if held else None
        return run_rates(policy, seed, self.outputs, hold), None


# ------------------------------------------------------------------ the plan


@dataclass(frozen=True)
class Unit:
    """One replicate to decompose: a seed, and for an ensemble run a parameter set."""

    seed: int
    parameter_set: int | None = None
    values: Mapping[str, float] = field(default_factory=dict)


@dataclass
class Plan:
    """Every run an explanation needs, before any runs.

    Attributes:
        players: the channels the policy touches (the others contribute exactly 0).
        untouched: the channels it does not touch.
        method: ``exact`` or ``sampled``.
        units: the replicates.
        coalitions: for each unit, the coalitions (free channels) to run.
        orders: for each unit, the orders (``sampled`` only).
    """

    players: tuple[str, ...]
    untouched: tuple[str, ...]
    method: str
    units: list[Unit]
    coalitions: list[list[frozenset[str]]]
    orders: list[list[tuple[str, ...]]]

    @property
    def n_runs(self) -> int:
        """Runs in all: per unit one baseline and one run per coalition."""
        return sum(1 + len(c) for c in self.coalitions)

    def tasks(self) -> tuple[list[Any], dict[int, tuple[int, Any]]]:
        """Sweep-executor tasks, and what each run id stands for: (unit, coalition or baseline)."""
        from flowsim.sweep.tasks import RunTask

        tasks, meaning = [], {}
        for u, (unit, coalitions) in enumerate(zip(self.units, self.coalitions, strict=True)):
            configs: list[Any] = [BASELINE, *coalitions]
            for config in configs:
                run_id = len(tasks)
                overrides: dict[str, Any] = dict(unit.values)
                if config == BASELINE:
                    overrides[RUN_KEY] = BASELINE
                else:
                    overrides[RUN_KEY] = "policy"
                    overrides[HELD_KEY] = tuple(p for p in self.players if p not in config)
                tasks.append(RunTask(run_id, u, 0, unit.seed, overrides))
                meaning[run_id] = (u, config)
        return tasks, meaning


def plan_explanation(
    policy: Scenario,
    baseline: Scenario,
    units: Sequence[Unit],
    method: str = "exact",
    permutations: int = DEFAULT_PERMUTATIONS,
    channels: Sequence[str] = PLAYERS,
) -> Plan:
    """Which runs to make: the touched channels, and their coalitions for each unit."""
    if method not in METHODS:
        raise ExplainError(f"unknown method {method!r}; methods are {', '.join(METHODS)}")
    if method == "sampled" and permutations < 2:
        raise ExplainError("--permutations must be at least 2 (an order and its reverse)")
    if not units:
        raise ExplainError("no replicates to explain")
    first = units[0]
    pol = with_overrides(policy, dict(first.values)) if first.values else policy
    base = with_overrides(baseline, dict(first.values)) if first.values else baseline
    players = touched_channels(pol, base, channels)
    untouched = tuple(c for c in channels if c not in players)
    coalitions, orders = [], []
    for unit in units:
        if method == "exact" or len(players) < 2:
            coalitions.append(all_coalitions(players))
            orders.append([])
        else:
            o = sample_orders(players, permutations, unit.seed)
            orders.append(o)
            coalitions.append(order_coalitions(o))
    return Plan(players, untouched, method, list(units), coalitions, orders)


# ------------------------------------------------------------------ running


@dataclass(frozen=True)
class Calibration:
    """A quick timing of one run: the basis of the estimate printed before the runs."""

    seconds_per_run: float
    setup_seconds: float
    step_seconds: float

    def total(self, runs: int, workers: int) -> float:
        """Wall time of ``runs`` runs on ``workers`` (ideal speed-up)."""
        return self.seconds_per_run * runs / max(1, min(workers, runs))


def time_one_run(policy: Scenario, seed: int, trial_steps: int = 6) -> Calibration:
    """Build the policy model (warm-up included) and step it a few months; extrapolate."""
    start = time.perf_counter()
    # explain's runs hold channels and never read the warm-start cache: time a real warm-up
    model = FlowModel(policy, rng=seed, cache=False)
    setup = time.perf_counter() - start
    trial = max(1, min(trial_steps, policy.steps))
    start = time.perf_counter()
    for _ in range(trial):
        if not model.running:
            break
        model.step()
    per_step = (time.perf_counter() - start) / trial
    return Calibration(setup + per_step * policy.steps, setup, per_step)


def explain(
    policy: Scenario,
    baseline: Scenario,
    plan: Plan,
    outputs: Sequence[str] = HEADLINE,
    *,
    workers: int | None = 1,
    scheduler: str | None = None,
    client: Any = None,
    security: Any = None,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Make every run of ``plan`` on the sweep executor and decompose each replicate.

    ``scheduler`` is an existing Dask scheduler's address; ``client`` instead a
    ``dask.distributed.Client`` or a cluster object with a ``scheduler_address`` (left open).

    Returns:
        One row per unit, output and part (``parameter_set``, ``seed``, ``output``,
        ``part``, ``value``): each channel the policy touches, ``direct``, ``total``
        (= the sum of the former) and ``baseline``; per year.

    Raises:
        ExplainError: a run failed (its error is in the message).
    """
    from flowsim.sweep.executor import execute

    model = ExplainModel(policy, baseline, tuple(outputs))
    tasks, meaning = plan.tasks()
    results: dict[int, dict[Any, dict[str, float]]] = {u: {} for u in range(len(plan.units))}
    errors: list[str] = []

    def on_result(record: dict[str, Any]) -> None:
        u, config = meaning[record["run_id"]]
        if record["error"] is not None:
            errors.append(f"seed {record['seed']}: {record['error']}")
        else:
            results[u][config] = record["outcomes"]
        if progress is not None:
            progress(1)

    if client is not None:
        if scheduler is not None:
            raise ExplainError("give scheduler= (an address) or client=, not both")
        scheduler = client
    execute(tasks, model, on_result, workers=workers, scheduler=scheduler, security=security)
    if errors:
        raise ExplainError(f"{len(errors)} run(s) failed; the first: {errors[0]}")
    return decompose_runs(plan, results, outputs)


def decompose_runs(
    plan: Plan, results: Mapping[int, Mapping[Any, Mapping[str, float]]], outputs: Sequence[str]
) -> pd.DataFrame:
    """Shapley parts of every unit from its runs (see the module docstring)."""
    rows = []
    everyone = frozenset(plan.players)
    for u, unit in enumerate(plan.units):
        runs = results[u]
        base = runs[BASELINE]
        for name in outputs:
            value = {c: float(runs[c][name]) - base[name] for c in plan.coalitions[u]}
            if plan.orders[u]:
                parts = shapley_sampled(value, plan.orders[u])
            else:
                parts = shapley_exact(value, plan.players)
            for channel in plan.players:
                rows.append((unit.parameter_set, unit.seed, name, channel, parts[channel]))
            for channel in plan.untouched:
                rows.append((unit.parameter_set, unit.seed, name, channel, 0.0))
            rows.append((unit.parameter_set, unit.seed, name, DIRECT, value[frozenset()]))
            rows.append((unit.parameter_set, unit.seed, name, TOTAL, value[everyone]))
            rows.append((unit.parameter_set, unit.seed, name, BASELINE, float(base[name])))
    return pd.DataFrame(rows, columns=["parameter_set", "seed", "output", "part", "value"])


def decompose_seed(
    policy: Scenario,
    baseline: Scenario,
    seed: int,
    outputs: Sequence[str] = HEADLINE,
    method: str = "exact",
) -> pd.DataFrame:
    """One replicate's decomposition, run in this process (tests, notebooks)."""
    plan = plan_explanation(policy, baseline, [Unit(int(seed))], method)
    return explain(policy, baseline, plan, outputs).drop(columns="parameter_set")


# ------------------------------------------------------------------ summary


def summarise(parts: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% interval of each part, per year and in % of the baseline.

    Plain runs: over replicates. Ensemble runs (``parameter_set`` filled): the mean over
    parameter sets of each set's mean over seeds, with the t interval over sets.
    """
    ensemble = "parameter_set" in parts.columns and parts["parameter_set"].notna().any()
    rows = []
    for (output, part), group in parts.groupby(["output", "part"], sort=False):
        if part == BASELINE:
            continue
        base = parts[(parts["output"] == output) & (parts["part"] == BASELINE)]
        base_mean = float(base["value"].mean())
        values = group["value"].to_numpy(dtype=np.float64)
        if ensemble:
            sets = group["parameter_set"].to_numpy()
            mean, low, high, *_ = ensemble_difference(values, np.zeros_like(values), sets)
            n_sets = int(group["parameter_set"].nunique())
        else:
            mean, low, high = mean_interval(values)
            n_sets = 0
        scale = 100.0 / base_mean if base_mean else float("nan")
        rows.append(
            {
                "output": output,
                "unit": f"{unit_of(output)} per year",
                "part": part,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "pct_of_baseline": mean * scale,
                "pct_ci_low": low * scale,
                "pct_ci_high": high * scale,
                "baseline": base_mean,
                "replicates": int(len(group)),
                "parameter_sets": n_sets,
            }
        )
    return pd.DataFrame(rows)


def number(value: float, digits: int = 3) -> str:
    """Plain notation, ``digits`` significant figures, thousands apart: ``13,070``, ``0.0164``."""
    if not np.isfinite(value):
        return "n/a"
    if value == 0:
        return "0"
    magnitude = int(math.floor(math.log10(abs(value))))
    decimals = max(0, digits - 1 - magnitude)
    return f"{value:,.{decimals}f}"


def _signed(value: float) -> str:
    text = number(value)
    return text if text.startswith("-") or text in ("0", "n/a") else f"+{text}"


def format_table(summary: pd.DataFrame) -> str:
    """A plain-text table: one block per output; per year with 95% interval, and % of baseline."""
    lines = []
    for output, group in summary.groupby("output", sort=False):
        first = group.iloc[0]
        lines.append(f"{output} ({first['unit']}; baseline {number(first['baseline'])})")
        for row in group.itertuples():
            if row.part == TOTAL:
                lines.append("  " + "-" * 24)
            if row.mean == 0 and row.ci_low == 0 and row.ci_high == 0:
                lines.append(f"  {row.part:<24} {'0':>12} exactly (no run differs)")
                continue
            interval = (
                f"[{_signed(row.ci_low)}, {_signed(row.ci_high)}]"
                if np.isfinite(row.ci_low)
                else "[one replicate: no interval]"
            )
            pct = f"{row.pct_of_baseline:+.2f}%" if np.isfinite(row.pct_of_baseline) else "n/a"
            lines.append(f"  {row.part:<24} {_signed(row.mean):>12} {interval:<28} {pct:>8}")
    return "\n".join(lines)


def waterfall(summary: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Draw one waterfall panel per output (bars: channels and direct; grey bar: total)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(summary["output"]))
    fig, axes = plt.subplots(
        len(outputs), 1, figsize=(7.5, 2.2 * len(outputs)), squeeze=False, sharex=True
    )
    for ax, output in zip(axes[:, 0], outputs, strict=True):
        g = summary[summary["output"] == output].set_index("part")
        parts = [p for p in g.index if p != TOTAL]
        start = 0.0
        for i, part in enumerate(parts):
            v = g.loc[part, "pct_of_baseline"]
            low, high = g.loc[part, "pct_ci_low"], g.loc[part, "pct_ci_high"]
            known = np.isfinite(low) and np.isfinite(high) and low != high
            err = np.array([[v - low], [high - v]]) if known else None
            ax.bar(
                i,
                v,
                bottom=start,
                color="#3b7dd8" if v >= 0 else "#d8643b",
                yerr=err,
                capsize=3,
                error_kw={"lw": 0.8},
            )
            start += v
        total = g.loc[TOTAL]
        err = (
            np.array(
                [
                    [total.pct_of_baseline - total.pct_ci_low],
                    [total.pct_ci_high - total.pct_of_baseline],
                ]
            )
            if np.isfinite(total.pct_ci_low)
            else None
        )
        ax.bar(len(parts), total.pct_of_baseline, color="#444444", yerr=err, capsize=3)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_ylabel("% of baseline")
        ax.set_title(f"{output} (per year)", fontsize=9, loc="left")
        ax.set_xticks(range(len(parts) + 1), [*parts, TOTAL], rotation=20, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout(rect=(0.0, 0.0, 1.0, 0.985 if title else 1.0))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


# ------------------------------------------------------------------ writing


def write_outputs(
    out: str | Path,
    parts: pd.DataFrame,
    summary: pd.DataFrame,
    text: str,
    title: str,
    sources: Sequence[Path],
) -> Path:
    """Write explain.csv, explain_replicates.csv, explain.txt, explain.png and provenance.json.

    Everything is written into a hidden folder beside ``out`` and renamed onto ``out``
    (which must be absent or empty) at the end: an error - a full disk - leaves ``out``
    as it was and no half outputs.
    """
    from flowsim.diskio import atomic_path
    from flowsim.sidecar import write_provenance

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp-{uuid.uuid4().hex[:8]}")
    tmp.mkdir()
    try:
        names = ["explain.csv", "explain_replicates.csv", "explain.txt", "explain.png"]
        with atomic_path(tmp / names[0]) as p:
            summary.to_csv(p, index=False)
        with atomic_path(tmp / names[1]) as p:
            parts.to_csv(p, index=False)
        with atomic_path(tmp / names[2]) as p:
            p.write_text(text + "\n", encoding="utf-8")
        waterfall(summary, tmp / names[3], title)
        write_provenance(
            tmp / "provenance.json",
            list(sources),
            [tmp / n for n in names],
            "flowsim explain: Shapley decomposition of a policy's effect by channel",
        )
        if out.exists():
            out.rmdir()  # empty (checked by the caller); a non-empty folder raises OSError
        os.replace(tmp, out)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return out


__all__ = [
    "BASELINE",
    "DIRECT",
    "HEADLINE",
    "METHODS",
    "TOTAL",
    "Calibration",
    "ExplainError",
    "ExplainModel",
    "Plan",
    "Unit",
    "all_coalitions",
    "decompose_runs",
    "decompose_seed",
    "explain",
    "format_table",
    "number",
    "plan_explanation",
    "run_rates",
    "sample_orders",
    "shapley_exact",
    "shapley_sampled",
    "summarise",
    "time_one_run",
    "touched_channels",
    "waterfall",
    "write_outputs",
]

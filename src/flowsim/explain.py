"""Why a policy works: its effect on each headline output split by channel.

For a policy and its baseline run with the same seeds, the total effect of the
policy on an output is ``Y(policy) - Y(baseline)``. The contribution of channel
*c* (:data:`flowsim.channels.CHANNEL_GROUPS`) is ``Y(policy) - Y(policy with c
held at the baseline's behaviour)``: what the policy loses when that channel alone
may not respond. Contributions need not add up to the total (channels interact,
and levers outside every channel - e.g. researchers owning their results - act
directly); the remainder is reported as ``other and interactions``. Every number
is a mean over replicates (one per seed, common random numbers) with a 95%
Student-t interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from flowsim.channels import CHANNEL_GROUPS, Hold
from flowsim.compare import mean_interval
from flowsim.model import FlowModel
from flowsim.params import Scenario

HEADLINE: tuple[str, ...] = (
    "papers",
    "invention_patents",
    "pct_applications",
    "startups",
    "vc_deals",
    "commercialized",
    "commercialized_value",
)
"""Outputs ``flowsim explain`` decomposes by default (sums over the reported months)."""

OTHER = "other and interactions"


def _totals(model: FlowModel, outputs: Sequence[str]) -> dict[str, float]:
    while model.running:
        model.step()
    frame = model.datacollector.get_model_vars_dataframe()
    return {name: float(frame[name].sum()) for name in outputs}


def _baseline(baseline: Scenario, seed: int, outputs: Sequence[str]):
    model = FlowModel(baseline, rng=seed)
    totals = _totals(model, outputs)
    history = model.world.knowledge.history
    path = [history[k] for k in sorted(history)]
    return totals, path


def decompose_seed(
    policy: Scenario,
    baseline: Scenario,
    seed: int,
    outputs: Sequence[str] = HEADLINE,
    channels: Sequence[str] = tuple(CHANNEL_GROUPS),
) -> pd.DataFrame:
    """One replicate: rows (output, part) with the value of each part of the effect."""
    base, path = _baseline(baseline, seed, outputs)
    full = _totals(FlowModel(policy, rng=seed), outputs)
    rows = []
    explained = dict.fromkeys(outputs, 0.0)
    for ch in channels:
        hold = Hold(baseline, frozenset({ch}), knowledge_path=path)
        held = _totals(FlowModel(policy, rng=seed, hold=hold), outputs)
        for name in outputs:
            part = full[name] - held[name]
            explained[name] += part
            rows.append((name, ch, part))
    for name in outputs:
        total = full[name] - base[name]
        rows.append((name, OTHER, total - explained[name]))
        rows.append((name, "total", total))
        rows.append((name, "baseline", base[name]))
    frame = pd.DataFrame(rows, columns=["output", "part", "value"])
    frame.insert(0, "seed", seed)
    return frame


def decompose(
    policy: Scenario,
    baseline: Scenario,
    seeds: Sequence[int],
    outputs: Sequence[str] = HEADLINE,
    progress: Callable[[int], None] | None = None,
) -> pd.DataFrame:
    """Every replicate's decomposition, stacked."""
    frames = []
    for seed in seeds:
        frames.append(decompose_seed(policy, baseline, int(seed), outputs))
        if progress is not None:
            progress(1)
    return pd.concat(frames, ignore_index=True)


def summarise(parts: pd.DataFrame) -> pd.DataFrame:
    """Mean and 95% interval of each part, in output units and in % of the baseline."""
    rows = []
    for (output, part), group in parts.groupby(["output", "part"], sort=False):
        if part == "baseline":
            continue
        base = parts[(parts["output"] == output) & (parts["part"] == "baseline")]
        base_mean = float(base["value"].mean())
        mean, low, high = mean_interval(group["value"].to_numpy())
        scale = 100.0 / base_mean if base_mean else float("nan")
        rows.append(
            {
                "output": output,
                "part": part,
                "mean": mean,
                "ci_low": low,
                "ci_high": high,
                "pct_of_baseline": mean * scale,
                "pct_ci_low": low * scale,
                "pct_ci_high": high * scale,
                "replicates": int(group["seed"].nunique()),
            }
        )
    return pd.DataFrame(rows)


def format_table(summary: pd.DataFrame) -> str:
    """A plain-text table: one block per output, parts in % of the baseline with 95% CIs."""
    lines = []
    for output, group in summary.groupby("output", sort=False):
        lines.append(output)
        for row in group.itertuples():
            lines.append(
                f"  {row.part:<24} {row.mean:>14,.1f}  {row.pct_of_baseline:>+7.2f}% "
                f"[{row.pct_ci_low:+.2f}, {row.pct_ci_high:+.2f}]"
            )
    return "\n".join(lines)


def waterfall(summary: pd.DataFrame, path: str | Path, title: str = "") -> Path:
    """Draw one waterfall panel per output (bars: channels, then the rest; line: total)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    outputs = list(dict.fromkeys(summary["output"]))
    fig, axes = plt.subplots(
        len(outputs), 1, figsize=(7.5, 2.2 * len(outputs)), squeeze=False, sharex=True
    )
    for ax, output in zip(axes[:, 0], outputs, strict=True):
        g = summary[summary["output"] == output].set_index("part")
        parts = [p for p in g.index if p != "total"]
        start = 0.0
        for i, part in enumerate(parts):
            v = g.loc[part, "pct_of_baseline"]
            err = np.array([[v - g.loc[part, "pct_ci_low"]], [g.loc[part, "pct_ci_high"] - v]])
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
        total = g.loc["total"]
        err = np.array(
            [
                [total.pct_of_baseline - total.pct_ci_low],
                [total.pct_ci_high - total.pct_of_baseline],
            ]
        )
        ax.bar(len(parts), total.pct_of_baseline, color="#444444", yerr=err, capsize=3)
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_ylabel("% of baseline")
        ax.set_title(output, fontsize=9, loc="left")
        ax.set_xticks(range(len(parts) + 1), [*parts, "total"], rotation=20, fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out

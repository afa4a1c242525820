"""Agent-steps per second of the baseline model at two scales.

    python benchmarks/agent_steps.py                 # scales 0.01 and 0.1, 120 months
    python benchmarks/agent_steps.py --scales 0.01 1.0 --steps 120

An agent-step is one agent (researcher, lab, firm or investor) simulated for one
month; the rate counts the reported months only (model construction and warm-up
are timed separately), so it compares with Mesa's and Covasim's figures.
"""

from __future__ import annotations

import argparse
import os
import time

from flowsim.model import FlowModel
from flowsim.params import Scenario

os.environ.setdefault("FLOWSIM_CACHE", "off")  # time every warm-up (flowsim.warmstart)


def measure(scale: float, steps: int, seed: int = 1) -> dict[str, float]:
    """Build and run one baseline model; return agents, timings and agent-steps per second."""
    started = time.perf_counter()
    model = FlowModel(Scenario(scale=scale, steps=steps), rng=seed)
    built = time.perf_counter()
    agent_steps = 0
    while model.running:
        agent_steps += model.n_agents
        model.step()
    done = time.perf_counter()
    return {
        "scale": scale,
        "agents": model.n_agents,
        "build_s": built - started,
        "run_s": done - built,
        "agent_steps_per_s": agent_steps / (done - built),
    }


def main(argv: list[str] | None = None) -> None:
    """Print one line per scale."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scales", type=float, nargs="+", default=[0.01, 0.1], help="agent scales to time"
    )
    parser.add_argument("--steps", type=int, default=120, help="reported months per run")
    args = parser.parse_args(argv)
    print(f"{'scale':>6} {'agents':>10} {'build+warm-up s':>16} {'run s':>8} {'agent-steps/s':>15}")
    for scale in args.scales:
        m = measure(scale, args.steps)
        print(
            f"{m['scale']:>6g} {m['agents']:>10,d} {m['build_s']:>16.2f} {m['run_s']:>8.2f} "
            f"{m['agent_steps_per_s']:>15,.0f}"
        )


if __name__ == "__main__":
    main()

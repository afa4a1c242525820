"""Benchmark flowsim at scales 0.01, 0.1 and 1.0 beside Mesa's Boltzmann-wealth model.

Prints one table: for each scale, the agents, the set-up time (building the
population *and* the ``warmup_steps`` unrecorded months that run at
construction), the time per reported step, agent-steps per second (stepping
only, and with set-up and warm-up included), peak memory (the process's peak
resident set size) and the resident set at step 10 and at the last step (to
show that memory stays flat). Below it: Mesa's ``BoltzmannWealth`` (10,000
agents on a 100 x 100 grid, 20 steps) measured in the same run, the ratios to it,
the scale-1.0/scale-0.1 time ratio and a check of each target of issue 6.

Every measurement runs in a fresh subprocess (so peak memory belongs to that
scale alone) and is repeated ``--repeat`` times (default 2); the fastest run is
kept, because other work on the machine only ever slows a run down.

    python benchmarks/bench_scale.py                       # the README table
    python benchmarks/bench_scale.py --scales 0.01 0.1 --steps 24 --repeat 1
    python benchmarks/bench_scale.py --json results/bench.json

An agent-step is one agent (researcher, lab, firm alive or not, investor)
advanced by one month; the agents are counted before every step.
"""

from __future__ import annotations

import argparse
import inspect
import json
import os
import platform
import resource
import subprocess
import sys
import time
from typing import Any

from tqdm import tqdm

os.environ.setdefault("FLOWSIM_CACHE", "off")  # time every warm-up (flowsim.warmstart)

MESA_AGENTS, MESA_WIDTH, MESA_STEPS = 10_000, 100, 20
TARGET_SECONDS, TARGET_MB, TARGET_LINEAR, TARGET_VS_MESA = 30.0, 4096.0, 12.0, 20.0


# ------------------------------------------------------------------ measuring (in a subprocess)


def _rss_mb() -> float:
    """Current resident set size of this process [MB] (peak where /proc is missing)."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return _peak_mb()


def _peak_mb() -> float:
    """Peak resident set size of this process [MB] (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def measure_flowsim(scale: float, steps: int, seed: int) -> dict[str, Any]:
    """Build and run the baseline at ``scale`` for ``steps`` reported months; return the figures."""
    from flowsim.assembly import build_world
    from flowsim.model import FlowModel
    from flowsim.params import Scenario

    scenario = Scenario(scale=scale, steps=steps)
    imported_mb = _rss_mb()
    # the population alone, timed apart so the table can say how much of set-up is warm-up
    start = time.perf_counter()
    world = build_world(scenario, seed)
    build_s = time.perf_counter() - start
    del world

    start = time.perf_counter()
    model = FlowModel(scenario, rng=seed)
    setup_s = time.perf_counter() - start
    agents_start = model.n_agents
    agent_steps, rss_at_10 = 0, float("nan")
    start = time.perf_counter()
    while model.running:
        agent_steps += model.n_agents
        model.step()
        if model.step_index == min(10, steps):
            rss_at_10 = _rss_mb()
    step_s = time.perf_counter() - start
    return {
        "scale": scale,
        "steps": steps,
        "warmup_steps": scenario.warmup_steps,
        "agents_start": agents_start,
        "agents_end": model.n_agents,
        "agent_steps": agent_steps,
        # warm-up months run on the population being built; counted at its size after warm-up
        "warmup_agent_steps": agents_start * scenario.warmup_steps,
        "build_s": build_s,
        "setup_s": setup_s,
        "step_s": step_s,
        "rss_imported_mb": imported_mb,
        "rss_step10_mb": rss_at_10,
        "rss_end_mb": _rss_mb(),
        "peak_mb": _peak_mb(),
    }


def measure_mesa(seed: int) -> dict[str, Any]:
    """Mesa's own Boltzmann-wealth example: 10,000 agents, 100 x 100 grid, 20 steps."""
    import mesa
    from mesa.examples import BoltzmannWealth

    # Mesa 3.3 takes seed=, later versions rng=
    params = inspect.signature(BoltzmannWealth.__init__).parameters
    seeding = {"rng": seed} if "rng" in params else {"seed": seed}
    start = time.perf_counter()
    model = BoltzmannWealth(n=MESA_AGENTS, width=MESA_WIDTH, height=MESA_WIDTH, **seeding)
    setup_s = time.perf_counter() - start
    start = time.perf_counter()
    for _ in range(MESA_STEPS):
        model.step()
    step_s = time.perf_counter() - start
    return {
        "mesa_version": mesa.__version__,
        "agents": MESA_AGENTS,
        "steps": MESA_STEPS,
        "agent_steps": MESA_AGENTS * MESA_STEPS,
        "setup_s": setup_s,
        "step_s": step_s,
        "peak_mb": _peak_mb(),
    }


# ------------------------------------------------------------------ orchestration


def _in_subprocess(job: dict[str, Any]) -> dict[str, Any]:
    """Run one measurement in a fresh interpreter and return its figures."""
    proc = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--worker", json.dumps(job)],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise SystemExit(f"benchmark worker {job} failed:\n{proc.stderr}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest of repeated runs (set-up plus stepping)."""
    return min(runs, key=lambda r: r["setup_s"] + r["step_s"])


def machine() -> dict[str, Any]:
    """What the benchmark ran on."""
    import numpy

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    try:
        with open("/proc/meminfo") as f:
            mem_gb = int(f.readline().split()[1]) / 2**20
    except (OSError, ValueError, IndexError):
        mem_gb = float("nan")
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "load_average_before": os.getloadavg() if hasattr(os, "getloadavg") else None,
    }


def _row(
    name: str,
    agents: int,
    setup_s: float,
    step_s: float,
    steps: int,
    agent_steps: float,
    all_agent_steps: float,
    vs_mesa: float,
    peak_mb: float,
    rss: str,
) -> str:
    """One Markdown row of the table."""
    cells = [
        name,
        f"{agents:,}",
        f"{setup_s:.2f}",
        f"{1000 * step_s / steps:.1f}",
        f"{setup_s + step_s:.2f}",
        f"{agent_steps / step_s:,.0f}",
        f"{all_agent_steps / (setup_s + step_s):,.0f}",
        f"{vs_mesa:.0f}",
        f"{peak_mb:.0f}",
        rss,
    ]
    return "| " + " | ".join(cells) + " |"


def _checks(results: list[dict[str, Any]], mesa_rate: float) -> list[str]:
    """Each target of issue 6 with the measured figure and PASS or FAIL."""

    def verdict(ok: bool) -> str:
        return "PASS" if ok else "FAIL"

    by_scale = {r["scale"]: r for r in results}
    checks = []
    if 1.0 in by_scale:
        r = by_scale[1.0]
        total = r["setup_s"] + r["step_s"]
        ok = total < TARGET_SECONDS and r["steps"] >= 120
        checks.append(
            f"scale 1.0, {r['steps']} steps incl. set-up: {total:.1f} s "
            f"(target < {TARGET_SECONDS:.0f} s for 120 steps) {verdict(ok)}"
        )
        checks.append(
            f"scale 1.0 peak memory: {r['peak_mb']:.0f} MB "
            f"(target < {TARGET_MB:.0f} MB) {verdict(r['peak_mb'] < TARGET_MB)}"
        )
    if 1.0 in by_scale and 0.1 in by_scale:
        big, small = by_scale[1.0], by_scale[0.1]
        ratio = (big["setup_s"] + big["step_s"]) / (small["setup_s"] + small["step_s"])
        step_ratio = big["step_s"] / small["step_s"]
        checks.append(
            f"time scale 1.0 / scale 0.1: {ratio:.1f}x incl. set-up, {step_ratio:.1f}x "
            f"stepping only (target <= {TARGET_LINEAR:.0f}x) {verdict(ratio <= TARGET_LINEAR)}"
        )
    if results:
        top = max(results, key=lambda r: r["scale"])
        vs = top["agent_steps"] / top["step_s"] / mesa_rate
        checks.append(
            f"throughput at scale {top['scale']}: {vs:.0f}x Mesa BoltzmannWealth "
            f"agent-steps/s (target >= {TARGET_VS_MESA:.0f}x) {verdict(vs >= TARGET_VS_MESA)}"
        )
        growth = max(r["rss_end_mb"] - r["rss_step10_mb"] for r in results)
        checks.append(
            f"resident memory from step 10 to the last step: at most {growth:+.0f} MB "
            "at any scale (outputs and firms founded included)"
        )
    return checks


def table(results: list[dict[str, Any]], mesa: dict[str, Any], info: dict[str, Any]) -> str:
    """The one table, plus the reference, the ratios and the target checks, as Markdown."""
    mesa_rate = mesa["agent_steps"] / mesa["step_s"]
    warm = results[0]["warmup_steps"] if results else 0
    lines = [
        f"| scale | agents | set-up s (incl. {warm} warm-up months) | ms per step | total s "
        "| agent-steps/s | agent-steps/s incl. set-up | x Mesa | peak MB | MB at step 10 -> end |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        rss = f"{r['rss_step10_mb']:.0f} -> {r['rss_end_mb']:.0f}"
        lines.append(
            _row(
                str(r["scale"]),
                r["agents_start"],
                r["setup_s"],
                r["step_s"],
                r["steps"],
                r["agent_steps"],
                r["agent_steps"] + r["warmup_agent_steps"],
                r["agent_steps"] / r["step_s"] / mesa_rate,
                r["peak_mb"],
                rss,
            )
        )
    lines.append(
        _row(
            f"Mesa {mesa['mesa_version']} BoltzmannWealth",
            mesa["agents"],
            mesa["setup_s"],
            mesa["step_s"],
            mesa["steps"],
            mesa["agent_steps"],
            mesa["agent_steps"],
            1.0,
            mesa["peak_mb"],
            "",
        )
    )
    load = info.get("load_average_before")
    load_text = ", ".join(f"{x:.2f}" for x in load) if load else "n/a"
    notes = [
        "",
        f"Machine: {info['cpu']}, {info['cores']} cores, {info['memory_gb']} GB; "
        f"Python {info['python']}, numpy {info['numpy']}; load average before the run {load_text}; "
        f"best of {info['repeat']} runs per row, each in a fresh process.",
    ]
    if results:
        builds = ", ".join("{:.2f} s".format(r["build_s"]) for r in results)
        notes.append(
            f"Set-up is building the population ({builds}) plus the {warm} unrecorded warm-up "
            "months run at construction. Peak MB is the whole process (Python and libraries "
            f"alone: about {results[0]['rss_imported_mb']:.0f} MB)."
        )
    return "\n".join(lines + notes + [""] + [f"- {c}" for c in _checks(results, mesa_rate)])


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, run every measurement in its own process, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--scales",
        type=float,
        nargs="+",
        default=[0.01, 0.1, 1.0],
        help="scales to run (default 0.01 0.1 1.0)",
    )
    parser.add_argument(
        "--steps", type=int, default=120, help="reported monthly steps (default 120)"
    )
    parser.add_argument(
        "--repeat", type=int, default=2, help="runs per row, the fastest is kept (default 2)"
    )
    parser.add_argument("--seed", type=int, default=1, help="run seed (default 1)")
    parser.add_argument(
        "--json", metavar="PATH", help="also write all figures to this JSON file (not overwritten)"
    )
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.worker:
        job = json.loads(args.worker)
        figures = (
            measure_mesa(job["seed"])
            if job["kind"] == "mesa"
            else measure_flowsim(job["scale"], job["steps"], job["seed"])
        )
        print(json.dumps(figures))
        return 0

    if args.steps < 10:
        parser.error("--steps must be at least 10 (memory is read at step 10)")
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    if args.json and os.path.exists(args.json):
        parser.error(f"{args.json} exists; choose another path or remove it first")
    info = machine() | {"repeat": args.repeat, "steps": args.steps}
    jobs = [{"kind": "mesa", "seed": args.seed}] + [
        {"kind": "flowsim", "scale": s, "steps": args.steps, "seed": args.seed}
        for s in sorted(args.scales)
    ]
    measured: dict[int, list[dict[str, Any]]] = {}
    with tqdm(total=len(jobs) * args.repeat, desc="benchmark", unit="run", file=sys.stderr) as bar:
        for _ in range(args.repeat):
            for i, job in enumerate(jobs):
                bar.set_postfix_str("mesa" if job["kind"] == "mesa" else f"scale {job['scale']:g}")
                measured.setdefault(i, []).append(_in_subprocess(job))
                bar.update(1)
    mesa = _best(measured[0])
    results = [_best(measured[i]) for i in range(1, len(jobs))]
    print(table(results, mesa, info))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(
                {"machine": info, "mesa": mesa, "flowsim": results, "all_runs": measured},
                f,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

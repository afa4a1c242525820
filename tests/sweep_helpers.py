"""Shared pieces of the sweep tests: tiny scenarios, sweep files, analytic and faulty models.

The models are pickled by value (``cloudpickle.register_pickle_by_value``) so that
Dask workers, which cannot import this test folder, can run them.
"""

from __future__ import annotations

import math
import os
import signal
import socket
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cloudpickle

cloudpickle.register_pickle_by_value(sys.modules[__name__])

TINY_BASE = """\
name: tiny
scale: 0.002
steps: {steps}
warmup_steps: 2
"""

ISHIGAMI_S1 = {"x1": 0.3139, "x2": 0.4424, "x3": 0.0}
ISHIGAMI_ST = {"x1": 0.5576, "x2": 0.4424, "x3": 0.2437}
"""Analytic Sobol indices of the Ishigami function with a = 7, b = 0.1 (Ishigami & Homma 1990)."""


def write_tiny_sweep(folder: Path, body: str, steps: int = 6, name: str = "sweep.yaml") -> Path:
    """Write ``base.yaml`` (a tiny, fast scenario) and a sweep file using it; return its path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "base.yaml").write_text(TINY_BASE.format(steps=steps), encoding="utf-8")
    path = folder / name
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


FACTORIAL_BODY = """\
name: tiny-factorial
base: base.yaml
design: factorial
replications: {replications}
seed: 11
levers:
  policy.corridors.GD-HK.data.approval: {{values: [0.3, 0.9]}}
  research.grant_portability: {{low: 0.0, high: 1.0}}
uncertainties:
  talent.move_rate: {{values: [0.005, 0.02]}}
num_levels: {levels}
outcomes: [papers, researcher_moves_cross_border, researchers, gii_cluster_score]
"""


def factorial_body(replications: int = 2, levels: int = 2) -> str:
    """A factorial sweep over 2 x levels x 2 points."""
    return FACTORIAL_BODY.format(replications=replications, levels=levels)


def ishigami(overrides: dict[str, Any], seed: int) -> tuple[dict[str, float], None]:
    """The Ishigami function (a = 7, b = 0.1) of x1, x2, x3 in [-pi, pi]."""
    x1, x2, x3 = overrides["x1"], overrides["x2"], overrides["x3"]
    return {"y": math.sin(x1) + 7.0 * math.sin(x2) ** 2 + 0.1 * x3**4 * math.sin(x1)}, None


def ishigami_spec(design: str = "sobol", samples: int = 1024) -> dict[str, Any]:
    """A sweep spec over the Ishigami inputs."""
    return {
        "name": "ishigami",
        "design": design,
        "samples": samples,
        "outcomes": ["y"],
        "levers": {f"x{i}": {"low": -math.pi, "high": math.pi} for i in (1, 2, 3)},
    }


@dataclass(frozen=True)
class FailAt:
    """Wraps a model; raises for design points whose ``parameter`` equals ``value``."""

    inner: Any
    parameter: str
    value: Any

    def __call__(self, overrides: dict[str, Any], seed: int) -> Any:
        """Raise at the chosen design points, else run the wrapped model."""
        if overrides[self.parameter] == self.value:
            raise ValueError(f"injected failure at {self.parameter}={self.value}")
        return self.inner(overrides, seed)


@dataclass(frozen=True)
class KillWorkerOnce:
    """Wraps a model; the first call anywhere SIGKILLs its own process (a worker dying mid-run).

    The marker file, created atomically, makes it happen exactly once across all workers.
    """

    inner: Any
    marker: str

    def __call__(self, overrides: dict[str, Any], seed: int) -> Any:
        """Kill this process on the first call anywhere, else run the wrapped model."""
        try:
            fd = os.open(self.marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return self.inner(overrides, seed)
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable: the process was killed")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def linear(overrides: dict[str, Any], seed: int) -> tuple[dict[str, float], None]:
    """The linear y = x1 + 2 x2 on [0, 1]^3 (x3 inert): S1 = ST = 0.2, 0.8, 0; no noise."""
    return {"y": overrides["x1"] + 2.0 * overrides["x2"] + 0.0 * overrides["x3"]}, None


def noisy_linear(overrides: dict[str, Any], seed: int) -> tuple[dict[str, float], None]:
    """:func:`linear` plus unit Gaussian noise drawn from the run's seed and its inputs."""
    import numpy as np

    key = [seed, *(int(abs(overrides[f"x{i}"]) * 2**40) for i in (1, 2, 3))]
    noise = float(np.random.default_rng(key).normal())
    return {"y": linear(overrides, seed)[0]["y"] + noise}, None


def unit_spec(design: str = "sobol", samples: int = 512, replications: int = 1) -> dict[str, Any]:
    """A sweep spec over x1, x2, x3 in [0, 1] for :func:`linear` and :func:`noisy_linear`."""
    return {
        "name": "unit-cube",
        "design": design,
        "samples": samples,
        "replications": replications,
        "outcomes": ["y"],
        "levers": {f"x{i}": {"low": 0.0, "high": 1.0} for i in (1, 2, 3)},
    }

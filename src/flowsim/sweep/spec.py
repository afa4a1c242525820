"""The sweep file: which parameters to vary, how to sample them, what to measure.

A sweep file is YAML validated into a frozen :class:`SweepSpec`::

    name: policy-comparison
    base: ../baseline.yaml            # scenario file, relative to this file
    design: factorial                 # factorial | lhs | monte_carlo | sobol | morris
    replications: 5
    seed: 20250904                    # root seed of every replicate
    levers:
      policy.corridors.GD-HK.data.approval: {values: [0.3, 0.6, 0.9]}
      research.grant_portability: {low: 0.0, high: 1.0}
    uncertainties:
      talent.move_rate: {low: 0.005, high: 0.02, log: true}
    outcomes: [papers, pct_applications, gii_cluster_score]

Levers are what a policy maker sets, uncertainties what nobody controls; both are
sampled the same way and kept apart only so that tables and figures can tell them
apart (as in the EMA Workbench). :func:`load_spec` reports every problem with the
file, line and column, what is allowed and a did-you-mean suggestion.

Design options belong to their designs: a sobol design takes ``samples:`` a power of
two (Saltelli's sample is balanced only at N = 2^k) and is the only one to take
``calc_second_order:``; ``num_levels:`` is for factorial and morris designs. An option
given to a design that ignores it is refused, with the reason, rather than ignored.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowsim.outputs import REPORTED, YEARLY_SHARES
from flowsim.params import Scenario
from flowsim.sweep.paths import check_parameter_path
from flowsim.yamlio import (
    ConfigError,
    LoadedYaml,
    Problem,
    dotted,
    load_yaml,
    problems_from_validation,
    suggest,
)

DEFAULT_LEVELS = 4
"""Levels of a range in factorial and morris designs when the file gives no ``num_levels:``."""

DESIGNS: tuple[str, ...] = ("factorial", "lhs", "monte_carlo", "sobol", "morris")
"""Sampling designs a sweep may use."""

OUTCOMES: tuple[str, ...] = tuple(dict.fromkeys(REPORTED + YEARLY_SHARES))
"""Names a sweep may list under ``outcomes`` (see :mod:`flowsim.sweep.outcomes`)."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Factor(_Frozen):
    """How one parameter varies: a list of ``values``, or a range from ``low`` to ``high``.

    A range is sampled uniformly (``log: true``: uniformly in its logarithm) and
    rounded down to whole numbers with ``integer: true`` (``high`` included). A
    factorial design takes ``num_levels`` evenly spaced levels of a range.
    """

    values: list[Any] | None = Field(None, min_length=1, description="the values to try")
    low: float | None = Field(None, description="lower end of the range")
    high: float | None = Field(None, description="upper end of the range")
    integer: bool = Field(False, description="whole numbers only (range only)")
    log: bool = Field(False, description="sample uniformly in log space (range only; low > 0)")

    @model_validator(mode="after")
    def _one_form(self) -> Factor:
        is_range = self.low is not None or self.high is not None
        if self.values is not None and is_range:
            raise ValueError("give either `values: [...]` or `low:` and `high:`, not both")
        if self.values is None and not is_range:
            raise ValueError("give `values: [...]` or `low:` and `high:`")
        if self.values is not None:
            if self.integer or self.log:
                raise ValueError(
                    "`integer` and `log` apply to a range (`low`, `high`), not to `values`"
                )
            kinds = {_kind(v) for v in self.values if v is not None}
            if len(kinds) > 1:
                raise ValueError(
                    f"values must share one type (numbers, text or true/false), got {self.values}"
                )
            if "other" in kinds:
                raise ValueError(
                    "values must be numbers, text, true/false or null, not lists or mappings"
                )
            if len(set(map(repr, self.values))) != len(self.values):
                raise ValueError(f"values repeat: {self.values}")
            return self
        if self.low is None or self.high is None:
            raise ValueError("a range needs both `low:` and `high:`")
        if not (math.isfinite(self.low) and math.isfinite(self.high)) or self.low >= self.high:
            raise ValueError(
                f"a range needs finite low < high, got low={self.low}, high={self.high}"
            )
        if self.log and self.low <= 0:
            raise ValueError(f"a log range needs low > 0, got low={self.low}")
        if self.integer and (self.low != int(self.low) or self.high != int(self.high)):
            raise ValueError("an integer range needs whole-number low and high")
        return self

    @property
    def is_range(self) -> bool:
        """True for a ``low``/``high`` range, False for a list of values."""
        return self.values is None


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    return "other"


class SweepSpec(_Frozen):
    """A whole sweep: base scenario, factors, design, replications, seed and outcomes."""

    name: str = Field(
        min_length=1, pattern=r"^[A-Za-z0-9_.-]+$", description="short name, used in folder names"
    )
    description: str = Field("", description="what the sweep asks")
    base: str | None = Field(
        None,
        description="scenario YAML file, relative to the sweep file; omitted: the model defaults",
    )
    levers: dict[str, Factor] = Field(
        default_factory=dict, description="policy levers: dotted path -> factor"
    )
    uncertainties: dict[str, Factor] = Field(
        default_factory=dict, description="uncertain parameters: dotted path -> factor"
    )
    constants: dict[str, Any] = Field(
        default_factory=dict, description="dotted path -> value fixed in every run of this sweep"
    )
    design: Literal["factorial", "lhs", "monte_carlo", "sobol", "morris"]
    samples: int | None = Field(
        None,
        ge=1,
        le=1_000_000,
        description="points (lhs, monte_carlo); SALib's base N (sobol); trajectories (morris)",
    )
    replications: int = Field(
        1, ge=1, le=10_000, description="runs per design point, one per replicate seed"
    )
    seed: int = Field(
        20250904, ge=0, lt=2**63, description="root seed; replicate seeds are spawned from it"
    )
    outcomes: list[str] = Field(min_length=1, description="outputs to summarise per run")
    num_levels: int = Field(
        DEFAULT_LEVELS,
        ge=2,
        le=100,
        description="levels of a range in factorial and morris designs",
    )
    calc_second_order: bool = Field(
        False, description="sobol: also sample for second-order indices"
    )
    timeseries: Literal["outcomes", "all", "none"] = Field(
        "outcomes", description="monthly outputs to keep in timeseries.parquet"
    )

    @model_validator(mode="after")
    def _design_fits(self) -> SweepSpec:
        if not self.levers and not self.uncertainties:
            raise ValueError(
                "a sweep needs at least one factor under `levers:` or `uncertainties:`"
            )
        both = sorted(set(self.levers) & set(self.uncertainties))
        if both:
            raise ValueError(
                f"{both} listed both as lever and as uncertainty; keep each in one place"
            )
        fixed = sorted(set(self.constants) & (set(self.levers) | set(self.uncertainties)))
        if fixed:
            raise ValueError(f"{fixed} are both varied and constant; remove them from `constants:`")
        if self.design == "factorial" and self.samples is not None:
            raise ValueError(
                "a factorial design takes no `samples:`; it runs every combination of the levels"
            )
        if self.design != "factorial" and self.samples is None:
            raise ValueError(f"design {self.design!r} needs `samples:` (the sample size)")
        if self.design in ("sobol", "morris") and len(self.factors) < 2:
            raise ValueError(f"a {self.design} design needs at least two factors")
        n = self.samples
        if self.design == "sobol" and n is not None and n & (n - 1):
            lower = 1 << (n.bit_length() - 1)
            raise ValueError(
                f"a sobol design needs `samples:` a power of two (got {n}): Saltelli's sample "
                "keeps the balance of the Sobol sequence, and the indices their accuracy, only "
                f"at N = 2^k; use {lower} or {lower * 2}"
            )
        if self.design != "sobol" and self.calc_second_order:
            raise ValueError(
                f"`calc_second_order:` is an option of the sobol design only; a {self.design} "
                "design has no second-order indices: remove it, or use `design: sobol`"
            )
        if self.design not in ("factorial", "morris") and self.num_levels != DEFAULT_LEVELS:
            raise ValueError(
                f"`num_levels:` sets the levels of factorial and morris designs only; a "
                f"{self.design} design samples ranges continuously: remove it"
            )
        return self

    @property
    def factors(self) -> dict[str, Factor]:
        """Levers then uncertainties, in file order."""
        return {**self.levers, **self.uncertainties}


def _problem(
    loaded: LoadedYaml,
    path: tuple[Any, ...],
    message: str,
    allowed: str | None = None,
    hint: str | None = None,
) -> Problem:
    line, column = loaded.mark(path)
    key = dotted(path)
    return Problem(loaded.file, line, column, key, message, allowed, hint)


def _clean(problem: Problem) -> Problem:
    """Drop pydantic's ``Value error,`` prefix from custom validator messages."""
    message = problem.message.removeprefix("Value error, ")
    return Problem(
        problem.file,
        problem.line,
        problem.column,
        problem.path,
        message,
        problem.allowed,
        problem.hint,
    )


def parse_spec(loaded: LoadedYaml) -> SweepSpec:
    """Validate parsed YAML into a :class:`SweepSpec` (see also :func:`check_for_scenario`)."""
    data = loaded.data
    if not isinstance(data, dict):
        raise ConfigError(
            [
                _problem(
                    loaded,
                    (),
                    f"a sweep file must be a mapping of keys, not {type(data).__name__}",
                    hint="start with `name:`, `design:`, `levers:` and `outcomes:`",
                )
            ]
        )
    try:
        return SweepSpec.model_validate(data, strict=True)
    except ValidationError as err:
        raise ConfigError(
            [_clean(p) for p in problems_from_validation(err, loaded, SweepSpec)]
        ) from None


def check_for_scenario(spec: SweepSpec, loaded: LoadedYaml, base: Scenario) -> None:
    """Check factor paths, constants and outcomes against flowsim's scenario and outputs.

    Every path must name one parameter of :class:`~flowsim.params.Scenario`; every
    value a factor can take (a range's ends) must be valid for that parameter in the
    base scenario; every outcome must be a reported output.

    Raises:
        ConfigError: listing every problem found.
    """
    problems: list[Problem] = []
    for section in ("levers", "uncertainties", "constants"):
        entries: dict[str, Any] = getattr(spec, section)
        for path, factor in entries.items():
            where = (section, path)
            message, hint = check_parameter_path(path)
            if message:
                problems.append(_problem(loaded, where, message, hint=hint))
                continue
            values = [factor] if section == "constants" else _values_to_check(factor)
            for value in values:
                error = _value_error(base, path, value)
                if error:
                    problems.append(
                        _problem(loaded, where, f"{value!r} is not a valid value: {error}")
                    )
    for i, name in enumerate(spec.outcomes):
        if name not in OUTCOMES:
            close = suggest(name, list(OUTCOMES))
            problems.append(
                _problem(
                    loaded,
                    ("outcomes", i),
                    f"unknown outcome {name!r}",
                    allowed="any output name of flowsim.outputs (e.g. papers, vc_deals, "
                    "gii_cluster_score)",
                    hint=f"did you mean {close!r}?" if close else None,
                )
            )
    if len(set(spec.outcomes)) != len(spec.outcomes):
        problems.append(
            _problem(loaded, ("outcomes",), "outcomes repeat", hint="list each outcome once")
        )
    if problems:
        raise ConfigError(sorted(problems, key=lambda p: (p.line or 0, p.column or 0)))


def _values_to_check(factor: Factor) -> list[Any]:
    if factor.values is not None:
        return list(factor.values)
    if factor.integer:
        return [int(factor.low), int(factor.high)]
    return [factor.low, factor.high]


def _value_error(base: Scenario, path: str, value: Any) -> str | None:
    from flowsim.params import with_overrides

    try:
        with_overrides(base, {path: value}, strict=True)
    except ValidationError as err:
        first = err.errors(include_url=False)[0]
        return first["msg"]
    return None


def load_spec(path: str | Path) -> tuple[SweepSpec, LoadedYaml]:
    """Read and structurally validate a sweep file.

    Returns:
        The spec and the parsed YAML (whose marks locate later problems in the file).

    Raises:
        ConfigError: with file:line:col, allowed values and a did-you-mean hint.
    """
    loaded = load_yaml(path)
    return parse_spec(loaded), loaded


def base_path(spec: SweepSpec, spec_file: str | Path | None) -> Path | None:
    """The base scenario's file, resolved relative to the sweep file's folder."""
    if spec.base is None:
        return None
    folder = Path(spec_file).parent if spec_file is not None else Path.cwd()
    return (folder / spec.base).resolve() if not Path(spec.base).is_absolute() else Path(spec.base)


__all__ = [
    "DESIGNS",
    "OUTCOMES",
    "Factor",
    "SweepSpec",
    "base_path",
    "check_for_scenario",
    "load_spec",
    "parse_spec",
]

"""Every model parameter and policy lever, with its default, unit and source.

:class:`Scenario` composes every parameter section. The section a mechanism owns is
declared, with its defaults, in that mechanism's module (``talent`` by
:class:`flowsim.mechanisms.talent.TalentParams`, ``research``, ``transfer``,
``capital``, ``commercialization``, ``knowledge``, ``relocation`` and ``growth`` likewise, as
``PARAMS``/``Params``); the shared building blocks and the border-control policy
live in :mod:`flowsim.paramtypes`; the other sections (population, world,
outputs) are defined here. Every name is importable from here, so this
module sits above the mechanisms: the world and the tools import it for type hints
only. A scenario file (see :mod:`flowsim.scenario`) is validated into a
:class:`Scenario`; the model reads nothing else. Every object is immutable
(pydantic ``frozen``) and rejects unknown keys, so a misspelt lever is an error,
never a silently ignored value.

Units: money in million yuan (RMB m) unless a field says otherwise; rates per
agent per month; delays in days; shares and probabilities in [0, 1].
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import Field, field_validator, model_validator

from flowsim.geography import CORRIDORS, ELEMENTS, FIELDS, ZONES
from flowsim.mechanisms.capital import CapitalParams
from flowsim.mechanisms.commercialization import CommercializationParams
from flowsim.mechanisms.growth import GrowthParams
from flowsim.mechanisms.knowledge import KnowledgeParams
from flowsim.mechanisms.relocation import RelocationParams
from flowsim.mechanisms.research import ResearchParams
from flowsim.mechanisms.talent import TalentParams
from flowsim.mechanisms.transfer import TransferParams
from flowsim.openregion import OpenRegionParams
from flowsim.paramtypes import (
    ByCity,
    ByField,
    ByJurisdiction,
    CorridorPolicy,
    Corridors,
    Deterrence,
    Friction,
    FrictionOverride,
    Policy,
    Response,
    ZonePolicy,
    Zones,
    _Frozen,
    _nonneg,
    _positive,
    _share,
)

# --------------------------------------------------------------------------- behaviour


class PopulationParams(_Frozen):
    """How the initial agents are drawn from the city figures."""

    city_multipliers: ByCity = Field(
        default_factory=ByCity,
        description="multiplies a city's initial researchers, labs, firms, investors and R&D "
        "spending (1 = the city figures; e.g. Shenzhen: 1.2 for 20% more)",
    )

    field_multipliers: ByField = Field(
        default_factory=lambda: ByField(
            biomedicine=1.0,
            ict=1.0,
            ai_data=1.0,
            advanced_manufacturing=1.0,
            new_materials=1.0,
            energy_environment=1.0,
        ),
        description="multiplier on each field's share in every city's field mix (1 = the mix "
        "of data/field_mix.csv; scenario lever)",
    )
    researchers_per_lab: float = _positive(
        40.0,
        "public-sector researchers per lab (research group or institute) [persons] (assumption)",
    )
    skill_sigma: float = _nonneg(
        0.7108,
        "sigma of the lognormal researcher skill, mean 1 (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 0.8, assumption: research productivity "
        "is skewed, Lotka's law; a sigma of 0.8 puts ~25% of output in the top 10% of "
        "researchers)",
    )
    guidance_fund_share: float = _share(
        0.05, "share of fund managers that are government guidance funds (assumption)"
    )
    fund_size_mean: float = Field(
        500.0,
        gt=0.0,
        le=1e6,
        description="mean fund size [RMB m] (assumption; at most 1e6 RMB m = 1 trillion yuan, "
        "above the largest fund in the world, so that money stays finite)",
    )
    fund_size_sigma: float = _nonneg(1.0, "sigma of the lognormal fund size (assumption)")
    dry_powder_years: float = _positive(
        2.5,
        "dry powder at the start, in years of the region's investment (assumption: a fund "
        "invests over a 3-5 year investment period, so managers hold about 2-3 years of "
        "deployment; replaces the 8.6 years the v1 model held)",
    )
    firm_cash_mean: float = _nonneg(5.0, "mean cash of a firm at the start [RMB m] (assumption)")

    firm_size_alpha: float = _positive(
        1.1,
        "Pareto tail exponent of the initial firm size weights, researchers per firm "
        "(Axtell 2001: US firm sizes are Zipf-distributed, exponent ~1.06; R&D staff at least as "
        "concentrated)",
    )
    startup_size_factor: float = _nonneg(
        0.04,
        "initial size weight of a start-up relative to a growth firm's draw [factor] "
        "(stated assumption, measured on the model: start-ups are founded with no researchers "
        "and hire in proportion to their size, so after 20 simulated years a start-up employs "
        "3.5-5% of a growth firm's researchers; drawing the initial start-ups at the growth "
        "firms' sizes drained half their researchers into growth firms over the reported years "
        "and raised development and commercialized projects by 5-8%, benchmarks/stationarity.py)",
    )
    pct_propensity_sigma: float = _nonneg(
        1.2,
        "sigma of the lognormal PCT filing propensity of a firm, mean 1 (assumption: a few "
        "exporting firms file most PCT applications, e.g. Huawei and ZTE lead world PCT filings)",
    )
    firm_age_mean_months: float = _positive(
        72.0, "mean age of the firms present at the start [months] (assumption)"
    )

    @field_validator("field_multipliers")
    @classmethod
    def _some_field_share(cls, shares: ByField) -> ByField:
        if sum(shares.as_array()) <= 0:
            raise ValueError("the shares must not all be zero: agents need at least one field")
        return shares


def _world_total(default: float, doc: str) -> Any:
    # a count per year: below one the region's share overflows to infinity (refused)
    return Field(default, ge=1.0, description=doc)


class WorldParams(_Frozen):
    """World totals that turn the region's outputs into GII-style shares."""

    pct_per_year: float = _world_total(272_600.0, "world PCT applications per year (WIPO, 2023)")
    papers_per_year: float = _world_total(
        2_500_000.0, "world scientific articles per year (assumption, SCIE-indexed)"
    )
    vc_deals_per_year: float = _world_total(
        60_000.0, "world venture-capital deals per year (assumption)"
    )


class OutputParams(_Frozen):
    """What a run records."""

    flows: bool = Field(
        True, description="record flows by element x origin x destination each step"
    )


MONTH_PATTERN = r"^\d{4}-(0[1-9]|1[0-2])$"


class TimingParams(_Frozen):
    """When the scenario's policy is in force (:mod:`flowsim.timing`).

    The warm-up always runs under the baseline's levers; the policy takes effect at
    ``start``, ramps up linearly over ``phase_in_months`` and, with ``end``, stops there.
    ``steady_state: true`` instead keeps the policy in force through the warm-up: the
    15-year steady state of the policy, a different question from its introduction.
    """

    start: int | str | None = Field(
        None,
        description="first month the policy is in force [reported month or YYYY-MM]: 0 is "
        "January of start_year; none: the first reported month (lever)",
    )
    phase_in_months: int = Field(
        0,
        ge=0,
        le=600,
        description="months over which the share of flows under the new rules (and the "
        "numeric levers) ramps linearly from 1/n to all, 0: all at once [months] (lever)",
    )
    end: int | str | None = Field(
        None,
        description="first month the policy is no longer in force [reported month or YYYY-MM]; "
        "none: in force to the end (lever)",
    )
    steady_state: bool = Field(
        False,
        description="keep the policy in force through the warm-up and compare steady states "
        "(labelled as such), not the policy's introduction [true/false] (lever)",
    )

    @field_validator("start", "end")
    @classmethod
    def _month(cls, value: int | str | None) -> int | str | None:
        if isinstance(value, bool):
            raise ValueError("a month is a number (0 = January of start_year) or YYYY-MM")
        if isinstance(value, int) and value < 0:
            raise ValueError(
                f"a month number is 0 or more (0 = January of start_year), not {value}"
            )
        if isinstance(value, str) and not re.match(MONTH_PATTERN, value):
            raise ValueError(
                f"{value!r} is not a month: write YYYY-MM (such as 2026-07) or a reported "
                "month number (0 = January of start_year)"
            )
        return value


class Scenario(_Frozen):
    """A whole scenario: what to run, the parameters and the policy."""

    name: str = Field("baseline", min_length=1, description="short name of the scenario")
    description: str = Field("", description="what the scenario represents")
    sources: list[str] = Field(default_factory=list, description="where the policy comes from")
    seed: int = Field(20250904, ge=0, lt=2**63, description="root seed of the run")
    steps: int = Field(120, ge=1, le=1200, description="number of monthly steps")
    scale: float = Field(
        0.1,
        gt=0.0,
        le=2.0,
        description="agents per real entity (0.1: the smallest scale at which every zone "
        "lever and Guangdong's guidance leverage act on 10 or more agents; "
        "benchmarks/default_scale.py)",
    )
    start_year: int = Field(2025, ge=1900, le=2200, description="calendar year of step 0")
    warmup_steps: int = Field(
        180,
        ge=0,
        le=240,
        description="months simulated before step 0 and not reported, so that projects, "
        "invention stocks, firms' cash and portfolios start in flight and the baseline is "
        "stationary (measured, benchmarks/stationarity.py: the slowest loop is firms' cash, "
        "which relaxes with a time constant of 1/commercialization.cash_spend_rate = 33 "
        "months and feeds development, products, screening and VC; with 60 months the "
        "reported years still drift, +18% commercialized and +46% VC volume, with 180 they "
        "are within noise)",
    )
    population: PopulationParams = PopulationParams()
    talent: TalentParams = TalentParams()
    research: ResearchParams = ResearchParams()
    transfer: TransferParams = TransferParams()
    capital: CapitalParams = CapitalParams()
    commercialization: CommercializationParams = CommercializationParams()
    knowledge: KnowledgeParams = KnowledgeParams()
    relocation: RelocationParams = RelocationParams()
    growth: GrowthParams = GrowthParams()
    deterrence: Deterrence = Deterrence()
    open_region: OpenRegionParams = OpenRegionParams()
    world: WorldParams = WorldParams()
    policy: Policy = Policy()
    timing: TimingParams = TimingParams()
    outputs: OutputParams = OutputParams()

    @field_validator("name")
    @classmethod
    def _printable_name(cls, name: str) -> str:
        if any(ord(c) < 32 or 127 <= ord(c) < 160 for c in name):
            raise ValueError(
                "the name must not hold control characters (such as terminal escape codes or "
                "line breaks): it is printed and used in folder names"
            )
        return name

    def month_number(self, value: int | str) -> int:
        """A timing month as a reported month number (0 = January of ``start_year``)."""
        if isinstance(value, int):
            return value
        year, month = (int(x) for x in value.split("-"))
        return (year - self.start_year) * 12 + month - 1

    @model_validator(mode="after")
    def _timing_fits(self) -> Scenario:
        """Refuse a start or end outside the reported months, or an end before the start."""
        t = self.timing
        last = f"{self.start_year + (self.steps - 1) // 12}-{(self.steps - 1) % 12 + 1:02d}"
        span = f"the reported months are 0-{self.steps - 1} ({self.start_year}-01 to {last})"
        for key in ("start", "end"):
            value = getattr(t, key)
            if value is None:
                continue
            n = self.month_number(value)
            if n < 0 or n > self.steps - (key == "start"):
                raise ValueError(f"timing.{key} {value} is outside the run: {span}")
        if t.start is not None and t.end is not None:
            if self.month_number(t.end) <= self.month_number(t.start):
                raise ValueError(f"timing.end {t.end} must come after timing.start {t.start}")
        if t.steady_state and (t.start is not None or t.end is not None or t.phase_in_months):
            raise ValueError(
                "timing.steady_state keeps the policy in force through the warm-up: it has no "
                "start, end or phase-in; remove either steady_state or the dates"
            )
        return self

    @model_validator(mode="after")
    def _has_agents(self) -> Scenario:
        """Refuse a scale and city multipliers that would leave a kind of agent with none."""
        short = agents_short(self)
        if short:
            raise ValueError(short)
        return self


MIN_AGENTS = 1.0
"""Fewest agents of each kind (researchers, firms, fund managers) a scenario may expect."""


def agents_short(scenario: Scenario) -> str | None:
    """Why ``scale`` x city multipliers x city figures give no agents of some kind, or None.

    Each of researchers, firms and fund managers must expect at least
    :data:`MIN_AGENTS` across the cities; below that a run has nobody to do the work
    (and fails, or reports zeros).
    """
    from flowsim.geography import load_geography

    figures = load_geography().figures
    multipliers = scenario.population.city_multipliers.as_array()
    if not any(m > 0 for m in multipliers):
        return (
            "population.city_multipliers are all zero: no city has agents; give at least one "
            "city a multiplier above 0"
        )
    worst = None
    for kind, label in (
        ("researchers", "researchers"),
        ("firms", "firms"),
        ("fund_managers", "fund managers"),
    ):
        real = sum(float(f) * m for f, m in zip(figures[kind], multipliers, strict=True))
        expected = real * scenario.scale
        least = MIN_AGENTS / real if real > 0 else float("inf")
        if expected < MIN_AGENTS and (worst is None or least > worst[0]):
            worst = (least, expected, label)
    if worst is None:
        return None
    least, expected, label = worst
    return (
        f"scale {scenario.scale:g} gives about {expected:.3g} {label} (fewer than "
        f"{MIN_AGENTS:g}); with these city multipliers the scale must be at least {least:.2g}"
    )


def scenario_defaults() -> dict[str, Any]:
    """The default scenario as a plain dictionary (aliases as keys, as written in YAML)."""
    return Scenario().model_dump(by_alias=True, mode="json")


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Return ``base`` with ``override`` merged in, recursing into nested mappings."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def set_path(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Return a copy of ``data`` with the value at a dotted path (e.g. ``talent.move_rate``) set."""
    head, _, rest = dotted.partition(".")
    out = dict(data)
    if rest:
        inner = out.get(head)
        out[head] = set_path(inner if isinstance(inner, dict) else {}, rest, value)
    else:
        out[head] = value
    return out


def with_overrides(scenario: Scenario, overrides: dict[str, Any], strict: bool = False) -> Scenario:
    """A new scenario with dotted-path overrides applied and validated.

    ``strict=True`` validates as scenario files are (no ``true`` for a number, no
    ``'3'`` for a whole number); sweep files use it.
    """
    data = scenario.model_dump(by_alias=True, mode="json")
    for path, value in overrides.items():
        data = set_path(data, path, value)
    return Scenario.model_validate(data, strict=strict)


__all__ = [
    "CORRIDORS",
    "MIN_AGENTS",
    "agents_short",
    "ELEMENTS",
    "FIELDS",
    "ZONES",
    "ByCity",
    "ByField",
    "ByJurisdiction",
    "CapitalParams",
    "CommercializationParams",
    "CorridorPolicy",
    "Corridors",
    "Deterrence",
    "Friction",
    "FrictionOverride",
    "GrowthParams",
    "KnowledgeParams",
    "OutputParams",
    "Policy",
    "PopulationParams",
    "RelocationParams",
    "ResearchParams",
    "Response",
    "Scenario",
    "TalentParams",
    "TimingParams",
    "TransferParams",
    "WorldParams",
    "ZonePolicy",
    "Zones",
    "deep_merge",
    "scenario_defaults",
    "set_path",
    "with_overrides",
]

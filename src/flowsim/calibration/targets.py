"""The targets file: real figures the model is fitted to or validated on, and how to fit.

A targets file is YAML, validated like a scenario file (every problem reported
with file, line, column, key path, what is allowed and a did-you-mean)::

    name: gba-2022
    scenario: ../baseline.yaml        # the scenario calibrated, relative to this file
    run: {scale: 0.02, steps: 24, start_year: 2022}   # settings of every trial run
    replicates: 3                     # replicates per trial, common seeds across trials
    seed: 20250904                    # root of the replicate seeds
    free:                             # the estimated parameters (chosen by screening)
      research.inventions_per_project_firm: {low: 3.5, high: 14.0}
    targets:
      - id: pct_GD_2022
        output: pct_applications      # any output a run reports (see flowsim.outputs)
        jurisdiction: GD              # optional: jurisdiction, city, field or flow selector
        year: 2022
        value: 24290
        tolerance: 0.15               # relative half-width of the band, or `sd:`
        source: "CNIPA, Intellectual Property Statistical Yearbook 2023, table 6-4"
        role: calibration             # or validation (held out of the fit)
        reason: "..."

What a target's ``statistic`` means, and how its model value is computed from a
run, is :mod:`flowsim.calibration.evaluate`.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from flowsim.geography import CITIES, ELEMENTS, EXTERNALS, JURISDICTIONS
from flowsim.outputs import REPORTED, YEARLY_SHARES
from flowsim.params import FIELDS, Scenario
from flowsim.tally import LINK_KINDS
from flowsim.yamlio import (
    ConfigError,
    LoadedYaml,
    Problem,
    dotted,
    load_yaml,
    problems_from_validation,
    suggest,
)

STATISTICS: tuple[str, ...] = ("annual", "growth_rate", "share", "top_share", "tail_exponent")
"""What a target measures of its output (see :mod:`flowsim.calibration.evaluate`)."""

FLOW_MEASURES: tuple[str, ...] = ("count", "volume", "refusals", "mean_delay_days")
"""Outputs of a flow (link-kind) target: columns of a run's flows table."""

ROLES: tuple[str, ...] = ("calibration", "validation")

LEVELS: tuple[str, ...] = (
    "region",
    "jurisdiction",
    "city",
    "field",
    "concentration",
    "flows",
    "network",
)
"""Levels of a target (``level:``): what kind of fact it is, for pattern-oriented checks."""


def known_outputs() -> tuple[str, ...]:
    """Region-wide outputs a run reports (time series and yearly table) and their splits.

    Read from :mod:`flowsim.outputs` each time, so a model that reports other outputs
    is checked against its own names.
    """
    return (*REPORTED, *YEARLY_SHARES)


class _Strict(BaseModel):
    """Strict types: ``'3'`` is text, not a number; ``yes`` and ``true`` are not numbers."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=True)


def _check_place(value: str | None) -> str | None:
    """``value`` if it is a city or a jurisdiction (or None), else a ValueError saying so."""
    if value is None or value in CITIES or value in JURISDICTIONS or value in EXTERNALS:
        return value
    close = suggest(value, [*CITIES, *JURISDICTIONS, *EXTERNALS])
    raise ValueError(
        f"{value!r} is neither a city, a jurisdiction nor an external place; allowed: "
        + ", ".join([*CITIES, *JURISDICTIONS, *EXTERNALS])
        + (f" (did you mean {close!r}?)" if close else "")
    )


class FlowSelector(_Strict):
    """Which flows a link-kind target sums: an element and optional ends."""

    element: Literal["talent", "capital", "data", "samples"] = Field(
        description="flow element (" + ", ".join(ELEMENTS) + ")"
    )
    origin: str | None = Field(None, description="a city or jurisdiction the flow leaves")
    destination: str | None = Field(None, description="a city or jurisdiction it enters")
    cross_border: bool | None = Field(
        None, description="true: only flows between jurisdictions; false: only within one"
    )

    @field_validator("origin", "destination")
    @classmethod
    def _place(cls, value: str | None) -> str | None:
        return _check_place(value)


LINK_MEASURES: tuple[str, ...] = ("count", "volume")
"""Outputs of a link target: columns of a run's links table."""


class LinkSelector(_Strict):
    """Which links between cities a link target sums: a kind and its two ends, either way round."""

    kind: Literal[LINK_KINDS] = Field(  # type: ignore[valid-type]
        description="link kind (" + ", ".join(LINK_KINDS) + ")"
    )
    ends: list[str | list[str]] = Field(
        min_length=2,
        max_length=2,
        description="two ends, each a place (city or jurisdiction) or a list of places: a link "
        "counts when one end lies in the first and the other in the second, either way round",
    )

    @field_validator("ends")
    @classmethod
    def _places(cls, value: list[str | list[str]]) -> list[str | list[str]]:
        for end in value:
            for place in [end] if isinstance(end, str) else end:
                _check_place(place)
        return value


class Denominator(_Strict):
    """The whole a ``share`` target divides by (default: the same output, region-wide)."""

    output: str | None = None
    jurisdiction: str | None = None
    city: str | None = None
    field: str | None = None
    link: LinkSelector | None = Field(
        None, description="links as the whole (same measure and field as the target's)"
    )


class Source(_Strict):
    """Where a figure comes from: title, publisher and year, and where in it."""

    title: str = Field(min_length=3, description="title of the report, table or article")
    publisher: str = Field(min_length=2, description="who published it")
    year: int = Field(ge=1900, le=2200, description="year of publication")
    detail: str = Field("", description="table, page or the sentence the figure comes from")
    url: str = Field("", description="where it was read")

    def text(self) -> str:
        """One line: ``publisher, title (year): detail, url``."""
        head = f"{self.publisher}, {self.title} ({self.year})"
        return head + "".join(f"; {x}" for x in (self.detail, self.url) if x)


class Target(_Strict):
    """One real figure."""

    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]+$", description="unique name (letters, _ . -)")
    output: str | None = Field(
        None,
        description="an output name of the run, or a flow measure with `flow:` (omitted only "
        "with `model_output: none`)",
    )
    level: Literal[LEVELS] | None = Field(  # type: ignore[valid-type]
        None, description="region, jurisdiction, city, field, concentration, flows or network"
    )
    model_output: Literal["none"] | None = Field(
        None,
        description="`none`: the model cannot report this figure yet (say why in "
        "`model_output_note`); it is listed, never evaluated, and must be a validation target",
    )
    model_output_note: str | None = Field(
        None, min_length=3, description="why the model cannot report it, and what would let it"
    )
    jurisdiction: str | None = Field(None, description="GD, HK or MO")
    city: str | None = Field(None, description="a city name (needs the run's by-city table)")
    field: str | None = Field(None, description="a research field (needs the by-city table)")
    flow: FlowSelector | None = Field(None, description="a flow: element, origin, ...")
    link: LinkSelector | None = Field(
        None, description="links between cities (links table): kind and two ends"
    )
    statistic: Literal["annual", "growth_rate", "share", "top_share", "tail_exponent"] = "annual"
    of: Denominator | None = Field(None, description="the whole of a `share` target")
    across: Literal["city", "field"] | None = Field(
        None, description="units of a distribution statistic (top_share, tail_exponent)"
    )
    top: int = Field(1, ge=1, le=10, description="units in the top of a top_share")
    year: int | None = Field(None, ge=1900, le=2200, description="year of the figure")
    base_year: int | None = Field(None, ge=1900, le=2200, description="start of a growth_rate")
    value: float = Field(description="the real figure")
    unit: str = ""
    tolerance: float | None = Field(None, gt=0.0, description="relative half-width of the band")
    sd: float | None = Field(None, gt=0.0, description="standard error (band = +-2 sd)")
    weight: float = Field(1.0, gt=0.0, description="weight in the objective")
    source: str | Source = Field(
        description="where the figure comes from: a text, or {title, publisher, year, detail, url}"
    )
    role: Literal["calibration", "validation"]
    reason: str = Field(min_length=3, description="why the target is fitted or held out")

    @field_validator("jurisdiction")
    @classmethod
    def _jurisdiction(cls, value: str | None) -> str | None:
        if value is not None and value not in JURISDICTIONS:
            raise ValueError(f"{value!r} is not a jurisdiction; allowed: GD, HK, MO")
        return value

    @field_validator("city")
    @classmethod
    def _city(cls, value: str | None) -> str | None:
        if value is not None and value not in CITIES:
            close = suggest(value, list(CITIES))
            raise ValueError(
                f"{value!r} is not a city; allowed: {', '.join(CITIES)}"
                + (f" (did you mean {close!r}?)" if close else "")
            )
        return value

    @field_validator("field")
    @classmethod
    def _field(cls, value: str | None) -> str | None:
        if value is not None and value not in FIELDS:
            close = suggest(value, list(FIELDS))
            raise ValueError(
                f"{value!r} is not a research field; allowed: {', '.join(FIELDS)}"
                + (f" (did you mean {close!r}?)" if close else "")
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if self.model_output == "none":
            return self._not_reported()
        if self.model_output_note is not None:
            raise ValueError("`model_output_note:` goes with `model_output: none` only")
        if self.output is None:
            raise ValueError(
                "`output:` is missing: name the output the figure is compared with, or mark a "
                "figure the model cannot report with `model_output: none` and a "
                "`model_output_note:`"
            )
        if isinstance(self.source, str) and len(self.source) < 3:
            raise ValueError("`source:` must say where the figure comes from")
        if self.link is not None:
            if self.flow is not None or self.city or self.jurisdiction:
                raise ValueError(
                    "a `link:` target selects its ends in `link: {ends: [...]}`, not with "
                    "`flow:`, `city:` or `jurisdiction:` (`field:` is allowed)"
                )
            if self.output not in LINK_MEASURES:
                raise ValueError(
                    f"the output of a `link:` target is {' or '.join(LINK_MEASURES)}, not "
                    f"{self.output!r}"
                )
        names = (
            LINK_MEASURES
            if self.link is not None
            else FLOW_MEASURES
            if self.flow is not None
            else known_outputs()
        )
        if self.output not in names:
            close = suggest(self.output, list(names))
            what = "a flow measure" if self.flow is not None else "an output the run reports"
            raise ValueError(
                f"output {self.output!r} is not {what}"
                + (f"; did you mean {close!r}?" if close else "")
                + ("; allowed: " + ", ".join(names) if self.flow is not None else "")
                + ("" if self.flow is not None else "; `flowsim describe` lists the outputs")
            )
        if (self.tolerance is None) == (self.sd is None):
            raise ValueError("give exactly one of `tolerance:` (relative) and `sd:` (absolute)")
        if self.tolerance is not None and self.value == 0:
            raise ValueError("a relative `tolerance:` needs a non-zero value; give `sd:`")
        if self.city is not None and self.jurisdiction is not None:
            raise ValueError("give `city:` or `jurisdiction:`, not both")
        if self.flow is not None and (self.city or self.jurisdiction or self.field):
            raise ValueError("a `flow:` target selects its ends in `flow:`, not with city/field")
        if self.statistic == "growth_rate" and (self.base_year is None or self.year is None):
            raise ValueError("a growth_rate needs `base_year:` and `year:`")
        if self.statistic == "growth_rate" and self.base_year >= self.year:
            raise ValueError("`base_year:` must come before `year:`")
        if self.statistic == "share" and self.of is None:
            raise ValueError("a share needs `of:` (the whole, e.g. `of: {jurisdiction: GD}`)")
        if self.statistic in ("top_share", "tail_exponent") and self.across is None:
            raise ValueError(f"a {self.statistic} needs `across: city` or `across: field`")
        return self

    def _not_reported(self) -> Target:
        """Checks of a figure the model cannot report (``model_output: none``)."""
        if not self.model_output_note:
            raise ValueError(
                "`model_output: none` needs `model_output_note:` saying why the model cannot "
                "report the figure yet"
            )
        if self.role != "validation":
            raise ValueError(
                "a figure the model cannot report (`model_output: none`) cannot be fitted; "
                "give it `role: validation`"
            )
        if (self.tolerance is None) == (self.sd is None):
            raise ValueError("give exactly one of `tolerance:` (relative) and `sd:` (absolute)")
        return self

    @property
    def reported(self) -> bool:
        """Whether the model reports this figure (not ``model_output: none``)."""
        return self.model_output != "none"

    @property
    def source_text(self) -> str:
        """The source as one line of text."""
        return self.source if isinstance(self.source, str) else self.source.text()

    @property
    def band(self) -> float:
        """Half-width of the tolerance band: ``tolerance * |value|`` or ``2 * sd``."""
        if self.tolerance is not None:
            return self.tolerance * abs(self.value)
        return 2.0 * float(self.sd)

    @property
    def needs_by_city(self) -> bool:
        """Whether the model value needs the run's by-city table."""
        of = self.of
        return bool(
            self.city or self.field or self.across or (of is not None and (of.city or of.field))
        )


class FreeParameter(_Strict):
    """Bounds of one estimated parameter (its prior is uniform, log-uniform if ``log``)."""

    low: float
    high: float
    log: bool = False
    unit: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> FreeParameter:
        if not self.low < self.high:
            raise ValueError(f"`low` ({self.low}) must be below `high` ({self.high})")
        if self.log and self.low <= 0:
            raise ValueError("a log-uniform range needs `low` > 0")
        return self


class RunSettings(_Strict):
    """Run settings of every calibration run (override the scenario's)."""

    scale: float | None = Field(None, gt=0.0, le=2.0)
    steps: int | None = Field(None, ge=1, le=1200)
    start_year: int | None = Field(None, ge=1900, le=2200)
    warmup_steps: int | None = Field(None, ge=0, le=240)


SECTIONS: tuple[str, ...] = (
    "population",
    "talent",
    "research",
    "transfer",
    "capital",
    "commercialization",
    "knowledge",
    "relocation",
    "growth",
    "deterrence",
    "world",
)
"""Scenario sections whose numeric parameters a screening may vary (not policy or outputs)."""

SectionName = Literal[SECTIONS]  # type: ignore[valid-type]

RUN_SETTINGS: frozenset[str] = frozenset({"seed", "steps", "scale", "start_year", "warmup_steps"})
"""Top-level scenario settings that say how a run is made; never estimated (``run:`` sets them)."""


class ScreenSettings(_Strict):
    """The Morris screening of ``flowsim calibrate FILE --screen``."""

    trajectories: int = Field(6, ge=2, le=200, description="Morris trajectories")
    levels: int = Field(4, ge=2, le=20, description="grid levels of each factor")
    spread: float = Field(
        0.5, gt=0.0, lt=1.0, description="factor range: default x (1 - spread) to x (1 + spread)"
    )
    sections: list[SectionName] = Field(
        default_factory=lambda: [
            "population",
            "talent",
            "research",
            "transfer",
            "capital",
            "commercialization",
        ],
        description="scenario sections whose numeric parameters are screened",
    )
    exclude: list[str] = Field(
        default_factory=lambda: [
            "population.city_multipliers",
            "population.field_shares",
            "research.grant_portability",
            "transfer.researcher_ownership",
            "capital.guidance_leverage",
        ],
        description="dotted paths (or prefixes) not screened: policy levers and data multipliers",
    )
    scale: float | None = Field(
        None, gt=0.0, le=2.0, description="agent scale of the screening runs (default: run.scale)"
    )
    replicates: int | None = Field(
        None, ge=1, le=100, description="replicates per design point (default: replicates)"
    )
    threshold: float = Field(
        0.25,
        gt=0.0,
        description="a parameter matters if its mu* moves some target by this many bands",
    )


class SearchSettings(_Strict):
    """The search of ``flowsim calibrate``."""

    budget: int = Field(60, ge=1, le=100_000, description="trials (parameter sets) to evaluate")
    batch: int | None = Field(None, ge=1, description="trials run at once (default: workers)")
    ensemble: int = Field(
        12, ge=1, le=10_000, description="most members of the ensemble of accepted sets"
    )
    method: Literal["tpe", "abc"] = Field(
        "tpe",
        description="tpe: Optuna's TPE optimiser, the ensemble is the accepted trials of lowest "
        "objective; abc: ABC rejection, every trial an independent draw from the free "
        "parameters' priors, the ensemble the accepted draws in draw order (a sample of the "
        "posterior, not of the optimum)",
    )


class TargetsFile(_Strict):
    """A whole targets file."""

    name: str = Field(
        min_length=1,
        max_length=100,
        description="a plain name (letters, digits, _ . -): it names the default output folder",
    )
    description: str = ""
    scenario: str = Field(min_length=1, description="scenario file, relative to this file")
    run: RunSettings = RunSettings()
    replicates: int = Field(3, ge=1, le=1000)
    seed: int = Field(20250904, ge=0, lt=2**63)
    free: dict[str, FreeParameter] = Field(default_factory=dict)
    priors: str | None = Field(
        None,
        min_length=1,
        description="a priors file (relative to this file) whose `priors:` are free too",
    )
    screen: ScreenSettings = ScreenSettings()
    search: SearchSettings = SearchSettings()
    targets: list[Target] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_ids(self) -> TargetsFile:
        seen: set[str] = set()
        for t in self.targets:
            if t.id in seen:
                raise ValueError(f"target id {t.id!r} is used twice; ids must be unique")
            seen.add(t.id)
        return self

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not _NAME.match(value) or ".." in value:
            raise ValueError(
                f"{value!r} is not a plain name: use letters, digits, _ . - (no '/', no '..', "
                "no spaces), since it names the default output folder "
                "results/calibration/<name>"
            )
        return value

    def of_role(self, role: str) -> list[Target]:
        """The targets with ``role`` (calibration or validation)."""
        return [t for t in self.targets if t.role == role]


class Targets:
    """A loaded targets file: the validated :class:`TargetsFile` and where it lives."""

    def __init__(self, spec: TargetsFile, path: Path, scenario: Scenario):
        self.spec = spec
        self.path = path
        self.scenario = scenario

    @property
    def scenario_path(self) -> Path:
        """The calibrated scenario file."""
        return (self.path.parent / self.spec.scenario).resolve()

    def base_scenario(self) -> Scenario:
        """The scenario with the file's run settings applied."""
        from flowsim.params import with_overrides

        settings = {k: v for k, v in self.spec.run.model_dump().items() if v is not None}
        return with_overrides(self.scenario, settings) if settings else self.scenario

    def free_names(self) -> list[str]:
        """Dotted paths of the free parameters, in file order."""
        return list(self.spec.free)


_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_PATH = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*(\.[A-Za-z_][A-Za-z0-9_\-]*)*$")


def numeric_paths(data: dict[str, Any], prefix: str = "") -> dict[str, float]:
    """Every numeric (non-boolean) leaf of a scenario dictionary, by dotted path."""
    out: dict[str, float] = {}
    for key, value in data.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            out.update(numeric_paths(value, path))
        elif isinstance(value, int | float) and not isinstance(value, bool):
            out[path] = float(value)
    return out


def _problem(loaded: LoadedYaml, path: tuple, message: str, hint: str | None = None) -> Problem:
    line, column = loaded.mark(path)
    return Problem(loaded.file, line, column, dotted(path), message, hint=hint)


def load_targets(path: str | Path) -> Targets:
    """Read and validate a targets file, and the scenario it names.

    Raises:
        ConfigError: every problem of the file, positioned; or the scenario's problems.
    """
    from flowsim.params import with_overrides
    from flowsim.scenario import load_scenario, scenario_dict

    path = Path(path)
    loaded = load_yaml(path)
    if not isinstance(loaded.data, dict) or not loaded.data:
        raise ConfigError(
            [
                _problem(
                    loaded,
                    (),
                    "a targets file must be a mapping with `name:`, `scenario:` and `targets:`",
                    hint="copy scenarios/calibration/targets.yaml and edit it",
                )
            ]
        )
    try:
        spec = TargetsFile.model_validate(loaded.data)
    except ValidationError as err:
        raise ConfigError(problems_from_validation(err, loaded, TargetsFile)) from None
    if not spec.of_role("calibration"):
        raise ConfigError(
            [
                _problem(
                    loaded,
                    ("targets",),
                    "no target has `role: calibration`: a calibration fits at least one",
                    hint="mark the figures to fit with `role: calibration` (the others are "
                    "held out with `role: validation`)",
                )
            ]
        )
    scenario_file = path.parent / spec.scenario
    if not scenario_file.exists():
        raise ConfigError(
            [
                _problem(
                    loaded,
                    ("scenario",),
                    f"{spec.scenario!r}: no such scenario file",
                    hint="the path is relative to the folder of the targets file",
                )
            ]
        )
    try:
        scenario = load_scenario(scenario_file)
    except ConfigError as err:
        head = _problem(
            loaded,
            ("scenario",),
            f"the scenario file {spec.scenario!r} cannot be used; its problems follow",
            hint=f"fix {scenario_file} (check it with `flowsim validate {scenario_file}`)",
        )
        raise ConfigError([head, *err.problems]) from None
    data = scenario_dict(scenario)
    leaves = numeric_paths(data)
    entries = [(name, bounds, loaded, ("free", name)) for name, bounds in spec.free.items()]
    if spec.priors is not None:
        prior_entries = _load_priors(loaded, path.parent / spec.priors, spec.free)
        entries += prior_entries
        spec = spec.model_copy(
            update={"free": {**spec.free, **{e[0]: e[1] for e in prior_entries}}}
        )
    problems = []
    for name, bounds, where, key in entries:
        if name.split(".")[0] in RUN_SETTINGS:
            problems.append(
                _problem(
                    where,
                    key,
                    f"{name!r} is a run setting, not a parameter to estimate",
                    hint="set it under `run:` (scale, steps, start_year, warmup_steps) or "
                    "`seed:`; `free:` takes behaviour parameters such as talent.move_rate",
                )
            )
            continue
        if _PATH.match(name) and name in leaves and isinstance(_leaf(data, name), int):
            problems.append(
                _problem(
                    where,
                    key,
                    f"{name!r} is a whole-number parameter; calibrate estimates real-valued "
                    "parameters only",
                    hint="fix it in the scenario, or vary it in a sweep (`flowsim sweep`)",
                )
            )
            continue
        if not _PATH.match(name) or name not in leaves:
            close = suggest(name, list(leaves))
            problems.append(
                _problem(
                    where,
                    key,
                    f"{name!r} is not a numeric parameter of the scenario",
                    hint=f"did you mean {close!r}?"
                    if close
                    else "`flowsim describe` lists the parameters",
                )
            )
            continue
        field = _field_limits(name)
        lo, hi = field
        if (lo is not None and bounds.low < lo) or (hi is not None and bounds.high > hi):
            problems.append(
                _problem(
                    where,
                    key,
                    f"bounds [{bounds.low}, {bounds.high}] leave the parameter's range",
                    hint=f"the parameter allows {lo if lo is not None else '-inf'} to "
                    f"{hi if hi is not None else 'inf'}",
                )
            )
            continue
        for end in (bounds.low, bounds.high):  # limits the field metadata does not show
            try:
                with_overrides(scenario, {name: end})
            except ValidationError as err:
                first = err.errors(include_url=False)[0]
                problems.append(
                    _problem(
                        where,
                        key,
                        f"bound {end} is not a value the parameter allows: "
                        f"{first['msg'].removeprefix('Value error, ')}",
                        hint="narrow `low:`/`high:` to the parameter's range "
                        "(`flowsim describe` shows its value and unit)",
                    )
                )
                break
    if problems:
        raise ConfigError(problems)
    return Targets(spec, path, scenario)


class PriorsFile(_Strict):
    """A priors file: the priors of parameters, each with its unit and source or reasoning."""

    description: str = ""
    priors: dict[str, FreeParameter] = Field(min_length=1)

    @model_validator(mode="after")
    def _noted(self) -> PriorsFile:
        for name, prior in self.priors.items():
            if len(prior.note) < 10:
                raise ValueError(
                    f"prior of {name!r}: `note:` must give its source or reasoning "
                    "(at least a sentence)"
                )
        return self


def _load_priors(
    targets_yaml: LoadedYaml, file: Path, free: dict[str, FreeParameter]
) -> list[tuple[str, FreeParameter, LoadedYaml, tuple]]:
    """The entries of a priors file, as (name, prior, its YAML, key path).

    Raises:
        ConfigError: the file is missing or invalid, or names a parameter `free:` names too.
    """
    if not file.is_file():
        raise ConfigError(
            [
                _problem(
                    targets_yaml,
                    ("priors",),
                    f"{str(file)!r}: no such priors file",
                    hint="the path is relative to the folder of the targets file",
                )
            ]
        )
    loaded = load_yaml(file)
    try:
        spec = PriorsFile.model_validate(loaded.data if isinstance(loaded.data, dict) else {})
    except ValidationError as err:
        raise ConfigError(problems_from_validation(err, loaded, PriorsFile)) from None
    twice = [
        _problem(
            loaded,
            ("priors", name),
            f"{name!r} has a prior here and in the targets file's `free:`",
            hint="give each parameter one prior: remove one of the two",
        )
        for name in spec.priors
        if name in free
    ]
    if twice:
        raise ConfigError(twice)
    return [(name, prior, loaded, ("priors", name)) for name, prior in spec.priors.items()]


def load_priors(path: str | Path) -> dict[str, FreeParameter]:
    """Read and validate a priors file on its own (its names are checked by the targets file).

    Raises:
        ConfigError: every problem of the file, positioned.
    """
    loaded = load_yaml(Path(path))
    try:
        spec = PriorsFile.model_validate(loaded.data if isinstance(loaded.data, dict) else {})
    except ValidationError as err:
        raise ConfigError(problems_from_validation(err, loaded, PriorsFile)) from None
    return dict(spec.priors)


def _leaf(data: dict[str, Any], path: str) -> Any:
    for part in path.split("."):
        data = data[part]
    return data


def _field_limits(path: str) -> tuple[float | None, float | None]:
    """(lowest, highest) value the parameter at ``path`` allows (None: unbounded)."""
    import annotated_types

    model: Any = Scenario
    info = None
    for part in path.split("."):
        fields = model.model_fields
        info = next((f for n, f in fields.items() if part in (n, f.alias)), None)
        if info is None:
            return None, None
        if isinstance(info.annotation, type) and issubclass(info.annotation, BaseModel):
            model = info.annotation
    lo = hi = None
    for meta in info.metadata if info is not None else []:
        if isinstance(meta, annotated_types.Ge | annotated_types.Gt):
            lo = float(getattr(meta, "ge", getattr(meta, "gt", 0.0)))
        if isinstance(meta, annotated_types.Le | annotated_types.Lt):
            hi = float(getattr(meta, "le", getattr(meta, "lt", 0.0)))
    return lo, hi


__all__ = [
    "FLOW_MEASURES",
    "ROLES",
    "RUN_SETTINGS",
    "LEVELS",
    "SECTIONS",
    "STATISTICS",
    "Source",
    "FlowSelector",
    "LINK_MEASURES",
    "LinkSelector",
    "FreeParameter",
    "Target",
    "Targets",
    "TargetsFile",
    "field_limits",
    "known_outputs",
    "PriorsFile",
    "load_priors",
    "load_targets",
    "numeric_paths",
]

field_limits = _field_limits

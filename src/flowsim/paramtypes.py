"""The shared building blocks of the parameter classes, below the mechanisms.

The frozen base model every parameter class derives from, the field helpers
(:func:`_share`, :func:`_positive`, :func:`_nonneg`), the per-field, per-jurisdiction
and per-city value models (:class:`ByField`, :class:`ByJurisdiction`, :class:`ByCity`),
and the border-control policy (:class:`Policy` and its parts, :class:`Response`,
:class:`Deterrence`), which belongs to :mod:`flowsim.policy`, a tool, not to a mechanism.

Each mechanism module declares its own parameter class from these (e.g.
:class:`flowsim.mechanisms.talent.TalentParams`); :mod:`flowsim.params` composes them
into the :class:`~flowsim.params.Scenario` and re-exports every name defined here. This
module imports only pydantic, the standard library and :mod:`flowsim.geography`, so
the world and the tools may use it without importing a mechanism.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from flowsim.geography import (
    ALL_CORRIDORS,
    CITIES,
    ELEMENTS,
    EXTERNALS,
    FIELDS,
    ZONES,
)


class _Frozen(BaseModel):
    # allow_inf_nan=False: an infinite delay or a NaN share would run silently wrong
    model_config = ConfigDict(
        frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False
    )


def _share(default: float, doc: str) -> Any:
    return Field(default, ge=0.0, le=1.0, description=doc)


def _positive(default: float, doc: str) -> Any:
    return Field(default, gt=0.0, description=doc)


def _nonneg(default: float, doc: str) -> Any:
    return Field(default, ge=0.0, description=doc)


# --------------------------------------------------------------------------- policy


class Friction(_Frozen):
    """Border friction for one corridor and one element."""

    delay_days: float = _nonneg(0.0, "mean delay of a crossing [days]")
    approval: float = _share(1.0, "probability a crossing is approved [0-1]")
    cost: float = _nonneg(0.0, "cost of one crossing [thousand yuan]")
    quota: float | None = Field(
        None, ge=0.0, description="most crossings approved per month, real-world units; null = none"
    )


class FrictionOverride(_Frozen):
    """A zone's override of some friction fields; a missing field keeps the corridor's value."""

    delay_days: float | None = Field(None, ge=0.0, description="mean delay [days]")
    approval: float | None = Field(None, ge=0.0, le=1.0, description="approval probability")
    cost: float | None = Field(None, ge=0.0, description="cost per crossing [thousand yuan]")
    quota: float | None = Field(None, ge=0.0, description="monthly quota, real-world units")


class CorridorPolicy(_Frozen):
    """Friction of one corridor for each of the four elements."""

    talent: Friction = Friction()
    capital: Friction = Friction()
    data: Friction = Friction()
    samples: Friction = Friction()


class ZonePolicy(_Frozen):
    """Overrides that apply to agents located in a zone, on the corridors the zone covers."""

    talent: FrictionOverride = FrictionOverride()
    capital: FrictionOverride = FrictionOverride()
    data: FrictionOverride = FrictionOverride()
    samples: FrictionOverride = FrictionOverride()
    grant_portability: float | None = Field(
        None,
        ge=0.0,
        le=1.0,
        description="probability a mainland grant of a lab project led from the zone may be spent "
        "across the border; null = the region's research.grant_portability",
    )


# Baseline frictions: the pre-reform state (about 2019-2022). Sources / assumptions:
# talent: two-way permits and HK/Macao work visas take days to weeks; most researcher
#   trips are approved (assumption). Samples: ~20 days clearance (Our Hong Kong
#   Foundation 2020). Data: mainland export needs a security assessment (45 working
#   days in the CAC measures, 2022) and most research data is not exported
#   (approval is an assumption). Capital: mainland research grants largely cannot be
#   spent outside the mainland before the Hetao pilot; FX filings take days.
_MAINLAND_BORDER: dict[str, tuple[float, float, float]] = {
    "talent": (7.0, 0.85, 2.0),
    "capital": (10.0, 0.5, 1.5),
    "data": (60.0, 0.3, 50.0),
    "samples": (20.0, 0.7, 5.0),
}
"""Guangdong's border with Hong Kong and with Macao (and the rest of the mainland's)."""

# External borders (docs/open_region.md). The rest of the mainland meets Hong Kong and Macao
# at the same kind of border as Guangdong does (the baseline tables above; a scenario's
# change to policy.corridors does not carry over: set policy.external or write a rule).
# The rest of the world meets each jurisdiction at an international border. Sources /
# assumptions: talent -- Hong Kong's employment visas for professionals take about 4 weeks
# (Immigration Department, "General Employment Policy", 2023), mainland work permits for
# foreigners about 15 working days (State Administration of Foreign Experts Affairs, 2017
# guide; ~20 days); approvals assumed as the mainland corridor's. Capital -- outbound
# investment from the mainland needs ODI filings (NDRC, MOFCOM, SAFE; 2017 measures),
# assumed as strict as the GD-HK corridor and slower (30 days); Hong Kong and Macao have
# free capital movement (assumption: 2 days, approval 0.95-0.98). Data -- the model treats
# GD-HK data as one hard border both ways (60 days, approval 0.3, after the CAC Measures for
# Security Assessment of Outbound Data Transfers, 2022); an international border is assumed
# no easier for Guangdong (the mainland's rules treat Hong Kong and Macao like abroad, and the
# Bay Area's facilitation measures favour them): approval 0.25, 60 days, cost 50. Hong Kong's
# PDPO section 33 transfer restriction is not in force (PCPD 2022), assumption 7 days,
# approval 0.9. Samples -- biological "special
# articles" entering the mainland need a customs health-quarantine approval (GACC
# Administrative Provisions on Special Articles, 2015), assumption 30 days, approval 0.7;
# customs and permits in Hong Kong and Macao, assumption 10 days, approval 0.9.
BASELINE_FRICTION: dict[str, dict[str, tuple[float, float, float]]] = {
    "GD-HK": _MAINLAND_BORDER,
    "GD-MO": _MAINLAND_BORDER,
    "HK-MO": {
        "talent": (2.0, 0.95, 1.0),
        "capital": (2.0, 0.95, 0.5),
        "data": (14.0, 0.7, 10.0),
        "samples": (5.0, 0.9, 2.0),
    },
    "CN-HK": _MAINLAND_BORDER,
    "CN-MO": _MAINLAND_BORDER,
    "ROW-GD": {
        "talent": (20.0, 0.85, 3.0),
        "capital": (30.0, 0.5, 5.0),
        "data": (60.0, 0.25, 50.0),
        "samples": (30.0, 0.7, 8.0),
    },
    "ROW-HK": {
        "talent": (28.0, 0.9, 2.0),
        "capital": (2.0, 0.98, 0.5),
        "data": (7.0, 0.9, 5.0),
        "samples": (10.0, 0.9, 3.0),
    },
    "ROW-MO": {
        "talent": (28.0, 0.9, 2.0),
        "capital": (2.0, 0.95, 0.5),
        "data": (14.0, 0.8, 10.0),
        "samples": (10.0, 0.9, 3.0),
    },
}
"""Default friction of every corridor (sources above): per element, (delay_days [days],
approval [0-1], cost [thousand yuan]) of one crossing; no quota."""


def _default(corridor: str) -> Callable[[], CorridorPolicy]:
    """The default factory of ``corridor``'s friction (:data:`BASELINE_FRICTION`)."""

    def make() -> CorridorPolicy:
        return CorridorPolicy(
            **{
                element: Friction(delay_days=delay, approval=approval, cost=cost)
                for element, (delay, approval, cost) in BASELINE_FRICTION[corridor].items()
            }
        )

    return make


class _CorridorTable(_Frozen):
    """Friction per corridor; a field per corridor, aliased by its name (``GD-HK``)."""

    def for_corridor(self, name: str) -> CorridorPolicy:
        """The policy of the corridor called ``name`` (e.g. ``"GD-HK"``, ``"ROW-HK"``)."""
        return getattr(self, name.lower().replace("-", "_"))


class Corridors(_CorridorTable):
    """Friction on each of the three border corridors."""

    gd_hk: CorridorPolicy = Field(default_factory=_default("GD-HK"), alias="GD-HK")
    gd_mo: CorridorPolicy = Field(default_factory=_default("GD-MO"), alias="GD-MO")
    hk_mo: CorridorPolicy = Field(default_factory=_default("HK-MO"), alias="HK-MO")


class ExternalBorders(_CorridorTable):
    """Friction on the borders between the external places and the Bay Area.

    No border between the rest of the mainland (CN) and Guangdong; CN-HK and CN-MO default to
    the baseline GD-HK and GD-MO corridors; ROW-GD, ROW-HK and ROW-MO are international
    borders with their own defaults.
    """

    cn_hk: CorridorPolicy = Field(default_factory=_default("CN-HK"), alias="CN-HK")
    cn_mo: CorridorPolicy = Field(default_factory=_default("CN-MO"), alias="CN-MO")
    row_gd: CorridorPolicy = Field(default_factory=_default("ROW-GD"), alias="ROW-GD")
    row_hk: CorridorPolicy = Field(default_factory=_default("ROW-HK"), alias="ROW-HK")
    row_mo: CorridorPolicy = Field(default_factory=_default("ROW-MO"), alias="ROW-MO")


class Zones(_Frozen):
    """Overrides for agents in each cooperation zone (baseline: none)."""

    Hetao: ZonePolicy = ZonePolicy()
    Qianhai: ZonePolicy = ZonePolicy()
    Hengqin: ZonePolicy = ZonePolicy()
    Nansha: ZonePolicy = ZonePolicy()


DATA_CATEGORIES: tuple[str, ...] = ("research", "medical", "financial", "transport")
"""Categories of data a project may ask for across a border (the data pilots' categories)."""

SAMPLE_KINDS: tuple[str, ...] = ("biological", "chemical", "equipment")
"""Kinds of research samples: biological (cells, tissue, genetic resources), chemical
(reagents, materials), equipment (instruments, parts)."""

EMPLOYER_KINDS: tuple[str, ...] = ("lab", "firm")
"""Employer kinds, in the order of the researchers' ``employer_kind`` column."""

DIRECTIONS: tuple[str, ...] = tuple(
    f"{a}->{b}" for c in ALL_CORRIDORS for a, b in (c.split("-"), c.split("-")[::-1])
)
"""Directions of crossing: origin jurisdiction -> destination jurisdiction (the external
places' too, e.g. ``ROW->HK``)."""

ElementName = Literal[ELEMENTS]
FieldName = Literal[FIELDS]
CategoryName = Literal[DATA_CATEGORIES]
KindName = Literal[SAMPLE_KINDS]
PlaceName = Literal[CITIES + ZONES + EXTERNALS]
ZoneName = Literal[ZONES]
CityName = Literal[CITIES]

RULE_SELECTORS: tuple[str, ...] = (
    "element",
    "corridor",
    "direction",
    "field",
    "category",
    "kind",
    "employer",
    "from",
    "to",
    "zone",
    "whitelist",
)
"""Keys by which a rule selects flows (docs/rules.md); each key set adds one to its
specificity, ``direction`` two (it implies its corridor)."""


class Rule(_Frozen):
    """A border rule: which flows it selects, and the friction it sets for them.

    An unset selector selects everything; a list selects any of its values. An unset
    friction value is left to the less specific rules (finally the corridor's baseline).
    """

    name: str | None = Field(None, description="a label for the rule, shown by flowsim describe")
    element: ElementName | list[ElementName] | None = Field(None, description="elements")
    corridor: Literal[ALL_CORRIDORS] | None = Field(
        None,
        description="border corridor (an external one, e.g. ROW-HK, selects flows to or from "
        "the rest of the mainland or the world; docs/open_region.md)",
    )
    direction: Literal[DIRECTIONS] | None = Field(
        None, description="origin jurisdiction -> destination jurisdiction, e.g. GD->HK"
    )
    field: FieldName | list[FieldName] | None = Field(None, description="research fields")
    category: CategoryName | list[CategoryName] | None = Field(
        None, description="data categories (element: data only)"
    )
    kind: KindName | list[KindName] | None = Field(
        None, description="sample kinds (element: samples only)"
    )
    employer: Literal[EMPLOYER_KINDS] | None = Field(
        None, description="employer kind of the acting agent (lab or firm)"
    )
    from_: PlaceName | list[PlaceName] | None = Field(
        None, alias="from", description="origin cities, zones or external places (CN, ROW)"
    )
    to: PlaceName | list[PlaceName] | None = Field(
        None, description="destination cities, zones or external places (CN, ROW)"
    )
    zone: ZoneName | list[ZoneName] | None = Field(
        None, description="zone the acting agent is located in (as policy.zones)"
    )
    whitelist: str | None = Field(
        None, description="name of a list in policy.whitelists the acting agent belongs to"
    )
    approval: float | None = Field(None, ge=0.0, le=1.0, description="approval probability")
    delay_days: float | None = Field(None, ge=0.0, description="mean delay [days]")
    cost: float | None = Field(None, ge=0.0, description="cost per crossing [thousand yuan]")
    quota: float | None = Field(
        None, ge=0.0, description="most crossings this rule approves per month, real-world units"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if all(getattr(self, q) is None for q in ("approval", "delay_days", "cost", "quota")):
            raise ValueError("a rule sets none of approval, delay_days, cost, quota; set one")
        elements = self.elements()
        if self.category is not None and elements != ("data",):
            raise ValueError("category selects data only: add `element: data` to the rule")
        if self.kind is not None and elements != ("samples",):
            raise ValueError("kind selects samples only: add `element: samples` to the rule")
        if self.corridor is not None and self.direction is not None:
            a, b = self.direction.split("->")
            if {a, b} != set(self.corridor.split("-")):
                raise ValueError(
                    f"direction {self.direction} is not on corridor {self.corridor}; "
                    "drop one of them (a direction implies its corridor)"
                )
        return self

    def elements(self) -> tuple[str, ...] | None:
        """The selected elements (None: every element)."""
        return _as_tuple(self.element)

    def selectors(self) -> tuple[str, ...]:
        """The selector keys this rule sets, as written in YAML."""
        return tuple(
            k for k in RULE_SELECTORS if getattr(self, "from_" if k == "from" else k) is not None
        )

    def external(self) -> bool:
        """Whether the rule names an external corridor, direction or place.

        A rule that names none selects the Bay Area's own borders only, as before the open
        region.
        """
        named = [
            self.corridor,
            self.direction,
            *(_as_tuple(self.from_) or ()),
            *(_as_tuple(self.to) or ()),
        ]
        return any(
            v is not None and any(x in v.replace("->", "-").split("-") for x in EXTERNALS)
            for v in named
        )

    def specificity(self) -> int:
        """Number of selector keys set; ``direction`` counts two (it implies its corridor)."""
        keys = self.selectors()
        return len(keys) + ("direction" in keys and "corridor" not in keys)


def _as_tuple(value: Any) -> tuple | None:
    if value is None:
        return None
    return tuple(value) if isinstance(value, list) else (value,)


class Whitelist(_Frozen):
    """A named list of labs or firms (e.g. the research-materials white list's institutions).

    Members are the agents of ``employer`` kind in ``cities`` and ``fields``, then either the
    ``top`` largest of them (labs by budget, firms by staff; real-world count, scaled) or a
    random ``share`` of them, drawn when the policy is compiled from a stream of the list's
    own. Researchers belong through their employer.
    """

    employer: Literal[EMPLOYER_KINDS] = Field("lab", description="kind of agent on the list")
    cities: CityName | list[CityName] | None = Field(None, description="cities; null = all")
    fields: FieldName | list[FieldName] | None = Field(None, description="fields; null = all")
    share: float = _share(1.0, "share of the eligible agents on the list [0-1]")
    top: int | None = Field(
        None,
        ge=1,
        description="the largest N eligible agents (real-world count, scaled, at least 1); "
        "null = a random share",
    )


class Policy(_Frozen):
    """Border-friction policy: corridor x element (the default), zone overrides, and rules."""

    corridors: Corridors = Corridors()
    external: ExternalBorders = Field(
        default_factory=ExternalBorders,
        description="friction on the borders with the rest of the mainland (CN) and the rest "
        "of the world (ROW) (docs/open_region.md)",
    )
    zones: Zones = Zones()
    rules: list[Rule] = Field(
        default_factory=list,
        description="border rules with selectors; the most specific matching rule wins "
        "(docs/rules.md) [rules] (scenario lever; none in the baseline)",
    )
    whitelists: dict[str, Whitelist] = Field(
        default_factory=dict,
        description="named lists of labs or firms that rules can select [lists] (scenario "
        "lever; none in the baseline)",
    )

    @model_validator(mode="after")
    def _known_lists(self) -> Policy:
        if len(self.whitelists) > 62:
            raise ValueError("at most 62 whitelists")
        for i, rule in enumerate(self.rules):
            if rule.whitelist is not None and rule.whitelist not in self.whitelists:
                known = ", ".join(sorted(self.whitelists)) or "none defined"
                raise ValueError(
                    f"rules[{i}] selects whitelist {rule.whitelist!r}, which policy.whitelists "
                    f"does not define (defined: {known})"
                )
        return self


# --------------------------------------------------------------------------- values


class ByField(_Frozen):
    """One value per research field."""

    biomedicine: float = Field(0.0, ge=0.0)
    ict: float = Field(0.0, ge=0.0)
    ai_data: float = Field(0.0, ge=0.0)
    advanced_manufacturing: float = Field(0.0, ge=0.0)
    new_materials: float = Field(0.0, ge=0.0)
    energy_environment: float = Field(0.0, ge=0.0)

    def as_array(self) -> list[float]:
        """Values in the order of :data:`FIELDS`."""
        return [getattr(self, f) for f in FIELDS]


class ByJurisdiction(_Frozen):
    """One value per jurisdiction."""

    GD: float = Field(0.0, ge=0.0)
    HK: float = Field(0.0, ge=0.0)
    MO: float = Field(0.0, ge=0.0)

    def as_array(self) -> list[float]:
        """Values in the order GD, HK, MO."""
        return [self.GD, self.HK, self.MO]


def _multiplier(city: str) -> Any:
    return Field(
        1.0,
        ge=0.0,
        alias=city,
        description=f"multiplier of {city}'s initial agents [factor] (scenario lever; 1 = the "
        f"city figures)",
    )


class ByCity(_Frozen):
    """One multiplier per city; YAML keys are the names in :data:`~flowsim.geography.CITIES`."""

    guangzhou: float = _multiplier("Guangzhou")
    shenzhen: float = _multiplier("Shenzhen")
    zhuhai: float = _multiplier("Zhuhai")
    foshan: float = _multiplier("Foshan")
    huizhou: float = _multiplier("Huizhou")
    dongguan: float = _multiplier("Dongguan")
    zhongshan: float = _multiplier("Zhongshan")
    jiangmen: float = _multiplier("Jiangmen")
    zhaoqing: float = _multiplier("Zhaoqing")
    hong_kong: float = _multiplier("Hong Kong")
    macao: float = _multiplier("Macao")

    def as_array(self) -> list[float]:
        """Values in the order of :data:`~flowsim.geography.CITIES`."""
        return [getattr(self, name) for name in type(self).model_fields]


# --------------------------------------------------------------------------- deterrence


class Response(_Frozen):
    """How strongly one element's flows are deterred by a border and its friction."""

    border_effect: float = _share(
        0.5,
        "residual weight of a cross-border destination beyond policy friction (assumption; "
        "border effects in knowledge flows: Peri 2005, Li 2014)",
    )
    cost_scale: float = _positive(
        10.0, "cost at which a crossing's pull falls by e [thousand yuan] (assumption)"
    )
    delay_scale_days: float = _positive(
        30.0, "delay at which a crossing's pull falls by e [days] (assumption)"
    )


class Deterrence(_Frozen):
    """One response to border friction per element (v1 shared talent's for every element)."""

    talent: Response = Response()
    capital: Response = Response(border_effect=0.5, cost_scale=10.0, delay_scale_days=30.0)
    data: Response = Response(border_effect=1.0, cost_scale=50.0, delay_scale_days=60.0)
    samples: Response = Response(border_effect=1.0, cost_scale=20.0, delay_scale_days=30.0)

    def for_element(self, element: str) -> Response:
        """The response of ``element`` (``"talent"``, ``"capital"``, ``"data"``, ``"samples"``)."""
        return getattr(self, element)

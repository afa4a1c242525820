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

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flowsim.geography import FIELDS


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
def _gd_hk() -> CorridorPolicy:
    return CorridorPolicy(
        talent=Friction(delay_days=7.0, approval=0.85, cost=2.0),
        capital=Friction(delay_days=10.0, approval=0.5, cost=1.5),
        data=Friction(delay_days=60.0, approval=0.3, cost=50.0),
        samples=Friction(delay_days=20.0, approval=0.7, cost=5.0),
    )


def _gd_mo() -> CorridorPolicy:
    return CorridorPolicy(
        talent=Friction(delay_days=7.0, approval=0.85, cost=2.0),
        capital=Friction(delay_days=10.0, approval=0.5, cost=1.5),
        data=Friction(delay_days=60.0, approval=0.3, cost=50.0),
        samples=Friction(delay_days=20.0, approval=0.7, cost=5.0),
    )


def _hk_mo() -> CorridorPolicy:
    return CorridorPolicy(
        talent=Friction(delay_days=2.0, approval=0.95, cost=1.0),
        capital=Friction(delay_days=2.0, approval=0.95, cost=0.5),
        data=Friction(delay_days=14.0, approval=0.7, cost=10.0),
        samples=Friction(delay_days=5.0, approval=0.9, cost=2.0),
    )


class Corridors(_Frozen):
    """Friction on each of the three border corridors."""

    gd_hk: CorridorPolicy = Field(default_factory=_gd_hk, alias="GD-HK")
    gd_mo: CorridorPolicy = Field(default_factory=_gd_mo, alias="GD-MO")
    hk_mo: CorridorPolicy = Field(default_factory=_hk_mo, alias="HK-MO")

    def for_corridor(self, name: str) -> CorridorPolicy:
        """The policy of the corridor called ``name`` (e.g. ``"GD-HK"``)."""
        return getattr(self, name.lower().replace("-", "_"))


class Zones(_Frozen):
    """Overrides for agents in each cooperation zone (baseline: none)."""

    Hetao: ZonePolicy = ZonePolicy()
    Qianhai: ZonePolicy = ZonePolicy()
    Hengqin: ZonePolicy = ZonePolicy()
    Nansha: ZonePolicy = ZonePolicy()


class Policy(_Frozen):
    """Border-friction policy: corridor x element, and zone overrides."""

    corridors: Corridors = Corridors()
    zones: Zones = Zones()


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

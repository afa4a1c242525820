"""Every model parameter and policy lever, with its default, unit and source.

This is the one place where defaults live. A scenario file (see
:mod:`flowsim.scenario`) is validated into a :class:`Scenario`; the model reads
nothing else. Every object is immutable (pydantic ``frozen``) and rejects
unknown keys, so a misspelt lever is an error, never a silently ignored value.

Units: money in million yuan (RMB m) unless a field says otherwise; rates per
agent per month; delays in days; shares and probabilities in [0, 1].
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from flowsim.geography import CORRIDORS, ELEMENTS, FIELDS, ZONES


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


# --------------------------------------------------------------------------- behaviour


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


class KnowledgeParams(_Frozen):
    """Knowledge stocks per city x field: accumulation, depreciation, spillovers, productivity."""

    depreciation_per_year: float = _share(
        0.15,
        "share of a knowledge stock lost each year (Hall, Mairesse & Mohnen 2010: 15% is the "
        "conventional R&D-capital depreciation rate)",
    )
    halving_km: float = _positive(
        1200.0, "distance at which a spillover halves [km] (Keller 2002: ~1,200 km)"
    )
    outside_city: float = _share(
        0.05,
        "weight of another city's knowledge, at zero distance, relative to the own city's "
        "(calibrated: with the initial stocks, 20% of accessible knowledge lies outside the "
        "learner's city, as Peri 2005 finds outside the region)",
    )
    outside_jurisdiction: float = _share(
        0.3,
        "further weight of knowledge across a border, relative to the same distance at home "
        "(assumption: national borders cut knowledge flows by ~70%, Peri 2005 and Li 2014 "
        "border effects)",
    )
    elasticity: float = _nonneg(
        0.2,
        "elasticity of research output to the accessible knowledge stock relative to the start "
        "(assumption; knowledge-production-function elasticities of 0.1-0.3 for external "
        "knowledge, Jaffe 1986, Griliches 1992)",
    )
    link_transfer: float = _share(
        0.5,
        "share of a collaboration's output that also enters the partner city's stock, and of a "
        "licensed invention that enters the licensee city's (assumption: co-authors and "
        "licensees learn, whole counting)",
    )
    per_researcher: float = _positive(
        2.6,
        "initial knowledge per unit of researcher skill [knowledge units: papers and inventions "
        "of unit quality] (calibrated: the stock the baseline's output sustains at 15% a year)",
    )


class TalentParams(_Frozen):
    """Job moves, visits and the gravity model of where researchers go."""

    move_rate: float = _share(
        0.01171,
        "job moves per researcher per month ("
        "calibrated on model v2, scenarios/calibration/targets.yaml; "
        "hand value 0.01, assumption: ~12%/year)",
    )
    visit_rate: float = _share(0.03, "visits to another city per researcher per month (assumption)")
    distance_decay_minutes: float = Field(
        66.98,
        ge=1.0,
        le=100_000.0,
        description="travel time at which a city's pull falls by e [min] (calibrated on model "
        "v2, scenarios/calibration/targets.yaml; hand value 45, assumption; at least "
        "1 minute, below which every city's pull underflows to zero)",
    )
    opportunity_elasticity: float = _nonneg(
        2.0,
        "elasticity of a destination's pull for job moves to its research productivity relative "
        "to the start (assumption: researchers move toward better opportunity; 0 = moves keep "
        "every city's share)",
    )
    visit_tie_months: float = _positive(
        12.0, "months a visit keeps a researcher's cross-city tie active (assumption)"
    )


class ResearchParams(_Frozen):
    """Research projects: who starts them, what they need, what they produce."""

    project_rate_lab: float = _share(
        0.006708,
        "projects started per lab researcher per month (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 0.01, assumption)",
    )
    project_rate_firm: float = _share(
        0.004182,
        "projects started per firm researcher per month (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 0.003, assumption)",
    )
    duration_months: float = _positive(18.0, "mean project duration [months] (assumption)")
    collaboration_prob: float = _share(
        0.3415,
        "probability a project recruits an external collaborator, in its own city or another "
        "(calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 0.5, "
        "assumption: about half of projects have a partner outside the PI's employer)",
    )
    tie_memory_months: int = Field(
        60,
        ge=0,
        le=600,
        description="months a collaboration tie lasts without a new joint project; a PI "
        "weighs its prior partner only within them [months] (assumption: the 5-year windows "
        "in which co-authorship networks are usually built, e.g. Newman 2001 PNAS 98:404; "
        "without a lapse, ties to partners who moved away pile up and the same-city share of "
        "collaborations sank by 6 points over the reported years)",
    )
    partner_candidates: int = Field(
        4,
        ge=1,
        le=16,
        description="partners a PI considers before choosing one [candidates] (assumption)",
    )
    same_city_factor: float = _nonneg(
        5.0,
        "extra pull of candidate partners in the PI's own city [factor] (Jaffe, Trajtenberg & "
        "Henderson 1993: citations 5-10x likelier from the same metro area)",
    )
    collab_decay_minutes: float = _positive(
        60.0,
        "travel time at which the pull of a candidate partner's city falls by e [min] (assumption)",
    )
    tie_value: float = _nonneg(
        1.5,
        "extra value of a prior partner over a new one [factor] (assumption: trust and lower "
        "search costs make repeat collaboration common)",
    )
    capability_elasticity: float = _nonneg(
        1.0,
        "elasticity of a partner's capability to the knowledge density of its city x field "
        "(assumption)",
    )
    collaboration_gain: float = _nonneg(
        0.1777,
        "extra output of a project per unit of its partner's relative capability (calibrated "
        "on model v2, scenarios/calibration/targets.yaml; hand value 0.3, assumption: team "
        "papers are more cited, Wuchty, Jones & Uzzi 2007)",
    )
    tie_collaboration_boost: float = _nonneg(
        1.0, "extra collaboration odds for a PI with an active visit tie (assumption)"
    )
    papers_per_project_lab: float = _nonneg(
        2.585,
        "mean papers per lab project (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 2.0)",
    )
    papers_per_project_firm: float = _nonneg(
        0.2595,
        "mean papers per firm project (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 0.2, assumption)",
    )
    inventions_per_project_lab: float = _nonneg(0.8, "mean inventions per lab project (assumption)")
    inventions_per_project_firm: float = _nonneg(
        7.388,
        "mean inventions per firm project (calibrated on model v2, "
        "scenarios/calibration/targets.yaml; hand value 7.0)",
    )
    cross_border_bonus: float = _nonneg(
        0.2,
        "extra output of a team spanning two jurisdictions (assumption: recombination of "
        "knowledge)",
    )
    data_need: ByField = Field(
        default_factory=lambda: ByField(
            biomedicine=0.5,
            ict=0.3,
            ai_data=0.8,
            advanced_manufacturing=0.2,
            new_materials=0.1,
            energy_environment=0.3,
        ),
        description="probability a project in each field needs an external dataset (assumption)",
    )
    samples_need: ByField = Field(
        default_factory=lambda: ByField(
            biomedicine=0.6,
            ict=0.042,
            ai_data=0.0,
            advanced_manufacturing=0.1,
            new_materials=0.3,
            energy_environment=0.15,
        ),
        description="probability a project in each field needs external research samples "
        "(assumption; ict calibrated on model v2, scenarios/calibration/targets.yaml, hand "
        "value 0.05)",
    )
    collaborator_source_prob: float = _share(
        0.7,
        "probability that a project with a collaborator across a border can source its data or "
        "samples from the collaborator's city (assumption)",
    )
    refused_stop_prob: float = _share(
        0.5,
        "probability a project whose data or samples are refused stops (else it goes on weakened)",
    )
    abandon_rate_waiting: float = _share(
        0.05,
        "probability per month of waiting for data or samples that a project is abandoned "
        "(assumption: competitors publish first, funding windows lapse)",
    )
    input_choice_sensitivity: float = _nonneg(
        2.0,
        "logit sensitivity of the choice between the best source across a border (quality x "
        "expected deterrence) and the best domestic one (assumption)",
    )
    substitution_elasticity: float = _nonneg(
        1.0,
        "elasticity of a project's output to the quality of the data or samples it uses, "
        "relative to the best available anywhere (assumption)",
    )
    input_decay_minutes: float = _positive(
        45.0, "travel time at which a source city's pull for inputs falls by e [min] (assumption)"
    )
    refusal_delay_months: float = _nonneg(
        2.0,
        "months a refused request costs a project before it works with a domestic substitute "
        "(assumption)",
    )
    mainland_grant_share: float = _share(
        0.6, "share of mainland lab projects funded by mainland grants (assumption)"
    )
    grant_portability: float = _share(
        0.0,
        "probability a mainland grant may be spent across the border (0 before the Hetao pilot; "
        "lever)",
    )
    self_funded_collaboration: float = _share(
        0.5, "probability an unfunded cross-border collaborator joins anyway (assumption)"
    )
    patent_prob: float = _share(
        0.6123,
        "probability an invention is filed as an invention patent ("
        "calibrated on model v2, scenarios/calibration/targets.yaml; "
        "hand value 0.9, assumption)",
    )
    pct_prob: ByJurisdiction = Field(
        default_factory=lambda: ByJurisdiction(GD=0.09514, HK=0.2116, MO=0.11),
        description="probability an invention patent is also filed under the PCT (GD "
        "calibrated on model v2, scenarios/calibration/targets.yaml, hand value 0.075; HK "
        "calibrated to 0.1644, then re-set by hand to 0.2116 = 0.1644 x 646 / 502 after the "
        "stationary baseline of issue 10 lowered Hong Kong's filings to 502 a year, scale 0.1 "
        "x 8 replicates; MO set by hand to CNIPA 2023)",
    )


class TransferParams(_Frozen):
    """Licences and spin-offs of lab inventions."""

    licence_rate: float = _share(0.02, "licences per lab invention per month (assumption)")
    spinoff_rate: float = _share(0.003, "spin-offs per lab invention per month (assumption)")
    researcher_ownership: float = _share(
        0.0, "share of labs where researchers own their results (negative-list reform; lever)"
    )
    ownership_spinoff_multiplier: float = _nonneg(
        3.0, "spin-off rate multiplier where researchers own results (assumption)"
    )
    invention_expiry_months: float = _positive(
        60.0, "mean months before an unused lab invention is abandoned (assumption)"
    )
    licence_fee_mean: float = _nonneg(1.0, "mean licence fee [RMB m] (assumption)")


class CapitalParams(_Frozen):
    """Venture capital, guidance funds and fundraising."""

    seek_rate_startup: float = _share(
        0.005, "funding rounds sought per start-up per month (calibrated to the GII VC-deal share)"
    )
    seek_rate_growth: float = _share(
        0.001, "funding rounds sought per growth firm per month (assumption)"
    )
    seek_rate_waiting: float = _share(
        0.01,
        "funding rounds sought per month by a firm whose development waits for money (assumption)",
    )
    round_size_startup: float = _positive(15.0, "mean start-up round [RMB m] (assumption)")
    round_size_growth: float = _positive(80.0, "mean growth round [RMB m] (assumption)")
    round_size_sigma: float = _nonneg(1.0, "sigma of the lognormal round size (assumption)")
    home_bias: float = _nonneg(
        3.0, "extra weight of investors in the firm's own city (assumption: VC local bias)"
    )
    fundraise_rate: float = _nonneg(
        1.0,
        "money raised per yuan invested over the last 12 months when the region's dry powder is "
        "at its target (population.dry_powder_years of investment) [yuan per yuan]; scaled by "
        "target / held, up to 3x (assumption: managers raise follow-on funds once they have "
        "deployed the current one, so dry powder stays near its target)",
    )
    guidance_leverage: ByJurisdiction = Field(
        default_factory=lambda: ByJurisdiction(GD=2.0, HK=5.0, MO=1.0),
        description="private yuan co-invested per yuan of a guidance fund (HK: >5, BRIEF; GD, MO "
        "assumptions)",
    )
    distance_decay_minutes: float = _positive(
        60.0,
        "travel time at which an investor city's pull falls by e [min] (assumption: VC is local)",
    )
    screening_base: float = _share(
        0.4384,
        "probability an investor backs a firm with no patents and no products (calibrated on "
        "model v2, scenarios/calibration/targets.yaml; hand value 0.3, assumption)",
    )
    screening_weight: float = _nonneg(
        0.5,
        "elasticity of the odds of being backed to 1 + the firm's recent signal (invention "
        "patents plus products on the market) (assumption: investors screen on patents and "
        "traction)",
    )
    signal_months: float = _positive(
        36.0,
        "months over which a patent or product fades from the screening signal (by e) "
        "(assumption: investors look at the last few years)",
    )
    failure_rate_startup: float = _share(
        0.0065, "base failures per start-up per month, before the age and runway terms"
    )
    failure_rate_growth: float = _share(
        0.0005,
        "failures per growth firm per month (assumption: set so that graduations from start-up "
        "balance growth-firm failures in the baseline; 0.0012 before, which shrank the growth "
        "firms by ~1% a year, benchmarks/stationarity.py)",
    )
    young_hazard_multiplier: float = _nonneg(
        2.0,
        "extra hazard of a newborn firm, fading with age (BLS Business Employment Dynamics: "
        "about 20% of new businesses close in year 1, about half by year 5)",
    )
    young_hazard_months: float = _positive(
        24.0, "age at which the extra hazard of youth falls by e [months] (assumption)"
    )
    runway_hazard_multiplier: float = _nonneg(
        1.0,
        "extra hazard of a start-up whose cash is below its runway threshold (assumption)",
    )
    runway_cash: float = _nonneg(
        1.0, "cash below which a start-up is out of runway [RMB m] (assumption)"
    )
    revenue_share: float = _share(
        0.3,
        "share of a commercialized project's value that returns to the firm as cash (assumption)",
    )
    holding_months: float = _positive(
        72.0,
        "mean time an investment is held at cost before it is realised by an exit (IPO, trade "
        "sale or secondary sale) [months]; each month 1 - exp(-1/holding_months) of every book "
        "at cost exits (assumption: VC-backed companies exit about 5-7 years after the first "
        "round, and funds have a 10-year life)",
    )
    rounds_to_grow: int = Field(
        2, ge=1, le=20, description="funding rounds after which a start-up is a growth firm"
    )
    startup_birth_rate: float = _share(
        0.0061,
        "new start-ups per month, besides spin-offs, per firm of the city's initial stock: a "
        "steady founding flow that does not grow with the firms alive, so the firm stock has a "
        "stable fixed point (assumption: set so that founding plus spin-offs balance failures "
        "in the baseline; entry is driven by the pool of would-be founders, not by incumbents)",
    )


class CommercializationParams(_Frozen):
    """Development projects that turn inventions into products."""

    develop_prob: float = _share(
        0.2, "probability a firm invention or licence starts development (assumption)"
    )
    duration_months: float = _positive(12.0, "mean development time [months] (assumption)")
    cost_mean: float = _positive(3.0, "mean development cost [RMB m] (assumption)")
    rd_budget_per_researcher: float = _nonneg(
        0.0156,
        "cash a growth firm earns for development each month per researcher it employs "
        "[RMB m] (assumption: about 0.19 M yuan a year, the previous 3 M yuan per growth firm "
        "spread over its ~16 researchers; Guangdong's business R&D is roughly 0.4 M yuan per "
        "R&D worker a year, about half of it salaries)",
    )
    cash_spend_rate: float = _share(
        0.03,
        "share of a firm's cash spent each month on costs outside the model (operations, "
        "salaries), so cash does not pile up (assumption)",
    )
    funding_wait_months: int = Field(
        6,
        ge=0,
        le=120,
        description="months a development project waits for capital before it is dropped",
    )
    success_prob: float = _share(
        0.6, "probability a funded development project reaches market (assumption)"
    )
    manufacturing_weight: float = _share(
        0.5, "how much success depends on access to manufacturing capacity (assumption)"
    )
    value_mean: float = _positive(
        0.7,
        "mean value of a commercialized project [RMB m] (Zhuhai-Macao institute: >180 projects, "
        ">120M yuan)",
    )
    value_sigma: float = _nonneg(1.0, "sigma of the lognormal project value (assumption)")


class RelocationParams(_Frozen):
    """Labs and firms moving into a cooperation zone whose rules give them better access."""

    rate: float = _share(
        0.004,
        "most relocations into a zone per lab or firm of the zone's city per month, reached "
        "when the access gain is large (assumption: about 5% a year, the order of the few per "
        "cent of firms that change location each year in firm-relocation studies, e.g. "
        "Pellenbarg, van Wissen & van Dijk 2002; most such moves stay within the metro area)",
    )
    gain_scale: float = _positive(
        0.25,
        "access gain at which the relocation probability reaches 63% of relocation.rate "
        "[border weight, 0-1 scale] (assumption: the Hetao package's talent rules alone, a gain "
        "of ~0.2, give 57% of the rate; its full package, ~0.5 for firms, 86%)",
    )
    lab_density: float = _nonneg(
        10.0,
        "labs a zone can hold per km2 of its area [labs / km2] (assumption: ~1.7x the model's "
        "initial Hetao density, 22 labs of 40 researchers in 3.89 km2)",
    )
    firm_density: float = _nonneg(
        200.0,
        "R&D firms a zone can hold per km2 of its area [firms / km2] (assumption: ~1.5x the "
        "model's initial Hetao density, 500 of Shenzhen's 25,000 R&D firms in 3.89 km2; about "
        "the 5,000 researchers per km2 of researcher_density at ~20 researchers per Shenzhen firm)",
    )
    researcher_density: float = _nonneg(
        5000.0,
        "researchers a zone can hold per km2 of its area [persons / km2] (assumption: built "
        "up at a floor-area ratio of 2.5 and 25 m2 per worker, a km2 holds ~100,000 workers; "
        "~5% of them researchers)",
    )


class WorldParams(_Frozen):
    """World totals that turn the region's outputs into GII-style shares."""

    pct_per_year: float = _positive(272_600.0, "world PCT applications per year (WIPO, 2023)")
    papers_per_year: float = _positive(
        2_500_000.0, "world scientific articles per year (assumption, SCIE-indexed)"
    )
    vc_deals_per_year: float = _positive(
        60_000.0, "world venture-capital deals per year (assumption)"
    )


class OutputParams(_Frozen):
    """What a run records."""

    flows: bool = Field(
        True, description="record flows by element x origin x destination each step"
    )


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
    deterrence: Deterrence = Deterrence()
    world: WorldParams = WorldParams()
    policy: Policy = Policy()
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
    "Friction",
    "FrictionOverride",
    "Policy",
    "Scenario",
    "deep_merge",
    "scenario_defaults",
    "set_path",
    "with_overrides",
]

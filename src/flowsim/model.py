"""FlowModel: the Mesa model that runs the mechanisms in one documented order.

Step order (one step = one month), written once here:

0. **warm-up** (once, at construction) — ``warmup_steps`` (180) months run unrecorded, under
   the baseline's levers whatever the scenario (:func:`flowsim.timing.before_policy`;
   ``timing.steady_state`` keeps the scenario's own), so that projects, invention stocks,
   firms' cash and portfolios are in flight at step 0 and the baseline is stationary; the
   state at its end is read from the warm-start cache when it holds it
   (:mod:`flowsim.warmstart`, bit-identical to running it); 24 months before its end each
   knowledge stock is set to the fixed point of its last 12 months' inflow and the
   productivity that stock gives, the investors' dry powder to
   ``population.dry_powder_years`` of the last 12 months' investment, and the labs'
   invention stocks to the steady state of their last 12 months' inflow and outflow; at the
   warm-up's end, the investors' book at cost is set to the steady state of its last 24
   months' investment, exits and write-offs. The warm-up is known here only: a mechanism
   that acts differently in it is told so by a ``warmup`` flag (capital keeps its book's
   flows, relocation rests) and the settling is done by the mechanisms' ``settle`` hooks,
   called from here.
1. **policy** — the share of the scenario's policy in force this month
   (:mod:`flowsim.timing`): none before ``timing.start``, growing linearly over
   ``timing.phase_in_months``, all of it until ``timing.end``; the rules and the tables
   derived from them are recompiled when it changes (:mod:`flowsim.regime`).
2. **begin** — derive this month's random streams from the seed, the mechanism and
   the month (:mod:`flowsim.streams`); reset this month's counters and border quotas;
   group agents into pools by city and field from the current state.
3. **growth** — in reported months only (the warm-up is the stationary base year): each
   city gains researchers on the exogenous path of its sourced R&D personnel growth
   (``data/growth.csv``; the same count in every policy run with the baseline), hired by
   its labs (by budget) and firms (by size) as new rows; its labs' budgets and its firms'
   R&D cash per researcher grow with its R&D spending; at the end of each reported year
   talent's job-move amenity is re-balanced on the growth path's shares, so that moves do
   not pull researchers back to the base year's (:func:`flowsim.mechanisms.talent.balance_amenity`);
   ``growth.enabled: false`` keeps the region stationary (:mod:`~flowsim.mechanisms.growth`).
4. **talent** — visits (ties); researchers leave for and arrive from CN and ROW
   across their borders; job moves through border control; moves whose delay has
   run out complete (:mod:`~flowsim.mechanisms.talent`).
5. **research: start** — researchers start projects, recruit collaborators
   (talent crossings), move mainland grant money (capital crossings), and
   request data and samples (data and samples crossings)
   (:mod:`~flowsim.mechanisms.research`, :mod:`~flowsim.mechanisms.data`,
   :mod:`~flowsim.mechanisms.samples`).
6. **research: complete** — projects whose work is done and whose inputs have
   arrived yield papers, inventions, patents and PCT filings.
7. **transfer** — lab inventions are licensed (licence fees are capital
   crossings), spun off or abandoned (:mod:`~flowsim.mechanisms.transfer`).
8. **capital** — start-ups are founded, funds raised, rounds matched (capital
   crossings, guidance-fund leverage), firms fail and are written off
   (:mod:`~flowsim.mechanisms.capital`).
9. **commercialization** — development projects are funded, dropped or reach
   market (:mod:`~flowsim.mechanisms.commercialization`).
10. **relocation** — in reported months only, labs and firms of a zone's city move
   into the zone where its rules give them better access across the border, up to
   the zone's capacity; their researchers' zone follows
   (:mod:`~flowsim.mechanisms.relocation`). They cross under the zone's rules from
   the next month.
11. **knowledge** — each city x field's knowledge stock depreciates and takes in
   this month's papers, inventions and linked knowledge
   (:mod:`~flowsim.mechanisms.knowledge`);
   research productivity and job-move opportunity read it next month.
12. **record** — counters and gauges in real-world units go to the DataCollector
   (and the by-city counters and stocks to its ``by_city`` table); the month's
   by-city tally and links are added to the year's; the flow ledger is closed for
   the month.
"""

from __future__ import annotations

import os
from typing import Any

import mesa
import numpy as np
import pandas as pd
from pydantic import ValidationError

from flowsim import agents, regime
from flowsim.assembly import build_world
from flowsim.channels import Hold
from flowsim.geography import CITIES, PLACES
from flowsim.mechanisms import (
    capital,
    commercialization,
    growth,
    knowledge,
    relocation,
    research,
    talent,
    transfer,
)
from flowsim.outputs import COUNTERS, GAUGES, REPORTED
from flowsim.params import Scenario, with_overrides
from flowsim.tally import (
    BY_CITY_COUNTERS,
    BY_CITY_FIELDS,
    BY_CITY_OUTPUTS,
    LINK_KINDS,
    city_stocks,
    gauges,
)
from flowsim.timing import before_policy, schedule
from flowsim.warmstart import Cache, key
from flowsim.yamlio import ConfigError, LoadedYaml, problems_from_validation

BY_CITY_TABLE = "by_city"
"""Name of the DataCollector table with outputs by city and field (one row per step, city
and field; one column per output of :data:`flowsim.tally.BY_CITY_OUTPUTS`)."""


def _reporter(name: str):
    return lambda model: model.latest[name]


SEED_REPORTER = "seed"
"""Model reporter holding the run's seed (:attr:`FlowModel.seed_value`)."""

PARAMETERS_SOURCE = "FlowModel parameters"
"""What errors in keyword parameters name as their source (in place of a file)."""


class ParameterError(ConfigError, ValueError):
    """A parameter given to :class:`FlowModel` (or a scenario file it reads) is not allowed."""


def _seed(model: FlowModel) -> int:
    return model.seed_value


def apply_parameters(
    params: Scenario, overrides: dict[str, Any], source: str = PARAMETERS_SOURCE
) -> Scenario:
    """``params`` with dotted-path ``overrides``, or a :class:`ParameterError` naming each problem.

    Unlike pydantic's ``ValidationError``, the message names the key as it was given
    (``talent.move_rate``), the value, what is allowed and a hint, as scenario files do.
    """
    try:
        return with_overrides(params, overrides)
    except ValidationError as err:
        loaded = LoadedYaml(source, {}, {})
        raise ParameterError(problems_from_validation(err, loaded, Scenario)) from None


def _flowsim_scenario(params: Any, scenario: Any) -> tuple[Scenario, Any]:
    """(flowsim's scenario, the Mesa scenario or None) from ``params`` and ``scenario``."""
    if _is_flowsim_scenario(scenario):
        if params is not None:
            raise TypeError(
                "FlowModel got two flowsim scenarios (params and scenario=); pass one, "
                "and parameter changes as keyword arguments"
            )
        params, scenario = scenario, None
    elif scenario is not None and not hasattr(scenario, "rng"):
        raise TypeError(
            f"FlowModel(scenario=...) got {type(scenario).__name__!s}: pass a flowsim "
            "Scenario (flowsim.Scenario(...) or flowsim.load_scenario('file.yaml')), the "
            "path of a scenario file, or a Mesa scenario (with rng); parameter values go "
            "as keyword arguments, e.g. FlowModel(**{'talent.move_rate': 0.02})"
        )
    if params is None:
        return Scenario(), scenario
    if isinstance(params, Scenario):
        return params, scenario
    if isinstance(params, (str, os.PathLike)):
        from flowsim.scenario import load_scenario

        try:
            return load_scenario(params), scenario
        except ConfigError as err:
            raise ParameterError(err.problems) from None
    if isinstance(params, dict):
        return apply_parameters(Scenario(), params), scenario
    raise TypeError(
        f"FlowModel's params got {type(params).__name__}: pass a flowsim Scenario, the "
        "path of a scenario file, or a dict of parameter values"
    )


def _is_flowsim_scenario(value: Any) -> bool:
    return isinstance(value, (Scenario, str, os.PathLike))


class FlowModel(mesa.Model):
    """Cross-border innovation flows in the Greater Bay Area.

    Build it from a :class:`~flowsim.params.Scenario`, from keyword overrides of
    the defaults, or both; keys may be dotted paths (``"talent.move_rate"``,
    ``"policy.corridors.GD-HK.data.approval"``) so that ``mesa.batch_run`` can
    sweep any parameter::

        FlowModel(scale=0.01, steps=24, rng=7)
        FlowModel(params, rng=7, **{"research.grant_portability": 1.0})

    Mesa's ``SolaraViz`` builds the model from keyword arguments: every parameter
    has a default and the overrides are called ``**kwargs``, the name Mesa 3.3 looks
    for; Mesa 3.5's Reset also passes ``scenario=`` (a ``mesa.experimental.scenarios``
    scenario carrying ``rng``), whose ``rng`` is used when ``rng`` is not given.

    Args:
        params: the scenario: a :class:`~flowsim.params.Scenario`, the path of a scenario
            file, or a dict of parameter values (dotted paths allowed); defaults to
            :class:`~flowsim.params.Scenario` ().
        rng: the run's seed (an int or a numpy Generator to draw one from). ``None``
            draws a fresh seed, as :class:`mesa.Model` does, so that
            ``mesa.batch_run(FlowModel, iterations=10, ...)`` gives ten different runs;
            the seed used is in :attr:`seed_value`. (``flowsim run`` passes the scenario
            file's ``seed``.) Every mechanism gets its own stream derived from it
            (:mod:`flowsim.streams`).
        hold: channels held at a baseline's behaviour (:mod:`flowsim.channels`, used by
            ``flowsim explain``); None for an ordinary run.
        scenario: flowsim's scenario (a :class:`~flowsim.params.Scenario`, or the path
            of a scenario file), as ``params``, so that ``mesa.batch_run(FlowModel,
            {"scenario": [a, b]})`` runs each; or a Mesa scenario (Mesa >= 3.5 viewers
            pass one), of which only ``rng`` is read. Anything else is a ``TypeError``
            that says what to pass.
        cache: the warm-start cache (:mod:`flowsim.warmstart`): None takes it from the
            environment (``FLOWSIM_CACHE``; on by default), False runs the warm-up without
            it, a path uses that folder. A model from the cache is bit-identical to one
            that ran its warm-up; :attr:`warm_start` says ``hit``, ``miss`` or ``off``.
        **kwargs: parameter values by field name or dotted path.

    Raises:
        ParameterError: a parameter value or name is not allowed (a
            :class:`~flowsim.yamlio.ConfigError` that names the key, the value and what
            is allowed), or a scenario file has problems.
        TypeError: ``params`` or ``scenario`` is of a kind flowsim cannot read.

    Besides its model reporters, the DataCollector holds the table ``by_city``
    (:data:`BY_CITY_TABLE`): per step, city and field, the by-city outputs in
    real-world units (``model.datacollector.get_table_dataframe("by_city")``), and
    the reporter ``seed`` (:data:`SEED_REPORTER`): the run's seed, in every
    ``mesa.batch_run`` row.
    """

    def __init__(
        self,
        params: Scenario | None = None,
        *,
        rng: int | None = None,
        hold: Hold | None = None,
        scenario: Any = None,
        cache: str | bool | None = None,
        **kwargs: Any,
    ):
        params, scenario = _flowsim_scenario(params, scenario)
        if kwargs:
            params = apply_parameters(params, kwargs)
        if rng is None and scenario is not None:
            rng = getattr(scenario, "rng", None)
        seed = rng
        if seed is None:
            # a fresh seed from the operating system's entropy, recorded in seed_value
            seed = int(np.random.SeedSequence().generate_state(1, dtype=np.uint64)[0] >> 1)
        elif isinstance(seed, np.random.Generator):
            seed = int(seed.integers(0, 2**63 - 1))
        seed = int(seed)
        super().__init__(rng=seed)
        self.params = params
        self.seed_value = seed
        self.month = 0  # months simulated, warm-up included; time stamps in the world use it
        # the warm-up runs under the baseline's levers; the policy acts from its start
        self.before_policy = before_policy(params)
        self.policy_schedule = schedule(params)
        self.policy_weight = 0.0 if self.policy_schedule is not None else 1.0
        self.latest: dict[str, float] = dict.fromkeys(REPORTED, 0.0)
        self.flow_history: list[np.ndarray] = []
        n_years = -(-params.steps // 12)
        n_c, n_f = len(CITIES), len(BY_CITY_FIELDS)
        # per simulated year: by-city outputs (counters summed, stocks at the year's last
        # month) and links, real-world units
        self.by_city_years = np.zeros((n_years, len(BY_CITY_OUTPUTS), n_c, n_f))
        n_p = len(PLACES)  # links reach the external places CN and ROW
        self.link_years = np.zeros((n_years, len(LINK_KINDS), 2, n_p, n_p, n_f - 1))
        self.datacollector = mesa.DataCollector(
            model_reporters={
                **{name: _reporter(name) for name in REPORTED},
                # so that every mesa.batch_run row says which seed made it
                SEED_REPORTER: _seed,
            },
            tables={BY_CITY_TABLE: ["step", "city", "field", *BY_CITY_OUTPUTS]},
        )
        # the end of the warm-up comes from the warm-start cache when it holds it
        store = Cache.from_setting(cache) if hold is None else None
        name = key(self.before_policy, seed) if store is not None else None
        stored = store.load(name) if store is not None else None
        self.warm_start = "off" if store is None else ("hit" if stored is not None else "miss")
        if stored is not None:
            self.world, self.month = stored
            self.world.params = self.world.policy_params = self.before_policy
        else:
            self._warm_up(seed, hold)
            if store is not None:
                store.store(name, self.world, self.month)
        # the per-agent table counts from here (agent_table)
        self._agents_at_start = agents.snapshot(self.world)

    def _warm_up(self, seed: int, hold: Hold | None) -> None:
        """Phase 0: build the world under the baseline's levers and run the warm-up."""
        params = self.params
        self.world = build_world(self.before_policy, seed, hold=hold)
        # stocks that the warm-up would take years to fill are settled once, 24 months
        # before its end (or at its end if it is short), so that the pipelines started
        # afterwards see the settled stocks before the reported months begin
        settle_at = params.warmup_steps - 24 if params.warmup_steps >= 36 else params.warmup_steps
        for i in range(params.warmup_steps):
            if i == settle_at and i >= 12:
                self._settle()
            self._advance(warmup=True)
            self.world.ledger.close_step()
            self.world.tally.close_step()
        if settle_at == params.warmup_steps and settle_at >= 12:
            self._settle()
        if params.warmup_steps >= 12:
            # the book at cost follows the investment flow of the settled dry powder
            capital.settle_book(self.world)

    def _settle(self) -> None:
        """Knowledge stocks, dry powder and lab invention stocks to their steady states."""
        knowledge.settle(self.world)
        capital.settle(self.world)
        transfer.settle(self.world)

    def agent_table(self) -> pd.DataFrame:
        """Every firm and lab with its name, place, dates and own outputs since the run began.

        One row per firm and lab (:data:`flowsim.agents.AGENT_COLUMNS`); outputs in model
        units, counted over the reported months so far (``flowsim run --agents`` writes it
        at the end of each replicate as ``agents.parquet``).
        """
        return agents.agent_table(self.world, self.params.warmup_steps, self._agents_at_start)

    @property
    def n_agents(self) -> int:
        """Agents of every type (researchers, labs, firms alive or not, investors)."""
        w = self.world
        return w.researchers.n + w.labs.n + w.firms.n + w.investors.n

    @property
    def step_index(self) -> int:
        """Reported steps done so far (warm-up months not counted)."""
        return self.month - self.params.warmup_steps

    def step(self) -> None:
        """Advance one month and record it (the order is in the module docstring)."""
        self._enact()
        self._advance()
        self._record()
        if self.step_index >= self.params.steps:
            self.running = False

    def _enact(self) -> None:
        """Phase 1a: put the share of the policy in force this month (:mod:`flowsim.timing`)."""
        if self.policy_schedule is None:
            return
        weight = self.policy_schedule.weight(self.step_index)
        if weight == self.policy_weight:
            return
        self.policy_weight = weight
        w, params, before = self.world, self.params, self.before_policy
        if weight <= 0.0:
            w.params = before
            regime.set_policy(w, before)
        elif weight >= 1.0:
            w.params = params
            regime.set_policy(w, params)
        else:
            w.params = params
            regime.set_phase(w, params, before, weight)

    def _advance(self, warmup: bool = False) -> None:
        """One month of phases 2-11; ``warmup`` for the unrecorded months of phase 0."""
        w, t = self.world, self.month
        w.begin_step(t)
        if not warmup:  # the warm-up settles the base year: growth starts at step 0
            reported = t - self.params.warmup_steps
            growth.step(w, reported)
            if self.params.growth.enabled and reported % 12 == 11:
                # once a year, job moves keep the shares growth gives each city
                talent.balance_amenity(w, growth.expected_researchers(w))
        talent.step(w, t)
        research.start_projects(w, t)
        research.complete_projects(w, t)
        transfer.step(w, t)
        capital.step(w, t, warmup=warmup)
        commercialization.step(w, t)
        relocation.step(w, t, warmup=warmup)
        knowledge.step(w, t)
        self.month += 1

    def _record(self) -> None:
        w = self.world
        s = w.scale
        latest = {name: w.counters[name] / s for name in COUNTERS}
        latest.update(gauges(w))
        started = w.counters["projects_started"]
        latest["cross_border_collaboration_share"] = (
            w.counters["projects_cross_border"] / started if started else 0.0
        )
        assert set(latest) == set(REPORTED) and len(GAUGES) > 0
        self.latest = latest
        self.datacollector.collect(self)
        self._record_by_city()
        flows = w.ledger.close_step()
        if self.params.outputs.flows:
            self.flow_history.append(flows)

    def _record_by_city(self) -> None:
        """Add this month's by-city tally and links to the year's, and to the Mesa table."""
        w = self.world
        values, links = w.tally.close_step()
        month = np.concatenate([values, city_stocks(w)]) / w.scale  # (outputs, city, field)
        step = self.step_index - 1
        year = step // 12
        if year >= len(self.by_city_years):  # stepped past params.steps (e.g. in a viewer)
            self.by_city_years = np.concatenate([self.by_city_years, self.by_city_years[:1] * 0])
            self.link_years = np.concatenate([self.link_years, self.link_years[:1] * 0])
        n_counters = len(BY_CITY_COUNTERS)
        self.by_city_years[year, :n_counters] += month[:n_counters]
        self.by_city_years[year, n_counters:] = month[n_counters:]
        self.link_years[year] += links / w.scale
        self._add_table_rows(step, month)

    def _add_table_rows(self, step: int, month: np.ndarray) -> None:
        """One row per city and field of this month's by-city outputs in the Mesa table."""
        n_c, n_f = len(CITIES), len(BY_CITY_FIELDS)
        columns = {
            "step": [step] * (n_c * n_f),
            "city": [c for c in CITIES for _ in BY_CITY_FIELDS],
            "field": list(BY_CITY_FIELDS) * n_c,
        }
        flat = month.reshape(len(BY_CITY_OUTPUTS), n_c * n_f)
        columns.update({name: flat[i].tolist() for i, name in enumerate(BY_CITY_OUTPUTS)})
        table = getattr(self.datacollector, "tables", {}).get(BY_CITY_TABLE)
        if isinstance(table, dict) and set(table) == set(columns):
            # Mesa keeps a table as a list per column: extend them all at once
            for name, values in columns.items():
                table[name].extend(values)
            return
        for i in range(n_c * n_f):  # any other DataCollector: its public row-by-row API
            self.datacollector.add_table_row(
                BY_CITY_TABLE, {name: values[i] for name, values in columns.items()}
            )

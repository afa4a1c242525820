"""FlowModel: the Mesa model that runs the mechanisms in one documented order.

Step order (one step = one month), written once here:

0. **warm-up** (once, at construction) — ``warmup_steps`` months run unrecorded
   so that projects, invention stocks and portfolios are in flight at step 0.
1. **begin** — reset this month's counters and border quotas; group agents into
   pools by city and field from the current state.
2. **talent** — visits (ties), job moves through border control; moves whose
   delay has run out complete (:mod:`~flowsim.mechanisms.talent`).
3. **research: start** — researchers start projects, recruit collaborators
   (talent crossings), move mainland grant money (capital crossings), and
   request data and samples (data and samples crossings)
   (:mod:`~flowsim.mechanisms.research`, :mod:`~flowsim.mechanisms.data`,
   :mod:`~flowsim.mechanisms.samples`).
4. **research: complete** — projects whose work is done and whose inputs have
   arrived yield papers, inventions, patents and PCT filings.
5. **transfer** — lab inventions are licensed (licence fees are capital
   crossings), spun off or abandoned (:mod:`~flowsim.mechanisms.transfer`).
6. **capital** — start-ups are founded, funds raised, rounds matched (capital
   crossings, guidance-fund leverage), firms fail and are written off
   (:mod:`~flowsim.mechanisms.capital`).
7. **commercialization** — development projects are funded, dropped or reach
   market (:mod:`~flowsim.mechanisms.commercialization`).
8. **record** — counters and gauges in real-world units go to the DataCollector;
   the flow ledger is closed for the month.
"""

from __future__ import annotations

from typing import Any

import mesa
import numpy as np

from flowsim.mechanisms import capital, commercialization, research, talent, transfer
from flowsim.outputs import COUNTERS, GAUGES, REPORTED
from flowsim.params import Scenario, with_overrides
from flowsim.world import World, build_world


def _reporter(name: str):
    return lambda model: model.latest[name]


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
        params: the scenario; defaults to :class:`~flowsim.params.Scenario` ().
        rng: the run's seed (an int); defaults to ``params.seed``. Every mechanism
            gets its own stream derived from it (:mod:`flowsim.streams`).
        scenario: a Mesa scenario (Mesa >= 3.5 viewers pass one); only its ``rng`` is read.
            flowsim's own scenario is ``params``.
        **kwargs: parameter values by field name or dotted path.
    """

    def __init__(
        self,
        params: Scenario | None = None,
        *,
        rng: int | None = None,
        scenario: Any = None,
        **kwargs: Any,
    ):
        params = params or Scenario()
        if kwargs:
            params = with_overrides(params, kwargs)
        if rng is None and scenario is not None:
            rng = getattr(scenario, "rng", None)
        seed = params.seed if rng is None else rng
        if isinstance(seed, np.random.Generator):
            seed = int(seed.integers(0, 2**63 - 1))
        seed = int(seed)
        super().__init__(rng=seed)
        self.params = params
        self.seed_value = seed
        self.month = 0  # months simulated, warm-up included; time stamps in the world use it
        self.world: World = build_world(params, seed)
        self.latest: dict[str, float] = dict.fromkeys(REPORTED, 0.0)
        self.flow_history: list[np.ndarray] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={name: _reporter(name) for name in REPORTED}
        )
        for _ in range(params.warmup_steps):
            self._advance()
            self.world.ledger.close_step()

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
        self._advance()
        self._record()
        if self.step_index >= self.params.steps:
            self.running = False

    def _advance(self) -> None:
        w, t = self.world, self.month
        w.begin_step()
        talent.step(w, t)
        research.start_projects(w, t)
        research.complete_projects(w, t)
        transfer.step(w, t)
        capital.step(w, t)
        commercialization.step(w, t)
        self.month += 1

    def _record(self) -> None:
        w = self.world
        s = w.scale
        latest = {name: w.counters[name] / s for name in COUNTERS}
        latest.update(w.gauges())
        started = w.counters["projects_started"]
        latest["cross_border_collaboration_share"] = (
            w.counters["projects_cross_border"] / started if started else 0.0
        )
        assert set(latest) == set(REPORTED) and len(GAUGES) > 0
        self.latest = latest
        self.datacollector.collect(self)
        flows = w.ledger.close_step()
        if self.params.outputs.flows:
            self.flow_history.append(flows)

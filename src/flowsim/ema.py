"""flowsim as an EMA Workbench model: uncertainties, levers and outcomes by flowsim's names.

The `EMA Workbench <https://emaworkbench.readthedocs.io>`_ (Kwakkel 2017) is how many
policy analysts run exploratory modelling: sample uncertainties and policies, run the
model, then find where a policy works (PRIM) or search for robust policies. This
module hands it flowsim::

    from ema_workbench import perform_experiments
    import flowsim.ema

    model = flowsim.ema.model(
        uncertainties={"talent.move_rate": (0.002, 0.01)},
        levers={"policy.corridors.GD-HK.data.approval": (0.3, 0.9)},
        outcomes=["papers", "data_transfers_cross_border"],
        scenario="scenarios/baseline.yaml",
        scale=0.01,
    )
    experiments, outcomes = perform_experiments(model, scenarios=50, policies=4)

Each factor is named by its dotted path in the scenario (the keys of ``--set`` and of
sweep files) and given as ``(low, high)`` (a real range), a list of values (categorical)
or a sweep file's factor mapping (``{"low": 1, "high": 5, "integer": True}``,
``{"low": 0.001, "high": 0.1, "log": True}``, ``{"values": [...]}``). EMA names must be
Python identifiers, so each parameter's EMA ``name`` is its path with every other
character turned into ``_`` (``policy_corridors_GD_HK_data_approval``), and its
``variable_name`` is the path itself: the experiments table has the identifier as column,
and :func:`paths` maps it back. The special factor ``seed`` (an integer range) varies the
run's seed; otherwise every experiment runs with the same seed (common random numbers, so
that experiments differ only where their parameters act), or with ``replications=N`` at
the same N replicate seeds, reporting each outcome's mean over them.

Outcomes are flowsim's output names, each summarised per run as a sweep does: a yearly
mean over the recorded months, in real-world units (:mod:`flowsim.sweep.outcomes`).
The model function is picklable, so EMA's ``MultiprocessingEvaluator`` works too.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowsim.params import Scenario

MISSING_EMA = (
    "flowsim.ema needs the EMA Workbench: install the discover extra, "
    "pip install 'flowsim[discover]' (from a clone: pip install -e '.[discover]')"
)
"""The ImportError's message where the ``discover`` extra is not installed."""

SEED = "seed"
"""The factor that varies the run's seed instead of a scenario parameter."""

DEFAULT_OUTCOMES: tuple[str, ...] = (
    "papers",
    "invention_patents",
    "vc_deals",
    "commercialized",
    "researcher_moves_cross_border",
    "data_transfers_cross_border",
    "cross_border_collaboration_share",
)
"""Outcomes when none are given: research, transfer, capital and the border flows."""


def _ema() -> Any:
    """The ``ema_workbench`` package, or an ImportError naming the extra that installs it."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # optional parallel back-ends it does not find
            import ema_workbench
    except ImportError:
        raise ImportError(MISSING_EMA) from None
    return ema_workbench


def ema_name(path: str) -> str:
    """The Python identifier EMA knows a parameter by: ``a.b-c`` -> ``a_b_c``."""
    name = re.sub(r"\W+", "_", path).strip("_")
    return f"p_{name}" if not name or name[0].isdigit() else name


def _factor_mapping(path: str, given: Any) -> Any:
    """A factor as a sweep file writes it (what :class:`~flowsim.sweep.spec.Factor` reads)."""
    if isinstance(given, Mapping):
        return dict(given)
    if isinstance(given, tuple) and len(given) == 2:
        return {"low": float(given[0]), "high": float(given[1])}
    if isinstance(given, list):
        return {"values": list(given)}
    raise TypeError(
        f"flowsim.ema.model(): the factor {path!r} is {given!r}; give (low, high) for a range, "
        "a list of values, or a mapping like {'low': 1, 'high': 5, 'integer': True}"
    )


@dataclass(frozen=True)
class RunFunction:
    """What EMA calls once per experiment: flowsim's run, summarised into outcomes.

    Attributes:
        base: the scenario every experiment starts from (constants, scale, steps applied).
        outcomes: the outputs to return (yearly means over the recorded months).
        seed: the run's seed where the experiment does not set :data:`SEED`.
        cache: share warm-ups through the warm-start cache (:mod:`flowsim.warmstart`).
    """

    base: Scenario
    outcomes: tuple[str, ...]
    seed: int
    cache: bool = True

    def __call__(self, **experiment: Any) -> dict[str, float]:
        """Run the base scenario with the experiment's parameters (keyed by dotted path)."""
        from flowsim.sweep.tasks import ScenarioModel

        values = {k: v.item() if hasattr(v, "item") else v for k, v in experiment.items()}
        seed = int(values.pop(SEED, self.seed))
        run = ScenarioModel(self.base, self.outcomes, timeseries="none", cache=self.cache)
        outcomes, _ = run(values, seed)
        return outcomes


def _base(
    scenario: Scenario | str | Path | None,
    constants: Mapping[str, Any] | None,
    scale: float | None,
    steps: int | None,
    warmup_steps: int | None,
) -> Scenario:
    from flowsim.model import apply_parameters
    from flowsim.scenario import load_scenario

    if scenario is None:
        base = Scenario()
    elif isinstance(scenario, Scenario):
        base = scenario
    elif isinstance(scenario, str | Path):
        base = load_scenario(scenario, source="flowsim.ema.model()")
    else:
        raise TypeError(
            f"flowsim.ema.model(): scenario= takes a flowsim Scenario or a scenario file, "
            f"not {type(scenario).__name__}"
        )
    overrides = dict(constants or {})
    for key, value in (("scale", scale), ("steps", steps), ("warmup_steps", warmup_steps)):
        if value is not None:
            overrides[key] = value
    return apply_parameters(base, overrides, source="flowsim.ema.model()") if overrides else base


def model(
    uncertainties: Mapping[str, Any] | None = None,
    levers: Mapping[str, Any] | None = None,
    outcomes: Sequence[str] = DEFAULT_OUTCOMES,
    *,
    scenario: Scenario | str | Path | None = None,
    constants: Mapping[str, Any] | None = None,
    scale: float | None = None,
    steps: int | None = None,
    warmup_steps: int | None = None,
    seed: int | None = None,
    replications: int | None = None,
    name: str = "flowsim",
    cache: bool = True,
) -> Any:
    """An ``ema_workbench.Model`` that runs flowsim.

    Args:
        uncertainties: dotted path -> factor (``(low, high)``, a list of values, or a
            sweep file's factor mapping); ``seed`` varies the run's seed.
        levers: dotted path -> factor, as ``uncertainties``.
        outcomes: flowsim output names (:data:`flowsim.sweep.spec.OUTCOMES`), each an
            EMA ``ScalarOutcome``: its yearly mean over the recorded months.
        scenario: the base scenario (a :class:`~flowsim.params.Scenario` or a file);
            default the model defaults.
        constants: dotted path -> value fixed in every experiment.
        scale: override the base scenario's scale (agents per real entity).
        steps: override the months simulated.
        warmup_steps: override the unrecorded warm-up months.
        seed: the run seed of every experiment (default the scenario's ``seed``); with
            ``replications``, the root seed the replicate seeds are spawned from.
        replications: run each experiment with this many replicate seeds (spawned from
            ``seed``, the same in every experiment, as ``flowsim run --replications``)
            in an EMA ``ReplicatorModel``; each outcome is then the mean over them.
            Not with a ``seed`` factor.
        name: the EMA model's name (an identifier).
        cache: share warm-ups through the warm-start cache (results are identical).

    Returns:
        An ``ema_workbench.Model`` for ``perform_experiments`` and EMA's optimisers.

    Raises:
        ImportError: the EMA Workbench is not installed (the ``discover`` extra).
        ConfigError: an unknown path or outcome, or a value the parameter does not allow,
            each named with what is allowed (:class:`~flowsim.yamlio.ConfigError`).
        TypeError: a factor or scenario of the wrong kind.
    """
    ema = _ema()
    from flowsim.sweep.spec import check_for_scenario, parse_spec
    from flowsim.yamlio import LoadedYaml

    base = _base(scenario, constants, scale, steps, warmup_steps)
    factors = {
        section: {
            path: _factor_mapping(path, given)
            for path, given in (entries or {}).items()
            if path != SEED
        }
        for section, entries in (("uncertainties", uncertainties), ("levers", levers))
    }
    data = {
        "name": "ema",
        "design": "monte_carlo",
        "samples": 1,
        **factors,
        "outcomes": list(outcomes),
    }
    loaded = LoadedYaml("flowsim.ema.model()", data, {})
    spec = parse_spec(loaded)
    check_for_scenario(spec, loaded, base)

    seen: dict[str, str] = {}

    def parameter(path: str, given: Any) -> Any:
        identifier = ema_name(path)
        if identifier in seen:
            raise ValueError(
                f"flowsim.ema.model(): {path!r} and {seen[identifier]!r} both become the EMA "
                f"name {identifier!r}; vary one of them"
            )
        seen[identifier] = path
        if path == SEED:
            low, high = (given["low"], given["high"]) if isinstance(given, Mapping) else given
            return ema.IntegerParameter(identifier, int(low), int(high), variable_name=SEED)
        factor = spec.factors[path]
        if factor.values is not None:
            return ema.CategoricalParameter(identifier, factor.values, variable_name=path)
        if factor.integer:
            return ema.IntegerParameter(
                identifier, int(factor.low), int(factor.high), variable_name=path
            )
        if factor.log:
            from scipy import stats

            return ema.RealParameter.from_dist(
                identifier, stats.loguniform(factor.low, factor.high), variable_name=path
            )
        return ema.RealParameter(identifier, factor.low, factor.high, variable_name=path)

    root = base.seed if seed is None else int(seed)
    function = RunFunction(base, tuple(spec.outcomes), root, cache)
    if replications is None:
        out = ema.Model(name, function=function)
        out.outcomes = [ema.ScalarOutcome(o) for o in spec.outcomes]
    else:
        if int(replications) < 1 or SEED in {**(uncertainties or {}), **(levers or {})}:
            raise ValueError(
                "flowsim.ema.model(): replications must be at least 1, and not combined with a "
                "'seed' factor (replicates already vary the seed)"
            )
        import numpy as np

        from flowsim.streams import replicate_seeds

        out = ema.ReplicatorModel(name, function=function)
        out.replications = [{SEED: s} for s in replicate_seeds(root, int(replications))]
        out.outcomes = [ema.ScalarOutcome(o, function=np.mean) for o in spec.outcomes]
    out.uncertainties = [parameter(p, g) for p, g in (uncertainties or {}).items()]
    out.levers = [parameter(p, g) for p, g in (levers or {}).items()]
    return out


def paths(ema_model: Any) -> dict[str, str]:
    """EMA parameter name -> flowsim's dotted path, for the model's uncertainties and levers."""
    out = {}
    for parameter in [*ema_model.uncertainties, *ema_model.levers]:
        out[parameter.name] = parameter.variable_name[0]
    return out


__all__ = ["DEFAULT_OUTCOMES", "MISSING_EMA", "RunFunction", "ema_name", "model", "paths"]

"""``flowsim describe FILE``: the resolved scenario, or the friction one flow meets.

With a selector (``--element data --from Shenzhen --to "Hong Kong" --category medical
--employer lab``) it prints the effective friction of that flow under the scenario's
border rules, and which rule supplied each value (docs/rules.md).
"""

from __future__ import annotations

import argparse
import sys

from flowsim.geography import CITIES, CORRIDORS, ELEMENTS, FIELDS, ZONES
from flowsim.paramtypes import DATA_CATEGORIES, DIRECTIONS, EMPLOYER_KINDS, SAMPLE_KINDS

NAME = "describe"
HELP = (
    "print the fully resolved scenario (after extends and defaults), each value with its "
    "meaning; with --element and --from/--to, the friction that flow meets and which rule "
    "sets it"
)

SELECTORS = (
    "element",
    "corridor",
    "direction",
    "field",
    "category",
    "kind",
    "employer",
    "origin",
    "destination",
    "zone",
    "whitelist",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim describe``."""
    parser.add_argument("file", metavar="FILE", help="scenario YAML file")
    parser.add_argument(
        "--plain",
        action="store_true",
        help="YAML only, without the comments (as written to scenario.resolved.yaml)",
    )
    sel = parser.add_argument_group("a flow to describe (docs/rules.md)")
    sel.add_argument("--element", choices=ELEMENTS, help="element of the flow")
    sel.add_argument("--corridor", choices=CORRIDORS, help="corridor (checked against the cities)")
    sel.add_argument("--direction", choices=DIRECTIONS, help="e.g. GD->HK (checked)")
    sel.add_argument("--field", choices=FIELDS, help="research field of the acting agent")
    sel.add_argument("--category", choices=DATA_CATEGORIES, help="data category (data only)")
    sel.add_argument("--kind", choices=SAMPLE_KINDS, help="sample kind (samples only)")
    sel.add_argument("--employer", choices=EMPLOYER_KINDS, help="employer kind of the agent")
    places = CITIES + ZONES
    sel.add_argument("--from", dest="origin", choices=places, help="origin city or zone")
    sel.add_argument("--to", dest="destination", choices=places, help="destination city or zone")
    sel.add_argument(
        "--zone",
        choices=(*ZONES, "none"),
        help="zone of the acting agent (default: the zone of --from for talent, of --to for "
        "the other elements)",
    )
    sel.add_argument(
        "--whitelist",
        action="append",
        default=[],
        metavar="NAME",
        help="the acting agent is on this list of policy.whitelists (repeatable)",
    )


def _bad(message: str, allowed: str | None = None) -> int:
    print(f"flowsim describe: {message}", file=sys.stderr)
    if allowed:
        print(f"    allowed: {allowed}", file=sys.stderr)
    return 2


def _place(name: str) -> tuple[int, int]:
    from flowsim.geography import load_geography

    if name in ZONES:
        z = ZONES.index(name)
        return int(load_geography().zone_city[z]), z
    return CITIES.index(name), -1


def describe_flow(args: argparse.Namespace, scenario) -> int:
    """Print the effective friction of the flow the selector options describe."""
    from flowsim.geography import JURISDICTIONS, load_geography
    from flowsim.policy import AGENT_END, UNKNOWN, effective_friction
    from flowsim.scenario import _locator, read_chain

    if args.element is None:
        return _bad("a flow needs --element", ", ".join(ELEMENTS))
    if args.origin is None or args.destination is None:
        return _bad(
            "a flow needs --from and --to (a city or a zone at each end)", ", ".join(CITIES + ZONES)
        )
    if args.category is not None and args.element != "data":
        return _bad("--category applies to --element data only", ", ".join(DATA_CATEGORIES))
    if args.kind is not None and args.element != "samples":
        return _bad("--kind applies to --element samples only", ", ".join(SAMPLE_KINDS))
    known = tuple(scenario.policy.whitelists)
    for name in args.whitelist:
        if name not in known:
            return _bad(
                f"--whitelist {name!r} is not in policy.whitelists",
                ", ".join(known) or "none: this scenario defines no whitelist",
            )
    geo = load_geography()
    o, oz = _place(args.origin)
    d, dz = _place(args.destination)
    c = int(geo.corridor[o, d])
    if c < 0:
        return _bad(
            f"{args.origin} -> {args.destination} crosses no border", "cities of two jurisdictions"
        )
    jur = geo.city_jurisdiction
    direction = f"{JURISDICTIONS[jur[o]]}->{JURISDICTIONS[jur[d]]}"
    if args.corridor is not None and args.corridor != CORRIDORS[c]:
        return _bad(
            f"--corridor {args.corridor} but the cities are on {CORRIDORS[c]}", CORRIDORS[c]
        )
    if args.direction is not None and args.direction != direction:
        return _bad(f"--direction {args.direction} but the cities go {direction}", direction)
    if args.zone is None:
        zone = oz if AGENT_END[args.element] == "origin" else dz
    else:
        zone = -1 if args.zone == "none" else ZONES.index(args.zone)

    def idx(value, names):
        return UNKNOWN if value is None else names.index(value)

    eff = effective_friction(
        scenario.policy,
        geo,
        args.element,
        o,
        d,
        origin_zone=oz,
        destination_zone=dz,
        zone=zone,
        field=idx(args.field, FIELDS),
        employer=idx(args.employer, EMPLOYER_KINDS),
        category=idx(args.category, DATA_CATEGORIES),
        kind=idx(args.kind, SAMPLE_KINDS),
        lists=tuple(args.whitelist),
    )
    locate = _locator(read_chain(args.file))
    what = [args.element, f"{args.origin} -> {args.destination}", f"{eff.corridor} {direction}"]
    what += [
        f"{k} {v}"
        for k, v in (
            ("field", args.field),
            ("category", args.category),
            ("kind", args.kind),
            ("employer", args.employer),
            ("agent in zone", None if zone < 0 else ZONES[zone]),
        )
        if v is not None
    ]
    what += [f"on list {n}" for n in args.whitelist]
    print("effective friction: " + ", ".join(what))
    units = {"approval": "", "delay_days": " days", "cost": " thousand yuan", "quota": "/month"}
    for q, value in eff.values.items():
        rule = eff.sources[q]
        if rule is None:
            src = f"the baseline (policy.corridors.{eff.corridor}.{args.element})"
        else:
            file, line, column = locate(rule.path)
            src = f"{rule.label}, specificity {rule.specificity} ({file}:{line}:{column})"
        shown = "none" if value == float("inf") else f"{value:g}{units[q]}"
        print(f"  {q:<11} {shown:<22} from {src}")
    for rule, key in eff.open_rules:
        print(f"  (not applied: {rule.label} selects on {key}; give --{key} to see it)")
    return 0


def main(args: argparse.Namespace) -> int:
    """Print the resolved scenario or a flow's friction; exit 2 on bad input."""
    from flowsim.scenario import describe_scenario, dump_scenario, load_scenario
    from flowsim.yamlio import ConfigError

    try:
        scenario = load_scenario(args.file)
    except ConfigError as err:
        print(err.report(), file=sys.stderr)
        return 2
    if any(getattr(args, k) not in (None, []) for k in SELECTORS):
        return describe_flow(args, scenario)
    sys.stdout.write(dump_scenario(scenario) if args.plain else describe_scenario(scenario))
    return 0

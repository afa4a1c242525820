"""``flowsim describe FILE``: the resolved scenario, or the friction one flow meets.

With a selector (``--element data --from Shenzhen --to "Hong Kong" --category medical
--employer lab``) it prints the effective friction of that flow under the scenario's
border rules, and which rule supplied each value (docs/rules.md). One end may be an
external place, CN or ROW (``--from "Hong Kong" --to ROW``): the flow then meets the
external corridors (``policy.external``, docs/open_region.md) and the rules that name them.
"""

from __future__ import annotations

import argparse
import sys

from flowsim.geography import (
    ALL_CORRIDORS,
    CITIES,
    ELEMENTS,
    EXTERNAL_CORRIDORS,
    EXTERNALS,
    FIELDS,
    ZONES,
)
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
    sel.add_argument(
        "--corridor", choices=ALL_CORRIDORS, help="corridor (checked against the two ends)"
    )
    sel.add_argument("--direction", choices=DIRECTIONS, help="e.g. GD->HK (checked)")
    sel.add_argument("--field", choices=FIELDS, help="research field of the acting agent")
    sel.add_argument("--category", choices=DATA_CATEGORIES, help="data category (data only)")
    sel.add_argument("--kind", choices=SAMPLE_KINDS, help="sample kind (samples only)")
    sel.add_argument("--employer", choices=EMPLOYER_KINDS, help="employer kind of the agent")
    places = CITIES + ZONES + EXTERNALS
    sel.add_argument("--from", dest="origin", choices=places, help="origin city, zone, or CN / ROW")
    sel.add_argument(
        "--to", dest="destination", choices=places, help="destination city, zone, or CN / ROW"
    )
    sel.add_argument(
        "--zone",
        choices=(*ZONES, "none"),
        help="zone of the acting agent (default: the zone of --from for talent, of --to for "
        "the other elements; of the Bay Area end where that end is CN or ROW)",
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
    """Place number (:data:`flowsim.geography.PLACES`) and zone (-1 none) of an end."""
    from flowsim.geography import PLACES, load_geography

    if name in ZONES:
        z = ZONES.index(name)
        return int(load_geography().zone_city[z]), z
    return PLACES.index(name), -1


def describe_flow(args: argparse.Namespace, scenario) -> int:
    """Print the effective friction of the flow the selector options describe."""
    from flowsim.geography import BORDER_JURISDICTIONS, load_geography
    from flowsim.policy import AGENT_END, UNKNOWN, effective_friction
    from flowsim.scenario import _locator, read_chain

    ends = ", ".join(CITIES + ZONES + EXTERNALS)
    if args.element is None:
        return _bad("a flow needs --element", ", ".join(ELEMENTS))
    if args.origin is None or args.destination is None:
        return _bad(
            "a flow needs --from and --to (a city or a zone at each end, or CN or ROW at one)",
            ends,
        )
    if args.origin in EXTERNALS and args.destination in EXTERNALS:
        return _bad(
            f"{args.origin} -> {args.destination}: both ends are external places; the model "
            "makes no flow between them",
            "a Bay Area city or zone at one end at least; CN or ROW at the other",
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
    c = int(geo.place_corridor[o, d])
    if c < 0:
        if "CN" in (args.origin, args.destination):
            allowed = "CN with a city of Hong Kong or Macao (no border between CN and Guangdong)"
        else:
            allowed = "cities of two jurisdictions, or CN or ROW at one end"
        return _bad(f"{args.origin} -> {args.destination} crosses no border", allowed)
    jur = geo.place_jurisdiction
    direction = f"{BORDER_JURISDICTIONS[jur[o]]}->{BORDER_JURISDICTIONS[jur[d]]}"
    if args.corridor is not None and args.corridor != ALL_CORRIDORS[c]:
        return _bad(
            f"--corridor {args.corridor} but {args.origin} -> {args.destination} is on "
            f"{ALL_CORRIDORS[c]}",
            ALL_CORRIDORS[c],
        )
    if args.direction is not None and args.direction != direction:
        return _bad(
            f"--direction {args.direction} but {args.origin} -> {args.destination} goes "
            f"{direction}",
            direction,
        )
    if args.zone is None:
        zone = oz if AGENT_END[args.element] == "origin" else dz
        if args.origin in EXTERNALS or args.destination in EXTERNALS:
            zone = max(oz, dz)  # the acting agent is the Bay Area end's (CN / ROW: no zone)
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
    chain = read_chain(args.file)
    locate = _locator(chain)
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
    external = eff.corridor in EXTERNAL_CORRIDORS
    table = "external" if external else "corridors"
    for q, value in eff.values.items():
        rule = eff.sources[q]
        if rule is None:
            path = ("policy", table, eff.corridor, args.element)
            src = f"the {'default' if external else 'baseline'} (policy.{table}.{eff.corridor}"
            src += f".{args.element})"
            if external and _sets(chain, (*path, q)):  # a scenario's own external border
                file, line, column = locate((*path, q))
                src += f", set in {file}:{line}:{column}"
        else:
            file, line, column = locate(rule.path)
            src = f"{rule.label}, specificity {rule.specificity} ({file}:{line}:{column})"
        shown = "none" if value == float("inf") else f"{value:g}{units[q]}"
        print(f"  {q:<11} {shown:<22} from {src}")
    for rule, key in eff.open_rules:
        print(f"  (not applied: {rule.label} selects on {key}; give --{key} to see it)")
    return 0


def _sets(chain, path: tuple) -> bool:
    """Whether a file of the scenario's chain writes the value at ``path`` itself."""
    from flowsim.scenario import _known_prefix

    return any(_known_prefix(loaded, path) == len(path) for loaded in chain)


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

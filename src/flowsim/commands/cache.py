"""``flowsim cache info|clear``: the warm-start cache of warm-up states (flowsim.warmstart)."""

from __future__ import annotations

import argparse

NAME = "cache"
HELP = (
    "show or empty the warm-start cache: the state at the end of the warm-up, shared by every "
    "policy run with the same behaviour, scale and seed (safe to delete)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim cache``."""
    parser.add_argument(
        "action",
        choices=("info", "clear"),
        help="info: where the cache is, its entries and size; clear: remove every entry",
    )


def main(args: argparse.Namespace) -> int:
    """Print the cache's state or empty it."""
    from flowsim.warmstart import Cache, default_folder, describe

    folder = default_folder()
    cache = None if folder is None else Cache(folder)
    if args.action == "info":
        print(describe(cache))
        return 0
    if cache is None:
        print("the warm-start cache is off (FLOWSIM_CACHE=off): nothing to clear")
        return 0
    count, size = cache.clear()
    print(
        f"removed {count} entr{'y' if count == 1 else 'ies'} ({size / 1e6:.1f} MB) from "
        f"{cache.folder}; the next run of each warm-up runs it again"
    )
    return 0

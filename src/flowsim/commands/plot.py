"""``flowsim plot DIR [DIR ...] [--out DIR] [--format png|svg]``: every figure that applies."""

from __future__ import annotations

import argparse
import sys

FORMATS: tuple[str, ...] = ("png", "svg")
"""Figure formats (as :data:`flowsim.plots.labels.FORMATS`, without importing matplotlib)."""

NAME = "plot"
HELP = "draw the figures of a run or sweep results folder (several run folders are also compared)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim plot``."""
    parser.add_argument(
        "folders",
        nargs="+",
        metavar="DIR",
        help="a results folder from `flowsim run` or `flowsim sweep`",
    )
    parser.add_argument(
        "--out", metavar="DIR", help="where to write the figures (default: DIR/figures/)"
    )
    parser.add_argument(
        "--format", choices=FORMATS, default="png", help="file format (default: png)"
    )
    parser.add_argument("--force", action="store_true", help="replace figures that exist already")
    parser.add_argument(
        "--outputs",
        type=_names,
        metavar="A,B,C",
        help="outputs to draw, comma-separated (time series, comparison panels, sweep "
        "outcomes), e.g. papers,licences,vc_deals; default: each figure's own selection",
    )
    parser.add_argument(
        "--allow-mixed-scales",
        action="store_true",
        help="compare run folders of different agent scales (refused by default)",
    )


def _names(text: str) -> list[str]:
    names = [name.strip() for name in text.split(",") if name.strip()]
    if not names:
        raise argparse.ArgumentTypeError("give output names separated by commas")
    return names


def main(args: argparse.Namespace) -> int:
    """Draw the figures; exit 2 (with the reason) on a folder that is not a results folder."""
    from flowsim.folders import FolderError
    from flowsim.plots import plot_folder
    from flowsim.progress import progress_bar

    bar = progress_bar(desc="figures", unit="figure", disable=None, file=sys.stderr)
    try:
        written = plot_folder(
            args.folders,
            args.out,
            fmt=args.format,
            force=args.force,
            outputs=args.outputs,
            allow_mixed_scales=args.allow_mixed_scales,
            progress=lambda path: (bar.set_postfix_str(path.rsplit("/", 1)[-1]), bar.update(1)),
        )
    except (FolderError, FileExistsError, ValueError) as err:
        bar.close()
        print(f"flowsim plot: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # a full disk, a read-only --out: no partial figure is left
        bar.close()
        where = f" {err.filename}" if err.filename else ""
        print(
            f"flowsim plot: error: cannot write{where}: {err.strerror or err}; figures written "
            "before this one are complete, none is half-written",
            file=sys.stderr,
        )
        return 1
    bar.close()
    for path in written:
        print(path)
    return 0

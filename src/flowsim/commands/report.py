"""``flowsim report POLICY_RUN BASELINE_RUN --out brief.html``: a brief for a planner.

One self-contained HTML page (inline CSS and figures, nothing from another host, prints
well) with the question and the policy in words, the headline effects with 95%
intervals, the path over time, a map of city differences, the fields that gain and
lose, the channels, what decides the answer and how it was made. docs/report.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "report"
HELP = (
    "write a brief for decision-makers: one self-contained HTML page comparing a policy's run "
    "folder with its baseline's (effects with 95 percent CIs, path, city map, fields, "
    "channels, assumptions, provenance)"
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim report``."""
    parser.epilog = (
        "Run both scenarios with the same seed, replications, scale and steps (flowsim run "
        "FILE --replications 8). The numbers are those of `flowsim compare BASELINE_RUN "
        "POLICY_RUN`. The page needs no network: open it in any browser, or print it. "
        "Exit 2 on bad input (not run folders, one replicate, an existing --out without "
        "--force). See docs/report.md."
    )
    parser.add_argument("policy", metavar="POLICY_RUN", help="run folder of the policy scenario")
    parser.add_argument(
        "baseline", metavar="BASELINE_RUN", help="run folder of the baseline (the reference)"
    )
    parser.add_argument("--out", required=True, metavar="FILE.html", help="the HTML file to write")
    parser.add_argument(
        "--force", action="store_true", help="replace --out (and the PDF) if it exists"
    )
    parser.add_argument(
        "--ensemble",
        metavar="DIR",
        help="the ensemble folder both runs were made on (flowsim run --ensemble DIR): the "
        "brief then gives the interval across parameter sets and screens which parameters "
        "move the effect most",
    )
    parser.add_argument(
        "--explain",
        metavar="DIR",
        help="the --out folder of `flowsim explain POLICY_RUN BASELINE_RUN`: the brief shows "
        "its channel contributions",
    )
    parser.add_argument(
        "--outputs",
        metavar="NAME",
        nargs="+",
        default=None,
        help="outputs of the headline (default: those of flowsim compare)",
    )
    parser.add_argument(
        "--pdf",
        action="store_true",
        help="also print the page as PDF (FILE.pdf) with headless Chromium, if /usr/bin/chromium "
        "exists; otherwise say so and write only the HTML",
    )
    parser.add_argument(
        "--allow-mixed-scales",
        action="store_true",
        help="compare runs at different agent scales (refused by default)",
    )


def _error(message: str) -> int:
    print(f"flowsim report: error: {message}", file=sys.stderr)
    return 2


def main(args: argparse.Namespace) -> int:
    """Build the brief and write it; exit 2 with the reason on bad input."""
    from flowsim.outputs import REPORTED, YEARLY_SHARES
    from flowsim.report import ReportError, build_report, print_pdf, write_report

    out = Path(args.out)
    if out.suffix.lower() not in (".html", ".htm"):
        return _error(f"--out {out}: give a file name ending in .html")
    if out.exists() and not args.force:
        return _error(f"{out} exists; choose another --out or ask to replace it (--force)")
    if args.outputs:
        unknown = [o for o in args.outputs if o not in set(REPORTED) | set(YEARLY_SHARES)]
        if unknown:
            return _error(f"unknown output(s) {unknown}; see `flowsim.outputs`")
    for folder in (args.policy, args.baseline):
        if not Path(folder).is_dir():
            return _error(f"{folder}: no such folder; give run folders written by `flowsim run`")
    print("flowsim report: comparing the runs and drawing the figures ...", file=sys.stderr)
    try:
        brief = build_report(
            args.policy,
            args.baseline,
            outputs=args.outputs,
            ensemble=args.ensemble,
            explain=args.explain,
            allow_mixed_scales=args.allow_mixed_scales,
        )
    except ReportError as err:
        return _error(str(err))
    try:
        write_report(brief.html, out, force=args.force)
    except FileExistsError as err:
        return _error(str(err))
    except OSError as err:
        print(f"flowsim report: error: cannot write {out}: {err}; nothing written", file=sys.stderr)
        return 1
    print(f"written: {out}")
    if args.pdf:
        pdf = out.with_suffix(".pdf")
        try:
            print_pdf(out, pdf, force=args.force)
            print(f"written: {pdf}")
        except FileExistsError as err:
            return _error(str(err))
        except RuntimeError as err:
            print(f"flowsim report: note: no PDF: {err}", file=sys.stderr)
    return 0

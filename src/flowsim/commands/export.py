"""``flowsim export DIR --format csv|xlsx [--out PATH] [--force]``: tables for R and Excel."""

from __future__ import annotations

import argparse
import sys

FORMATS: tuple[str, ...] = ("csv", "xlsx")
"""As :data:`flowsim.export.FORMATS`, without importing pandas for ``--help``."""

NAME = "export"
HELP = (
    "write a results folder's tables as CSV files or one Excel workbook, and describe the "
    "folder in ro-crate-metadata.json (RO-Crate 1.1)"
)
DESCRIPTION = """\
Write every table of a results folder (from `flowsim run` or `flowsim sweep`) for R,
Stata and spreadsheet users:

  --format csv    one CSV file per table in a folder (default DIR/csv/)
  --format xlsx   one workbook, a sheet per table and a `manifest` sheet
                  (default DIR/NAME.xlsx; needs the export extra:
                  pip install 'flowsim[export]')

A run folder's tables: timeseries, flows, by_city, links (one row per replicate and
month or year), and yearly, mean_yearly, cross_border_flows (from summary.json). A
sweep folder's: runs, design, and sensitivity once computed. The files are checked
against manifest.json first.

The results folder is then described in DIR/ro-crate-metadata.json (RO-Crate 1.1,
https://w3id.org/ro/crate/1.1): its files, the scenario, the seeds and settings, and
the software versions of the manifest, for repositories and workflow tools.

Nothing that exists is replaced without --force, and --force replaces only an earlier
export. See docs/export.md.
"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``flowsim export``."""
    parser.description = DESCRIPTION
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument("folder", metavar="DIR", help="a results folder (flowsim run or sweep)")
    parser.add_argument(
        "--format", choices=FORMATS, required=True, help="csv (a folder) or xlsx (a workbook)"
    )
    parser.add_argument(
        "--out",
        metavar="PATH",
        help="the folder (csv) or .xlsx file to write (default: DIR/csv/ or DIR/NAME.xlsx)",
    )
    parser.add_argument("--force", action="store_true", help="replace an earlier export at --out")


def main(args: argparse.Namespace) -> int:
    """Export; exit 2 on a folder or --out that cannot be used, 1 if writing fails."""
    from flowsim.diskio import FolderLockedError, write_error_message
    from flowsim.export import ExportError, export
    from flowsim.folders import FolderError

    try:
        written = export(args.folder, args.format, out=args.out, force=args.force)
    except (FolderError, ExportError, FolderLockedError) as err:
        print(f"flowsim export: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(f"flowsim export: error: {write_error_message(err, group=False)}", file=sys.stderr)
        return 1
    for path in written:
        print(path)
    return 0

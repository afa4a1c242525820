"""Start-up: ``flowsim --help`` and ``validate`` import no heavy library; the lazy API still works.

Checked through ``sys.modules`` in a fresh interpreter (a timing would be flaky; the
start-up time itself is measured by hand: see the README's installation notes).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEAVY = ("dask", "distributed", "mesa", "pandas", "scipy", "matplotlib", "pyarrow", "SALib")
"""Libraries that cost seconds of CPU to import, together."""


def _imported_after(code: str) -> list[str]:
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_cli_imports_no_heavy_library():
    assert _imported_after("import flowsim.cli") == [], "import flowsim.cli stays light"


def test_help_builds_every_subcommand_without_heavy_libraries():
    code = (
        "import contextlib, io\nfrom flowsim.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try:\n        main(['--help'])\n    except SystemExit:\n        pass\n"
        "    for name in ('run', 'sweep', 'plot', 'compare', 'sensitivity'):\n"
        "        try:\n            main([name, '--help'])\n        except SystemExit:\n"
        "            pass"
    )
    assert _imported_after(code) == [], "--help of every command imports no heavy library"


def test_validate_imports_no_heavy_library():
    code = (
        "from flowsim.cli import main\n"
        f"assert main(['validate', {str(ROOT / 'scenarios' / 'baseline.yaml')!r}]) == 0"
    )
    assert _imported_after(code) == [], "validate reads YAML and pydantic models only"


def test_the_public_api_is_imported_on_first_use():
    code = (
        "import flowsim, flowsim.run, types\n"
        "assert callable(flowsim.run) and not isinstance(flowsim.run, types.ModuleType), "
        "'flowsim.run is the function even after import flowsim.run'\n"
        "assert flowsim.run is flowsim.run.__globals__['run']\n"
        "assert flowsim.Scenario().scale > 0 and callable(flowsim.sweep)\n"
        "assert callable(flowsim.read_sweep) and callable(flowsim.sensitivity)"
    )
    assert "mesa" in _imported_after(code), "flowsim.run imports the model when asked for"


def test_the_plot_command_offers_the_formats_the_plots_write():
    from flowsim.commands.plot import FORMATS as offered
    from flowsim.plots.labels import FORMATS

    assert offered == FORMATS, "flowsim plot --format offers what flowsim.plots can write"

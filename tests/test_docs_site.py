"""The docs stay true: links resolve offline, generated pages are fresh, stated numbers match.

Checks, without network: every relative link and anchor in README.md and docs/**/*.md points
at a file and heading that exist; docs/reference/cli.md is what scripts/make_cli_reference.py
writes from the parser; docs/index.md is the README with its links made relative to docs/;
numbers marked ``<!-- from PATH:COLUMN -->`` equal the file they cite; the README, the docs
and the notebooks state the scale and warm-up the code uses; every scenario file they name
is shipped, and every ``flowsim`` command in the README parses.
"""

from __future__ import annotations

import contextlib
import csv
import importlib.util
import io
import re
import shlex
import unicodedata
from pathlib import Path

from flowsim import Scenario

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
LINK = re.compile(r"(?<!`)\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


def _pages() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def _slug(heading: str) -> str:
    """Python-Markdown's toc slug: strip markup, lowercase, drop punctuation, hyphenate."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", r"\1", heading)
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    text = re.sub(r"[^\w\s-]", "", text).strip().lower()
    return re.sub(r"[-\s]+", "-", text)


def _anchors(page: Path) -> set[str]:
    text = FENCE.sub("", page.read_text(encoding="utf-8"))
    slugs: set[str] = set()
    for heading in re.findall(r"^#{1,6}\s+(.+?)\s*#*\s*$", text, re.M):
        slug, n = _slug(heading), 1
        base = slug
        while slug in slugs:
            slug, n = f"{base}_{n}", n + 1
        slugs.add(slug)
    return slugs


def test_every_relative_link_and_anchor_resolves():
    broken = []
    for page in _pages():
        text = FENCE.sub("", page.read_text(encoding="utf-8"))
        for target in LINK.findall(text):
            if re.match(r"^[a-z]+:", target):
                continue  # external links are not fetched
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target} (no such file)")
            elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest):
                broken.append(f"{page.relative_to(ROOT)}: {target} (no heading #{anchor})")
    assert not broken, "broken links:\n" + "\n".join(broken)


def test_the_link_check_catches_a_broken_link(tmp_path):
    page = tmp_path / "p.md"
    page.write_text("# Title\n\n[a](#title) [b](#nope)\n", encoding="utf-8")
    assert "title" in _anchors(page)
    assert "nope" not in _anchors(page), "a missing anchor must be found missing"


def _generator(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _cli_facts(page: str) -> tuple[list[str], dict[str, set[str]]]:
    """The command table and each command's options.

    These are what argparse's layout, which differs between Python versions, does not change.
    """
    table = [line for line in page.splitlines() if line.startswith("| [`")]
    sections = re.split(r"^## flowsim (\S+)$", page, flags=re.M)[1:]
    options = {
        name: set(re.findall(r"(?<![\w-])--?[a-z][\w-]*", body))
        for name, body in zip(sections[::2], sections[1::2], strict=True)
    }
    return table, options


def test_the_cli_reference_matches_the_parser():
    committed = (DOCS / "reference" / "cli.md").read_text(encoding="utf-8")
    assert _cli_facts(committed) == _cli_facts(_generator("make_cli_reference").render()), (
        "docs/reference/cli.md is stale: run python scripts/make_cli_reference.py"
    )


def test_the_data_dictionary_matches_the_outputs():
    committed = (DOCS / "reference" / "outputs.md").read_text(encoding="utf-8")
    assert committed == _generator("make_data_dictionary").render(), (
        "docs/reference/outputs.md is stale: run python scripts/make_data_dictionary.py"
    )


def test_index_is_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    expected = re.sub(r"\]\(docs/", "](", readme)
    index = (DOCS / "index.md").read_text(encoding="utf-8")
    body = index.split("\n", 1)[1]
    assert body == expected, (
        "docs/index.md differs from README.md: copy the README there with '](docs/' -> ']('"
    )


def test_numbers_marked_with_their_source_match_it():
    marker = re.compile(r"(-?[\d,]+(?:\.\d+)?)\s*<!-- from ([^:\s]+):(\w+)(?::(\d+))? -->")
    wrong = []
    for page in _pages():
        for number, source, column, row in marker.findall(page.read_text(encoding="utf-8")):
            path = ROOT / source
            assert path.is_file(), f"{page.name} cites {source}, which does not exist"
            with path.open(encoding="utf-8", newline="") as handle:
                rows = list(csv.DictReader(handle))
            value = float(rows[int(row or 0)][column])
            stated = float(number.replace(",", ""))
            decimals = len(number.partition(".")[2])
            if round(value, decimals) != stated:
                wrong.append(f"{page.name}: {number} but {source}:{column} says {value}")
    assert not wrong, "\n".join(wrong)


def test_docs_and_notebooks_state_the_codes_scale_and_warm_up():
    defaults = Scenario()
    per = round(1 / defaults.scale)
    texts = {p.name: p.read_text(encoding="utf-8") for p in _pages()}
    texts |= {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "notebooks").glob("*.ipynb")}
    wrong = []
    for name, text in texts.items():
        if name == "ODD.md" or name == "calibration.md" or name == "model.md":
            continue  # these also tell the model's history ("60-month warm-up before issue 10")
        for n in re.findall(r"one agent per (\d+) real", text):
            if int(n) != per:
                wrong.append(f"{name}: one agent per {n} (the code: {per})")
        for n in re.findall(r"(\d+)[- ]months? (?:of )?warm-up", text):
            if int(n) != defaults.warmup_steps:
                wrong.append(f"{name}: {n}-month warm-up (the code: {defaults.warmup_steps})")
    notebooks = [t for n, t in texts.items() if n.endswith(".ipynb")]
    assert all(f"one agent per {per} real" in t for t in notebooks), (
        "every notebook states the default scale"
    )
    assert not wrong, "\n".join(wrong)


def test_every_scenario_file_the_docs_name_is_shipped():
    """A path under scenarios/ in the README, the docs or a notebook is a file that exists.

    A page may show a new file being written: a code line ``# scenarios/NAME.yaml`` names it.
    """
    pages = [*_pages(), *sorted((ROOT / "notebooks").glob("*.ipynb"))]
    missing = []
    for page in pages:
        text = page.read_text(encoding="utf-8")
        written = set(re.findall(r"^\s*# (scenarios/[\w./-]+\.yaml)\s*$", text, re.M))
        for path in sorted(set(re.findall(r"scenarios/[\w./-]+\.yaml", text)) - written):
            if not (ROOT / path).is_file():
                missing.append(f"{page.relative_to(ROOT)}: {path}")
    assert not missing, "scenario files named in the docs but not shipped:\n" + "\n".join(missing)


def _readme_commands() -> list[list[str]]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    commands = []
    for block in re.findall(r"^ *```bash\n(.*?)^ *```", readme, re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            words = shlex.split(line.partition(" #")[0])
            if words[:1] == ["flowsim"]:
                commands.append(words)
    return commands


def test_the_readmes_commands_parse():
    """Every ``flowsim ...`` line of the README parses with today's parser (no run)."""
    from flowsim.cli import build_parser

    commands = _readme_commands()
    assert len(commands) >= 8, f"the README's walkthrough and quick start: {commands}"
    parser = build_parser()
    wrong = []
    for words in commands:
        try:
            with contextlib.redirect_stderr(io.StringIO()) as err:
                parser.parse_args(words[1:])
        except SystemExit:
            wrong.append(f"{' '.join(words)}: {err.getvalue().strip().splitlines()[-1]}")
    assert not wrong, "README commands the parser refuses:\n" + "\n".join(wrong)


def test_the_readmes_rules_are_the_shipped_analyst_question(tmp_path):
    import shutil

    from flowsim.scenario import load_scenario

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```yaml\n(.*?)```", readme, re.S).group(1)
    text = "\n".join(line[3:] if line.startswith("   ") else line for line in block.splitlines())
    shutil.copy(ROOT / "scenarios" / "baseline.yaml", tmp_path / "baseline.yaml")
    (tmp_path / "readme.yaml").write_text(text, encoding="utf-8")
    mine = load_scenario(tmp_path / "readme.yaml").policy.rules
    shipped = load_scenario(ROOT / "scenarios" / "analyst_question.yaml").policy.rules
    strip = [r.model_copy(update={"name": None}) for r in shipped]
    assert list(mine) == strip, "the README's rules differ from scenarios/analyst_question.yaml"

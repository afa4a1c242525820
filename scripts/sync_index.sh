#!/usr/bin/env bash
# docs/index.md is the README with its docs/ links made relative (tests/test_docs_site.py).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
{ echo '<!-- generated from README.md by tests/test_docs_site.py::test_index_is_the_readme; do not edit -->'; sed 's#](docs/#](#g' README.md; } > docs/index.md

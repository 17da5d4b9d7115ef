#!/usr/bin/env bash
# Run Asha's test suite: ruff, then unit and widget tests offscreen (the import-linter contracts and mypy run as
# tests: tests/test_import_rules.py, tests/test_types.py), then OpenGL (vispy) tests on a virtual X screen.
# Usage: bash scripts/test.sh [extra pytest args]
set -uo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
[ -x "$PY" ] || PY=python3
if [ -x .venv/bin/ruff ]; then
  .venv/bin/ruff check asha_app tests benchmarks scripts || exit 1
fi
QT_QPA_PLATFORM=offscreen "$PY" -m pytest -m "not opengl" "$@"
status=$?
xvfb-run -a -s "-screen 0 1280x1024x24" env QT_QPA_PLATFORM=xcb "$PY" -m pytest -m opengl "$@"
gl=$?
# pytest exits 5 when a marker selects no test: not a failure of the suite
[ $gl -eq 5 ] && gl=0
[ $status -ne 0 ] && exit $status
exit $gl

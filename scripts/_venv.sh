# Sourced by scripts/up and scripts/test: makes sure .venv exists and holds the project.
# Reinstalls when pyproject.toml changes. Needs only Python 3.11+ and access to PyPI.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-python3}"
VENV="${HOTLINE_VENV:-.venv}"
STAMP="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"

if [ ! -f "$STAMP" ]; then
    echo "==> setting up $VENV (first run, or pyproject.toml changed)" >&2
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e '.[dev]'
    rm -f "$VENV"/.installed-*
    touch "$STAMP"
fi

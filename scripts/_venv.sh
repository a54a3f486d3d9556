# Sourced by scripts/serve and scripts/test: make ./.venv and install Spares into it.
# Needs only Python 3.11+ with venv and pip; the venv keeps the system Python untouched.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${SPARES_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Spares needs Python 3.11 or newer (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT${SPARES_EXTRAS:-}"
cd "$ROOT"

# Sourced by scripts/serve and scripts/test: make ./.venv and install Spares into it.
# Needs only Python 3.11+ with venv and pip; the venv keeps the system Python untouched.
# The install is editable, so code changes need no reinstall: pip runs again only when
# pyproject.toml changed (its hash is stamped in the venv), or for extras not installed yet.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-python3}"
VENV="${SPARES_VENV:-$ROOT/.venv}"
if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
    || { echo "Spares needs Python 3.11 or newer (found $("$PYTHON" --version 2>&1))" >&2; exit 1; }
  "$PYTHON" -m venv "$VENV"
fi
EXTRAS="${SPARES_EXTRAS:-}"
HASH="$("$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$ROOT/pyproject.toml")"
STAMP="$VENV/.spares-installed"   # lines: "<pyproject hash> <extras>"
installed() { [ -f "$STAMP" ] && grep -qxF "$HASH $1" "$STAMP"; }
# No extras are wanted when any install of this pyproject.toml is there (extras add to it).
if { [ -z "$EXTRAS" ] && [ -f "$STAMP" ] && grep -q "^$HASH " "$STAMP"; } || installed "$EXTRAS"; then
  :
else
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e "$ROOT$EXTRAS"
  { [ -f "$STAMP" ] && grep "^$HASH " "$STAMP" || true; echo "$HASH $EXTRAS"; } > "$STAMP.new"
  mv "$STAMP.new" "$STAMP"
fi
cd "$ROOT"

# The solver's compiled kernels (numba, cached on disk in optimizer/__pycache__): compile
# them here, once after an install or a change to their sources, so that no server start,
# test or plan waits for the first compile (20 s of CPU and more; over a minute on a busy
# 2-core machine). Later starts load them from the cache in about a second.
KSTAMP="$VENV/.spares-kernels"
if [ -f optimizer/sisr.py ]; then
KHASH="$(cat optimizer/insertion.py optimizer/step.py optimizer/sisr.py \
  | "$VENV/bin/python" -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest())')"
if ! { [ -f "$KSTAMP" ] && grep -qxF "$KHASH" "$KSTAMP" \
       && compgen -G "optimizer/__pycache__/sisr*.nbi" >/dev/null; }; then
  echo "Compiling the solver's kernels once (cached on disk; up to a minute or two)" >&2
  # numba re-checks only a cached function's own file: step._run's cache would keep an old
  # insertion._price or insertion.with_visit it calls. Start from no cache of any of them.
  rm -f optimizer/__pycache__/insertion.*.nb[ic] optimizer/__pycache__/step.*.nb[ic] \
        optimizer/__pycache__/sisr.*.nb[ic]
  "$VENV/bin/python" -c 'import optimizer.insertion as i, optimizer.sisr as s; i.load(); s.load()'
  echo "$KHASH" > "$KSTAMP"
fi
fi

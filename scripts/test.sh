#!/usr/bin/env bash
# Set up what is missing, then run the whole test suite serially, on 2 ranks and, for the
# tests where the decomposition matters, on 4 ranks.
#   scripts/test.sh [extra pytest args]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
source "$ROOT/scripts/mpi_env.sh"
VENV="${GALPROP_VENV:-$ROOT/.venv}"
PY="$VENV/bin/python"
cd "$ROOT"
export PYTHONDONTWRITEBYTECODE=1
# numba compiles each kernel once; warm the cache serially so parallel ranks only read it
"$PY" -c "import galprop_py.physics.energy_losses, galprop_py.physics.injection
from galprop_py.operators.stencil import warm_up; warm_up()" >/dev/null

if [[ -x "$VENV/bin/ruff" ]]; then
    echo "== ruff =="
    "$VENV/bin/ruff" check -q galprop_py tests benchmarks examples
fi
echo "== serial =="
"$PY" -m pytest -q -p no:cacheprovider "$@"
echo "== mpirun -n 2 =="
timeout 1800 $MPIRUN -n 2 "$PY" -m pytest -q -p no:cacheprovider -m "not serial" "$@"
echo "== mpirun -n 4 (decomposition-sensitive tests) =="
timeout 1200 $MPIRUN -n 4 "$PY" -m pytest -q -p no:cacheprovider -m "parallel" "$@"
echo "all test runs passed"

#!/usr/bin/env bash
# Set up what is missing, then run the default Milky Way model on 2 MPI ranks.
#   scripts/run_default.sh [block.key=value ...] [-petsc_option ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
source "$ROOT/scripts/mpi_env.sh"
VENV="${GALPROP_VENV:-$ROOT/.venv}"
cd "$ROOT"
exec $MPIRUN -n "${GALPROP_RANKS:-2}" "$VENV/bin/python" -m galprop_py run "$@"

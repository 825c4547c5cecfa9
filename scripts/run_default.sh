#!/usr/bin/env bash
# Set up what is missing, then run the default Milky Way model on 2 MPI ranks.
#   scripts/run_default.sh [block.key=value ...] [-petsc_option ...]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bash "$ROOT/scripts/setup_env.sh"
source "$ROOT/scripts/mpi_env.sh"
VENV="${GALPROP_VENV:-$ROOT/.venv}"
cd "$ROOT"
# compile the numba kernels once (cached on disk) before the ranks start
"$VENV/bin/python" -c "import galprop_py.physics.energy_losses, galprop_py.physics.injection
from galprop_py.operators.stencil import warm_up; warm_up()" >/dev/null
exec $MPIRUN -n "${GALPROP_RANKS:-2}" "$VENV/bin/python" -m galprop_py run "$@"

#!/usr/bin/env bash
# Strong scaling of the steady 3D case (81 x 81 x 41 x 32 protons): one run per rank count.
#   benchmarks/scaling.sh [N ...]          (default: 1 2)
# On a 16-core node: benchmarks/scaling.sh 1 2 4 8 16  (binds ranks to cores).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source "$ROOT/scripts/mpi_env.sh"
PY="${PYTHON:-${GALPROP_VENV:-$ROOT/.venv}/bin/python}"
counts=("$@")
((${#counts[@]})) || counts=(1 2)
for n in "${counts[@]}"; do
    echo "== $n rank(s) =="
    $MPIRUN --bind-to core -n "$n" "$PY" "$ROOT/benchmarks/steady_performance.py" 3d
done

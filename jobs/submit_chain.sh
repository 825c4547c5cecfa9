#!/usr/bin/env bash
# Submit N links of jobs/transient_chain.slurm, each starting after the previous ends.
#   jobs/submit_chain.sh N CONFIG.toml [block.key=value ...]
# sbatch options can come from the environment, e.g. SBATCH_TIMELIMIT=04:00:00,
# SBATCH_SIGNAL=B:USR1@300, SBATCH_PARTITION=... (they override the script's #SBATCH lines).
set -euo pipefail
n="$1"; shift
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export GALPROP_HOME="${GALPROP_HOME:-$(dirname "$here")}"
dep=""
for ((i = 0; i < n; i++)); do
    id=$(sbatch --parsable ${dep:+--dependency=afterany:$dep} "$here/transient_chain.slurm" "$@")
    echo "submitted link $((i + 1))/$n: job $id"
    dep="$id"
done

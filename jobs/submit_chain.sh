#!/usr/bin/env bash
# Submit N links of jobs/transient_chain.slurm, each starting after the previous ends.
#   jobs/submit_chain.sh N CONFIG.toml [block.key=value ...]
set -euo pipefail
n="$1"; shift
dep=""
for ((i = 0; i < n; i++)); do
    id=$(sbatch --parsable ${dep:+--dependency=afterany:$dep} jobs/transient_chain.slurm "$@")
    echo "submitted link $((i + 1))/$n: job $id"
    dep="$id"
done

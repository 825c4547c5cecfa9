"""The worked examples of issue 3: every printed number against its analytic value."""

from __future__ import annotations

import importlib.util
import math
from pathlib import Path

import pytest

from galprop_py.units import C_CM_S, KM_CM, KPC_CM, MYR_S, YR_S

# functions of one process (no grid, no PETSc, no MPI): the 2-rank pass would only repeat
# them
pytestmark = pytest.mark.serial

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _load(folder: str):
    path = EXAMPLES / folder / f"{folder}.py"
    spec = importlib.util.spec_from_file_location(f"example_{folder}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def flux_example():
    return _load("particle_flux")


@pytest.fixture(scope="module")
def cooling_example():
    return _load("adiabatic_cooling")


@pytest.fixture(scope="module")
def shock_example():
    return _load("shock_acceleration_time")


def test_particle_flux_numbers(flux_example):
    r = flux_example.particle_flux_numbers()
    delta = flux_example.DELTA
    # trapezoid in ln p with 200 points per decade: 1e-4
    assert r["number_density_cm3"] == pytest.approx(r["number_density_analytic_cm3"], rel=1e-4)
    assert r["flux_cm2_s"] == pytest.approx(r["flux_analytic_cm2_s"], rel=1e-4)
    assert r["flux_isotropic_cm2_s"] == 0.0
    assert r["streaming_speed_km_s"] == pytest.approx(delta * r["mean_speed_km_s"], rel=1e-4)
    assert 0.8 * C_CM_S / KM_CM < r["mean_speed_km_s"] < C_CM_S / KM_CM
    assert r["dipole_amplitude"] == pytest.approx(3 * delta, rel=1e-12)
    expected_length = 3e28 / (delta * r["mean_speed_km_s"] * KM_CM) / KPC_CM
    assert r["gradient_length_kpc"] == pytest.approx(expected_length, rel=1e-12)
    assert r["gradient_length_kpc"] == pytest.approx(0.379, abs=1e-3)


def test_adiabatic_cooling_numbers(cooling_example):
    r = cooling_example.adiabatic_cooling_numbers()
    u = cooling_example.WIND_KM_S * KM_CM
    # t_ad = 3 r / (2 u): 1.4667 Myr at 1 kpc (exact arithmetic, 1e-12)
    assert r["cooling_time_r0_myr"] == pytest.approx(1.5 * KPC_CM / u / MYR_S, rel=1e-12)
    assert r["cooling_time_r1_myr"] == pytest.approx(15.0 * KPC_CM / u / MYR_S, rel=1e-12)
    # ODE along the flow vs (r1/r0)^(-2/3) (solver tolerance 1e-11: 1e-8)
    assert r["momentum_shift_numeric"] == pytest.approx(10 ** (-2 / 3), rel=1e-8)
    # power law away from the cut-offs: 1e-3; density exactly follows the gas: 1e-4
    assert r["flux_drop_at_fixed_p"] == pytest.approx(1e-3, rel=1e-3)
    assert r["density_ratio"] == pytest.approx(1e-2, rel=1e-4)
    # relativistic gas: (r/r0)^(-8/3) up to the rest mass (p >~ 20 GeV/c): 2e-3
    assert r["energy_density_ratio"] == pytest.approx(10 ** (-8 / 3), rel=2e-3)


def test_shock_acceleration_numbers(shock_example):
    r = shock_example.shock_acceleration_numbers()
    assert r["spectral_index_q"] == 4.0
    kappa = 3.3e12 * 1000.0 / 3.0 * C_CM_S / 3.0  # B10 Bohm kappa at 1 TeV, 3 muG
    assert r["kappa_bohm_cm2_s"] == pytest.approx(kappa, rel=1e-12)
    t_closed = 20.0 * kappa / (5000.0 * KM_CM) ** 2 / YR_S
    assert r["t_acc_closed_form_yr"] == pytest.approx(t_closed, rel=1e-12)
    assert r["t_acc_closed_form_yr"] == pytest.approx(27.87, abs=0.01)
    # exact kinematics: the closed form scaled by the exact gyroradius constant (2e-3: the
    # integral from the injection momentum and v < c at low p)
    scale = r["gyroradius_exact_cm"] / r["gyroradius_b10_cm"]
    assert scale == pytest.approx(3.3356 / 3.3, rel=1e-3)
    assert r["t_acc_integral_yr"] == pytest.approx(t_closed * scale, rel=2e-3)
    # Bohm: t_acc ~ 1/B and ~ E, so E_max = E t_age / t_acc
    assert r["t_acc_amplified_yr"] == pytest.approx(t_closed * 3.0 / 100.0, rel=1e-12)
    assert r["e_max_gev"] == pytest.approx(1000.0 * 1000.0 / t_closed, rel=1e-12)
    assert r["e_max_gev"] == pytest.approx(35.9e3, rel=2e-3)
    assert r["e_max_amplified_gev"] == pytest.approx(1.196e6, rel=2e-3)


def test_acceleration_time_general_compression(shock_example):
    # unequal fields: B2 = 4 B1 (compressed) gives 3 r (1 + r/4) / (r - 1) = 8 instead of 20
    t = shock_example.acceleration_time_closed_form_s(1000.0, 3.0, 12.0)
    kappa = 3.3e12 * 1000.0 / 3.0 * C_CM_S / 3.0
    assert t == pytest.approx(8.0 * kappa / (5000.0 * KM_CM) ** 2, rel=1e-12)


@pytest.mark.parametrize(
    "folder", ["particle_flux", "adiabatic_cooling", "shock_acceleration_time"]
)
def test_examples_run(folder, capsys):
    module = _load(folder)
    if folder == "particle_flux":
        module.main()
    else:
        module.main([])
    out = capsys.readouterr().out
    assert len(out.splitlines()) >= 5 and "nan" not in out


def test_example_plots(cooling_example, shock_example, tmp_path):
    for module, name in ((cooling_example, "spectra.png"), (shock_example, "t_acc.png")):
        path = tmp_path / name
        module.main(["--plot", str(path)])
        assert path.stat().st_size > 1000
    assert math.isfinite(cooling_example.cooling_time_myr(3.0))

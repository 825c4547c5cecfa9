"""The spectra plots (galprop_py.plotting): legacy species/ratio panels and the network plot,
each data set on its own axis, from synthetic power laws."""

from __future__ import annotations

import numpy as np
import pytest

from galprop_py import observations
from galprop_py.plotting import (
    RESIDUAL_LABEL,
    network_figure,
    plot_network,
    plot_spectra,
    spectra_figure,
)

# functions of one process (no grid split, no MPI): the 2-rank pass of the suite would only
# repeat them
pytestmark = pytest.mark.serial

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
T_N = "kinetic_energy_per_nucleon"
MODEL = {"model LIS", "model TOA (modulated)"}


def _synthetic_results():
    t = np.logspace(-2, 3, 60)
    phi = 0.6  # GV, force field (Gleeson & Axford 1968)

    def lis(t_n, norm, gamma, m=0.938):
        return norm * (t_n + m) ** -gamma

    def toa(t_n, norm, gamma, z_over_a):
        big_phi = z_over_a * phi
        m = 0.938
        return (
            lis(t_n + big_phi, norm, gamma)
            * t_n
            * (t_n + 2 * m)
            / ((t_n + big_phi) * (t_n + big_phi + 2 * m))
        )

    return {
        "H": {"t_n": t, "lis": lis(t, 2.0e4, 2.8), "toa": toa(t, 2.0e4, 2.8, 1.0)},
        "He": {"t_n": t, "lis": lis(t, 1.5e3, 2.7), "toa": toa(t, 1.5e3, 2.7, 0.5)},
        "B": {"t_n": t, "lis": 0.3 * lis(t, 1.0, 3.1), "toa": 0.3 * toa(t, 1.0, 3.1, 0.5)},
        "C": {"t_n": t, "lis": lis(t, 1.0, 2.75), "toa": toa(t, 1.0, 2.75, 0.5)},
    }


def _network_spectra(names=("H", "He", "B", "C", "O", "Be9", "Be10"), ratios=True):
    """Power laws on both axes, as the run passes them: per GeV/n on t_n, per GV on R."""
    t_n, r = np.logspace(-3, 3, 50), np.logspace(-0.5, 3.5, 40)
    norm = {"H": 2e4, "H1": 2e4, "He": 2e3, "B": 30.0, "C": 100.0, "O": 100.0}
    norm.update({"Be9": 5.0, "Be10": 1.0})
    out = {
        n: {
            "t_n": t_n,
            "lis": norm[n] * (t_n + 1.0) ** -2.7,
            "toa": 0.7 * norm[n] * (t_n + 1.0) ** -2.7,
            "rigidity": r,
            "lis_r": norm[n] * r**-2.7,
            "toa_r": 0.7 * norm[n] * r**-2.7,
        }
        for n in names
    }
    if ratios:
        out["B/C"] = {
            "t_n": t_n,
            "lis": 0.3 * (t_n + 1.0) ** -0.4,
            "toa": 0.3 * (t_n + 1.0) ** -0.4,
            "rigidity": r,
            "lis_r": 0.4 * r**-0.4,
            "toa_r": 0.4 * r**-0.4,
        }
        out["Be10/Be9"] = {k: v for k, v in out["B/C"].items()}
    return out


def _by_label(fig):
    """{axes label: set of legend texts} of the visible axes (the data / model axes below
    them left out)."""
    out = {}
    for ax in fig.axes:
        if ax.get_visible() and not ax.get_label().endswith("|" + RESIDUAL_LABEL):
            out[ax.get_label()] = {t.get_text() for t in ax.get_legend().get_texts()}
    return out


def _labels(*names):
    return MODEL | {observations.load(n).label for n in names}


# the data of each network plot, on the axis each set was published on
NETWORK = {
    "H|rigidity": _labels("ams02_proton_rigidity"),
    f"H|{T_N}": _labels("voyager1_proton"),
    "He|rigidity": _labels("ams02_helium_rigidity"),
    f"He|{T_N}": _labels("voyager1_helium", "voyager1_helium_2016"),
    "C|rigidity": _labels("ams02_carbon_rigidity"),
    f"C|{T_N}": _labels("voyager1_carbon"),
    "O|rigidity": _labels("ams02_oxygen_rigidity"),
    f"O|{T_N}": _labels("voyager1_oxygen"),
    "B/C|rigidity": _labels("ams02_bc_rigidity", "pamela_bc_rigidity"),
    f"B/C|{T_N}": _labels("heao3_bc"),
    f"Be10/Be9|{T_N}": _labels("ace_cris_be10_be9", "isomax_be10_be9", "balloons_be10_be9"),
}


def test_plot_spectra_writes_png(tmp_path):
    out = plot_spectra(
        _synthetic_results(), ["H", "He"], tmp_path / "sub" / "spectra.png", ratios=["B/C"]
    )
    data = out.read_bytes()
    assert out.exists() and len(data) > 10_000 and data[:8] == PNG_MAGIC


def test_plot_spectra_explicit_ratio_and_missing_species(tmp_path):
    t = np.logspace(-1, 3, 20)
    results = {"B/C": {"t_n": t, "toa": 0.3 * t**-0.4}}
    out = plot_spectra(results, [], tmp_path / "bc.png", ratios=["B/C"], show_data=False)
    assert out.read_bytes()[:8] == PNG_MAGIC
    with pytest.raises(ValueError, match="'He'"):
        plot_spectra(results, ["He"], tmp_path / "x.png")


def test_without_rigidity_curves_panels_keep_the_t_n_data():
    # a run on the T/n axis only: one plot per panel, AMS-02 as converted to T/n by CRDB
    fig = spectra_figure(_synthetic_results(), ["H", "He"], ratios=["B/C"])
    assert _by_label(fig) == {
        f"H|{T_N}": _labels("ams02_proton", "voyager1_proton"),
        f"He|{T_N}": _labels("ams02_helium", "voyager1_helium", "voyager1_helium_2016"),
        f"B/C|{T_N}": _labels("ams02_bc", "heao3_bc"),
    }


def test_network_panels_have_the_data_on_their_own_axes(tmp_path):
    spectra = _network_spectra()
    fig = network_figure(spectra)
    assert _by_label(fig) == NETWORK
    axes = {ax.get_label(): ax for ax in fig.axes if ax.get_visible()}
    axes = {k: v for k, v in axes.items() if not k.endswith("|" + RESIDUAL_LABEL)}
    for label, ax in axes.items():
        rigidity = label.endswith("|rigidity")
        assert ax.get_xlabel() == ("R [GV]" if rigidity else r"$E_\mathrm{kn}$ [GeV/n]")
        assert ax.get_xscale() == "log"
        if "/" in label:
            assert "dimensionless" in ax.get_ylabel()
        else:
            assert "m$^{-2}$ s$^{-1}$ sr$^{-1}$" in ax.get_ylabel()
            assert ("GV$^{1.7}$" if rigidity else "(GeV/n)$^{-1}$") in ax.get_ylabel()
    # the model against rigidity is the per-GV entry, weighted R^2.7; against T/n plain J
    c_r, c_t = axes["C|rigidity"], axes[f"C|{T_N}"]
    (lis_r,) = [ln for ln in c_r.get_lines() if ln.get_label() == "model LIS"]
    r = spectra["C"]["rigidity"]
    np.testing.assert_allclose(lis_r.get_xdata(), r)
    np.testing.assert_allclose(lis_r.get_ydata(), r**2.7 * spectra["C"]["lis_r"])
    (toa_t,) = [ln for ln in c_t.get_lines() if ln.get_label() == "model TOA (modulated)"]
    np.testing.assert_allclose(toa_t.get_xdata(), spectra["C"]["t_n"])
    np.testing.assert_allclose(toa_t.get_ydata(), spectra["C"]["toa"])
    # the AMS-02 points sit at their published rigidities, the ranges frame them
    ams = observations.load("ams02_carbon_rigidity")
    (points,) = c_r.containers
    np.testing.assert_allclose(points.lines[0].get_xdata(), ams.x)
    np.testing.assert_allclose(points.lines[0].get_ydata(), ams.x**2.7 * ams.y)
    lo, hi = c_r.get_xlim()
    assert lo <= ams.x[0] and hi >= ams.x[-1] and lo > 0.5 and hi < 5e3
    lo, hi = c_t.get_xlim()
    assert hi < 1.0  # Voyager 1 carbon: 5-125 MeV/n

    out = plot_network(spectra, tmp_path / "net" / "network.png")
    data = out.read_bytes()
    assert data[:8] == PNG_MAGIC and len(data) > 50_000


def test_network_skips_missing_entries_and_forms_ratios_from_parts():
    spectra = _network_spectra(names=("H1", "He", "B", "C"), ratios=False)
    fig = network_figure(spectra)
    got = _by_label(fig)
    expected = {k: v for k, v in NETWORK.items() if k.split("|")[0] in ("H", "He", "C", "B/C")}
    expected = {k.replace("H|", "H1|"): v for k, v in expected.items()}
    assert got == expected
    # B/C from B and C: at equal T/n and, on the rigidity axis, at equal rigidity per GV
    bc_r = {ax.get_label(): ax for ax in fig.axes}["B/C|rigidity"]
    (lis,) = [ln for ln in bc_r.get_lines() if ln.get_label() == "model LIS"]
    np.testing.assert_allclose(lis.get_ydata(), spectra["B"]["lis_r"] / spectra["C"]["lis_r"])


def test_network_with_nothing_to_draw_names_the_panels(tmp_path):
    with pytest.raises(ValueError, match="nothing to plot.*He.*B/C"):
        plot_network({"Ne20": {"t_n": [1.0, 2.0], "lis": [1.0, 0.5]}}, tmp_path / "x.png")


def test_network_residuals_are_data_over_the_model():
    """Below every plot with data, data / model of each of its datasets: AMS-02 carbon
    against the TOA per GV (an exact power law here, 0.7 x 100 R^-2.7: log-log interpolation
    is exact, 1e-12), Voyager 1 protons against the LIS (2e4 (T + 1)^-2.7, not the TOA, which
    is 0.7 of it: 1e-2 covers the interpolation between the 50 model energies, h^2/8 max|d2
    ln J / d ln T^2| = 0.007)."""
    spectra = _network_spectra()
    fig = network_figure(spectra)
    res = {ax.get_label(): ax for ax in fig.axes if ax.get_label().endswith(RESIDUAL_LABEL)}
    assert set(res) == {f"{k}|{RESIDUAL_LABEL}" for k in NETWORK}
    ams = observations.load("ams02_carbon_rigidity")
    (points,) = res[f"C|rigidity|{RESIDUAL_LABEL}"].containers
    np.testing.assert_allclose(points.lines[0].get_xdata(), ams.x)
    np.testing.assert_allclose(
        points.lines[0].get_ydata(), ams.y / (70.0 * ams.x**-2.7), rtol=1e-12
    )
    voy = observations.load("voyager1_proton")
    (points,) = res[f"H|{T_N}|{RESIDUAL_LABEL}"].containers
    np.testing.assert_allclose(points.lines[0].get_xdata(), voy.x)
    np.testing.assert_allclose(
        points.lines[0].get_ydata(), voy.y / (2e4 * (voy.x + 1.0) ** -2.7), rtol=1e-2
    )
    assert res[f"H|{T_N}|{RESIDUAL_LABEL}"].get_ylabel() == "data / model"

"""Labelled results: named dimensions (HDF5 dimension scales), coordinates and CF units, read
with xarray (engine h5netcdf) and :func:`galprop_py.io.labelled.open_result`; the result is
written collectively (1 and 2 ranks: the scales are metadata every rank writes)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from mpi4py import MPI
from util import slab_config

from galprop_py import units
from galprop_py.io.labelled import open_result
from galprop_py.run import run

RANK = MPI.COMM_WORLD.rank
H_KPC, N_Z = 4.0, 21


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    """Two slab runs (H1 and He4, 6 momenta 1..100 GeV/n): normalisation off and on."""
    root = tmp_path_factory.mktemp("labelled") if RANK == 0 else None
    root = MPI.COMM_WORLD.bcast(str(root) if root else None, root=0)
    out = {}
    for enabled in (False, True):
        cfg = slab_config(
            n_z=N_Z,
            h=H_KPC,
            run__output_dir=f"{root}/norm_{enabled}",
            normalization__enabled=enabled,
        )
        data = cfg.model_dump()
        data["species"] = [{"name": "H1"}, {"name": "He4", "abundance": 0.1}]
        from galprop_py.config import config_from_dict

        res = run(config_from_dict(data), progress=False)
        out[enabled] = res.output_file
    return out


@pytest.mark.parallel
def test_local_spectra_have_named_energy_dimensions(results):
    """species/H1/sun: dimensions kinetic_energy_per_nucleon and rigidity (no phony_dim),
    coordinates equal to the stored axes, which are the config's log grid 1..100 GeV/n."""
    import xarray as xr

    if RANK != 0:
        return
    path = results[False]
    ds = xr.open_dataset(path, engine="h5netcdf", group="species/H1/sun")
    try:
        assert set(ds.dims) == {"kinetic_energy_per_nucleon", "rigidity"}
        assert ds.flux_toa.dims == ("kinetic_energy_per_nucleon",)
        assert ds.flux_lis_rigidity.dims == ("rigidity",)
        t_n = ds.kinetic_energy_per_nucleon.values
        np.testing.assert_allclose(t_n, np.geomspace(1.0, 100.0, 6), rtol=1e-12)
        # the proton's rigidity at each node: R = p/Z = sqrt(T (T + 2 m)) (Z = 1, A = 1)
        m = units.M_P_GEV
        np.testing.assert_allclose(ds.rigidity.values, np.sqrt(t_n * (t_n + 2 * m)), rtol=1e-6)
        assert ds.flux_toa.attrs["units"] == units.FLUX_UNIT
        assert ds.flux_toa_rigidity.attrs["units"] == units.FLUX_PER_GV_UNIT
        assert ds.rigidity.attrs["units"] == "GV"
        with h5py.File(path, "r") as h5:
            raw = h5["species/H1/sun/flux_toa"][...]
        assert np.array_equal(ds.flux_toa.values, raw)  # labelling changes no number
    finally:
        ds.close()


@pytest.mark.parallel
def test_open_result_groups_coordinates_and_units(results):
    """open_result: the whole-grid flux on (z, momentum) with the slab's cell centres
    z_i = -H + (i + 1/2) 2H/n; every species on the stacked local Dataset."""
    if RANK != 0:
        return
    res = open_result(results[True])
    assert {"grid", "species/H1", "species/H1/sun", "species/He4/sun", "local"} <= set(res)
    flux = res["species/H1"].flux
    assert flux.dims == ("z", "momentum") and flux.shape == (N_Z, 6)
    dz = 2 * H_KPC / N_Z
    np.testing.assert_allclose(
        flux.z.values, -H_KPC + (np.arange(N_Z) + 0.5) * dz, rtol=0, atol=1e-12
    )
    assert flux.attrs["units"] == units.FLUX_UNIT
    local = res["local"]
    assert list(local.species.values) == ["H1", "He4"]
    assert local.flux_toa.dims == ("species", "node")
    np.testing.assert_array_equal(
        local.flux_toa.sel(species="He4").values, res["species/He4/sun"].flux_toa.values
    )
    # elements: H = H1 alone here, so the sums equal the isotope on the same T_n grid
    h = res["sun/elements/H"]
    np.testing.assert_allclose(h.flux_lis.values, res["species/H1/sun"].flux_lis.values, rtol=1e-12)


@pytest.mark.parallel
def test_flux_label_says_whether_normalised(results):
    """A run without normalisation is not labelled "normalised"; one with it is."""
    if RANK != 0:
        return
    with h5py.File(results[False], "r") as h5:
        off = str(h5["species/H1/flux"].attrs["what"])
    with h5py.File(results[True], "r") as h5:
        on = str(h5["species/H1/flux"].attrs["what"])
    assert off.endswith("source units, not normalised")
    assert on.endswith(", normalised")


def test_open_result_refuses_other_files(tmp_path, results):
    (tmp_path / "x.txt").write_text("text")
    with pytest.raises(ValueError, match="not an HDF5 file"):
        open_result(tmp_path / "x.txt")
    with pytest.raises(FileNotFoundError, match="not found"):
        open_result(tmp_path / "none.h5")
    with h5py.File(tmp_path / "ck.h5", "w") as h5:
        h5.attrs["code"] = "galprop-py"
        h5.attrs["content"] = "checkpoint"
    with pytest.raises(ValueError, match="it is a checkpoint"):
        open_result(tmp_path / "ck.h5")


@pytest.mark.serial
def test_an_unlabelled_file_is_labelled_on_request(results, tmp_path):
    """A result without dimension scales (as written before them) is refused with one line,
    and labelled in place with label=True."""
    import shutil

    path = tmp_path / "old.h5"
    with h5py.File(results[False], "r") as src, h5py.File(path, "w") as dst:
        for k, v in src.attrs.items():
            if k != "Conventions":
                dst.attrs[k] = v
        for name in ("grid", "momentum", "species", "sun"):
            for key, obj in _datasets(src[name]):
                d = dst.create_dataset(f"{name}/{key}", data=obj[...])
                for ak, av in obj.attrs.items():
                    if ak not in ("CLASS", "NAME", "REFERENCE_LIST", "DIMENSION_LIST", "units"):
                        d.attrs[ak] = av
            for ak, av in src[name].attrs.items():
                dst[name].attrs[ak] = av
    with pytest.raises(ValueError, match="no named dimensions"):
        open_result(path)
    res = open_result(path, label=True)
    assert res["species/H1"].flux.dims == ("z", "momentum")
    shutil.rmtree(tmp_path, ignore_errors=True)


def _datasets(group, prefix=""):
    out = []
    for k, v in group.items():
        if isinstance(v, h5py.Dataset):
            out.append((f"{prefix}{k}", v))
        else:
            out += _datasets(v, f"{prefix}{k}/")
    return out

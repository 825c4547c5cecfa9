"""Checked restarts (issue 11, items 3 and 4): a checkpoint records the grid, the momentum
grid, the species and the physics it belongs to, with checksums; a restart continues the
same run exactly, also with the default ``cn-be`` scheme."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from mpi4py import MPI
from util import integrated_density, on_rank0

from galprop_py.config import config_from_dict
from galprop_py.run import run

RANK = MPI.COMM_WORLD.rank


def _data(out, n_z=21, t_end=10.0, scheme="cn-be", species=("H1",), **blocks):
    data = {
        "run": {"mode": "transient", "output_dir": str(out)},
        "grid": {"geometry": "slab1d", "z_max_kpc": 4.0, "n_z": n_z},
        "momentum": {"min": 1.0, "max": 100.0, "n": 6, "boundary": "closed"},
        "species": [{"name": s, "injection": {"indices": [2.0]}} for s in species],
        "diffusion": {"d0_cm2_s": 3.0e28, "delta": 0.0, "eta": 0.0},
        "wind": {"v0_km_s": 10.0},
        "gas": {"model": "none"},
        "losses": {"ionisation": False, "coulomb": False, "spallation": False},
        "source": {"profile": "thin_disc"},
        "normalization": {"enabled": False},
        "time": {"dt_myr": 2.0, "t_end_myr": t_end, "scheme": scheme},
        "output": {"plot": False},
    }
    for block, values in blocks.items():
        data.setdefault(block, {}).update(values)
    return data


def _run(data, restart=None):
    return run(config_from_dict(data), progress=False, restart=restart)


def _refusal(data, restart) -> str:
    with pytest.raises((ValueError, OSError)) as err:
        _run(data, restart)
    msg = str(err.value)
    assert "\n" not in msg
    # every rank raises the same message
    assert MPI.COMM_WORLD.allgather(msg) == [msg] * MPI.COMM_WORLD.size
    return msg


@pytest.fixture
def checkpoint(tmp_path_shared):
    """A finished 10 Myr run of H1 on a 21-cell slab: its checkpoint.h5."""
    _run(_data(tmp_path_shared / "a"))
    return tmp_path_shared / "a" / "checkpoint.h5"


def test_checkpoint_records_identity_and_checksums(checkpoint):
    """The checkpoint holds the grid's cell edges, the momentum nodes, the species, the
    physics config and its SHA-256, the integrator's clock; every dataset is Fletcher32."""

    def check():
        with h5py.File(checkpoint) as f:
            assert f.attrs["content"] == "checkpoint"
            assert f["grid/z_edges"].shape == (22,)
            assert f["momentum/nodes"].shape == (6,)
            assert f.attrs["species"] == '["H1"]'
            assert len(f.attrs["physics_sha256"]) == 64
            assert "diffusion" in f.attrs["physics_json"]
            assert "dt_myr" not in f.attrs["physics_json"]  # [time] may change in a restart
            clock = f["clock"].attrs
            assert clock["t_myr"] == 10.0 and clock["scheme"] == "cn-be"
            assert clock["steps_done"] == 5 and clock["dt_myr"] == 2.0
            for name in ("state/H1", "grid/z_edges", "momentum/nodes"):
                assert f[name].fletcher32, name

    on_rank0(check)


def test_restart_on_another_grid_is_refused(checkpoint, tmp_path_shared):
    msg = _refusal(_data(tmp_path_shared / "b", n_z=11, t_end=20.0), str(checkpoint))
    assert "grid.n_z = 21 there, 11 here" in msg and str(checkpoint) in msg


def test_restart_with_a_missing_species_is_refused(checkpoint, tmp_path_shared):
    data = _data(tmp_path_shared / "b", t_end=20.0, species=("H1", "He4"))
    msg = _refusal(data, str(checkpoint))
    assert "species He4 not in the checkpoint" in msg


def test_restart_with_other_physics_is_refused(checkpoint, tmp_path_shared):
    data = _data(tmp_path_shared / "b", t_end=20.0, diffusion={"d0_cm2_s": 4.0e28})
    msg = _refusal(data, str(checkpoint))
    assert "physics: diffusion.d0_cm2_s = 3e+28 there, 4e+28 here" in msg


def test_restart_may_change_end_time_and_outputs(checkpoint, tmp_path_shared):
    """time.t_end_myr, [output], [run] (name), [normalization], [modulation] are not physics
    of the state: a chained restart can change them."""
    data = _data(
        tmp_path_shared / "b", t_end=14.0, run={"name": "next"}, modulation={"phi_gv": 0.3}
    )
    res = _run(data, str(checkpoint))
    assert res.t_myr == pytest.approx(14.0)


def test_flipped_bit_in_a_checkpoint_is_refused(checkpoint, tmp_path_shared):
    """One flipped bit in the state's data fails its Fletcher32 checksum."""
    if RANK == 0:
        with h5py.File(checkpoint) as f:
            info = f["state/H1"].id.get_chunk_info(0)
        with open(checkpoint, "r+b") as fh:
            fh.seek(info.byte_offset + info.size // 2)
            byte = fh.read(1)
            fh.seek(-1, 1)
            fh.write(bytes([byte[0] ^ 0x10]))
    MPI.COMM_WORLD.Barrier()
    msg = _refusal(_data(tmp_path_shared / "b", t_end=20.0), str(checkpoint))
    assert "/state/H1 is damaged" in msg


def test_truncated_or_foreign_file_is_refused(checkpoint, tmp_path_shared):
    bad = tmp_path_shared / "bad.h5"
    if RANK == 0:
        bad.write_bytes(checkpoint.read_bytes()[:2000])
    MPI.COMM_WORLD.Barrier()
    msg = _refusal(_data(tmp_path_shared / "b", t_end=20.0), str(bad))
    assert "cannot" in msg and str(bad) in msg
    text = tmp_path_shared / "notes.txt"
    if RANK == 0:
        text.write_text("not a checkpoint\n")
    MPI.COMM_WORLD.Barrier()
    msg = _refusal(_data(tmp_path_shared / "c", t_end=20.0), str(text))
    assert str(text) in msg


def test_result_file_given_as_checkpoint_is_refused(checkpoint, tmp_path_shared):
    result = checkpoint.parent / "result.h5"
    msg = _refusal(_data(tmp_path_shared / "b", t_end=20.0), str(result))
    assert "is a result file, not a checkpoint" in msg


def test_checkpoint_past_the_end_time_is_refused(checkpoint, tmp_path_shared):
    msg = _refusal(_data(tmp_path_shared / "b", t_end=6.0), str(checkpoint))
    assert "t = 10 Myr, past time.t_end_myr = 6" in msg


@pytest.mark.parallel
@pytest.mark.parametrize("scheme", ["cn-be", "crank_nicolson", "backward_euler"])
def test_restart_continues_the_same_run(tmp_path_shared, scheme):
    """10 steps in one go equal 5 steps, a checkpoint and 5 more after a restart, for every
    scheme: with cn-be the backward-Euler start-up is not redone (was 2.5e-7 before the
    checkpoint kept the integrator's steps; now equal to round-off)."""
    full = _run(_data(tmp_path_shared / "full", t_end=20.0, scheme=scheme))
    _run(_data(tmp_path_shared / "first", t_end=10.0, scheme=scheme))
    ck = tmp_path_shared / "first" / "checkpoint.h5"
    resumed = _run(_data(tmp_path_shared / "second", t_end=20.0, scheme=scheme), str(ck))
    a, b = integrated_density(full), integrated_density(resumed)
    assert np.max(np.abs(a - b)) / a.max() < 1e-10


def test_changed_time_step_starts_the_scheme_again(tmp_path_shared, capsys):
    """A restart with another dt is allowed; cn-be then redoes its start-up (a step size
    change) and says so."""
    _run(_data(tmp_path_shared / "first", t_end=10.0))
    ck = tmp_path_shared / "first" / "checkpoint.h5"
    data = _data(tmp_path_shared / "second", t_end=14.0)
    data["time"]["dt_myr"] = 1.0
    res = _run(data, str(ck))
    assert res.t_myr == pytest.approx(14.0)
    if RANK == 0:
        assert "the scheme starts again" in capsys.readouterr().out

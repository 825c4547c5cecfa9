"""Parallel HDF5 output: results, snapshots and checkpoints (h5py, driver "mpio"), and
result files as labelled xarray Datasets (:func:`open_result`)."""

from .hdf5 import ParallelFile, read_checkpoint, write_checkpoint


def open_result(path, load: bool = True, label: bool = False):
    """The groups of a result file as xarray Datasets (:func:`galprop_py.io.labelled.open_result`;
    imported on use: xarray is not needed by runs)."""
    from .labelled import open_result as _open

    return _open(path, load=load, label=label)


__all__ = ["ParallelFile", "open_result", "read_checkpoint", "write_checkpoint"]

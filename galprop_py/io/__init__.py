"""Parallel HDF5 output: results, snapshots and checkpoints (h5py, driver "mpio")."""

from .hdf5 import ParallelFile, read_checkpoint, write_checkpoint

__all__ = ["ParallelFile", "read_checkpoint", "write_checkpoint"]

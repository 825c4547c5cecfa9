"""The built-in analytic gas (moved to :mod:`galprop_py.galaxy.gas`, which has the named
H I, H2 and H II models); kept importable: ``n_hi``, ``n_h2``, ``n_h_nuclei``."""

from ..galaxy.gas import R_SUN_GAS_KPC, n_h2, n_h_nuclei, n_hi

__all__ = ["R_SUN_GAS_KPC", "n_h2", "n_h_nuclei", "n_hi"]

"""Plot the local spectra stored in a galprop-py result file.

python plot_result.py output/milky_way.h5 [out.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

import h5py

from galprop_py.plotting import plot_spectra


def main(path: str, out_png: str | None = None) -> Path:
    spectra = {}
    with h5py.File(path, "r") as f:
        for name, g in f["species"].items():
            sun = g["sun"]
            spectra[name] = {
                "t_n": sun["kinetic_energy_per_nucleon"][...],
                "lis": sun["flux_lis"][...],
                "toa": sun["flux_toa"][...],
            }
    names = [s for s in ("H1", "He4") if s in spectra] or sorted(spectra)
    out = Path(out_png) if out_png else Path(path).with_suffix(".png")
    return plot_spectra(spectra, names, out)


if __name__ == "__main__":
    print(main(*sys.argv[1:3]))

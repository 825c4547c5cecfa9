"""Plot p, He, C, O, B/C and 10Be/9Be of a full-network result against the shipped data.

python plot_result.py output/full_network.h5 [out.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

from galprop_py.plotting import plot_network
from galprop_py.spectra import read_local


def main(path: str, out_png: str | None = None) -> Path:
    out = Path(out_png) if out_png else Path(path).with_name(Path(path).stem + "_network.png")
    return plot_network(read_local(path), out, title=Path(path).stem)


if __name__ == "__main__":
    print(main(*sys.argv[1:3]))

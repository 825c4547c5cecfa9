"""``python -m galprop_py.galaxy``: every named galaxy model with its reference."""

from . import DIRECTION, H2, HI, HII, ISRF, REACCELERATION, SOURCES, SPATIAL, STRENGTH

for registry in (SOURCES, HI, H2, HII, ISRF, STRENGTH, DIRECTION, SPATIAL, REACCELERATION):
    print(f"[{registry.ingredient}]")
    print(registry.table())
    print()

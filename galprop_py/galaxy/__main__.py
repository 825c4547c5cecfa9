"""``python -m galprop_py.galaxy``: every named galaxy model with its reference."""

from . import H2, HI, HII, SOURCES

for registry in (SOURCES, HI, H2, HII):
    print(f"[{registry.ingredient}]")
    print(registry.table())
    print()

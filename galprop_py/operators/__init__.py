"""Physical operators of the transport equation, one module each, chosen by name.

Each operator adds its discretisation to a :class:`~galprop_py.operators.stencil.StencilSystem`
through the same method ``assemble(system, coeffs, decomp)``.
"""

from .adiabatic import AdiabaticEnergyChange
from .advection import WindAdvection
from .catastrophic import CatastrophicLosses
from .continuous_losses import ContinuousLosses
from .diffusion import SpatialDiffusion
from .reacceleration import MomentumDiffusion

REGISTRY = {
    cls.name: cls
    for cls in (
        SpatialDiffusion,
        WindAdvection,
        AdiabaticEnergyChange,
        MomentumDiffusion,
        ContinuousLosses,
        CatastrophicLosses,
    )
}

__all__ = ["REGISTRY"] + [c.__name__ for c in REGISTRY.values()]

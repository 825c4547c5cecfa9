"""Galaxy ingredients by name: source densities and gas, each model with its paper.

=================  ==============================  =============================================
ingredient         module / registry               models (config key)
=================  ==============================  =============================================
source density     :mod:`.sources` ``SOURCES``     lorimer2006, snr, case_bhattacharya1998,
                                                   yusifov_kucuk2004, ferriere2001, green2015,
                                                   uniform, thin_disc, gaussian, table
                                                   (``source.profile``, ``[source.parameters]``)
H I                :mod:`.gas` ``HI``              analytic, gordon_burton1976, table, none
                                                   (``gas.hi_model``, ``[gas.hi_parameters]``)
H2                 :mod:`.gas` ``H2``              analytic, ferriere2001, bronfman1988, table,
                                                   none (``gas.h2_model``, ``[gas.h2_parameters]``)
X_CO(R)            :func:`.gas.x_co_law`           constant, strong2004 (``gas.x_co``)
H II               :mod:`.gas` ``HII``             cordes1991, table, none
                                                   (``gas.hii_model``, ``[gas.hii_parameters]``)
radiation (ISRF)   :mod:`.radiation` ``ISRF``      grey_bodies, mathis1983, table
                                                   (``losses.isrf_model``,
                                                   ``[losses.isrf_parameters]``)
B strength |B|     :mod:`.magnetic` ``STRENGTH``   exponential_disc, uniform, pshirkov2011_ass,
                                                   pshirkov2011_bss, jf12, table
                                                   (``losses.b_field_model``,
                                                   ``[losses.b_field_parameters]``)
B direction b      :mod:`.magnetic` ``DIRECTION``  uniform, spiral, pshirkov2011_ass,
                                                   pshirkov2011_bss, jf12, table
                                                   (``diffusion.field_model``,
                                                   ``[diffusion.field_parameters]``)
D(x) = s(x) D(R)   :mod:`.transport` ``SPATIAL``   uniform, exponential_z, two_zone,
                                                   field_strength, random_field (quasi-linear
                                                   dB/B0 of jf12 / table) (``diffusion.spatial``,
                                                   ``[diffusion.spatial_parameters]``)
spiral arms (3D)   :mod:`.spiral_arms`             spiral_arms of SOURCES, HI, H2: a base model
                                                   times four arms, ``arms`` = fgk2006 or
                                                   steiman_cameron2010
reacceleration     :mod:`.transport`               seo_ptuskin1994, ptuskin2003
                   ``REACCELERATION``              (``reacceleration.model``)
user tables        :mod:`.tables`                  HDF5 (r, z) / (x, y, z) / r, text r z v / r v
=================  ==============================  =============================================

Each registry entry (:class:`.registry.NamedModel`) has its reference, a pydantic parameter
class (defaults from the paper, bounds; unknown or out-of-range parameters are refused in one
line) and ``model(r, z, params)``.  ``python -m galprop_py.galaxy`` prints every model with its
reference and parameters.  The tests (``tests/test_galaxy_ingredients.py``) check each model
against a value or property printed in its paper.
"""

from . import gas, magnetic, radiation, registry, sources, tables, transport
from .gas import H2, HI, HII
from .magnetic import DIRECTION, STRENGTH
from .radiation import ISRF
from .sources import SOURCES
from .transport import REACCELERATION, SPATIAL

__all__ = [
    "DIRECTION",
    "H2",
    "HI",
    "HII",
    "ISRF",
    "REACCELERATION",
    "SOURCES",
    "SPATIAL",
    "STRENGTH",
    "gas",
    "magnetic",
    "radiation",
    "registry",
    "sources",
    "tables",
    "transport",
]

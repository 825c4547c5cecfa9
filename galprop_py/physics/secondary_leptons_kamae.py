"""Parameter functions of Kamae et al. 2006 for e+ and e- from p-p collisions.

Kamae, Karlsson, Mizuno, Abe & Koi 2006, ApJ 647, 692 (erratum ApJ 662, 779): the
inclusive cross section dsigma/dlog10(E) of a secondary of energy E [GeV] is the sum of
four parametrised components (non-diffractive, diffractive, Delta(1232), res(1600)),
each a function of ``x = log10(E / GeV)`` whose parameters are polynomial / tanh / log
functions of ``y = log10(T_p / TeV)`` (the lepton tables of the paper, as released with
the authors' cparamlib, github.com/niklask/cparamlib, 2007 version with the erratum).
This module holds only those parameter functions, vectorised over numpy arrays of T_p;
:mod:`galprop_py.physics.secondary_leptons` assembles the cross section.

Each function returns an array of shape ``(n_par,) + T_p.shape``, zero where the
component is absent (outside its T_p range).
"""

from __future__ import annotations

import numpy as np

__all__ = ["electron_parameters", "positron_parameters"]

T_P_MAX_GEV = 512000.0  # upper end of the parametrisation (512 TeV)


def _sq(v):
    return v * v


def _mask(values, keep):
    return np.where(keep[None, ...], np.array(values), 0.0)


def _positron_nd(tp, y):
    z = y + 3.3
    z2 = y + 3.32
    a = [
        z * (-0.79606 + z * (7.7496 + z * (-3.9326 + z * (0.80202 - 0.054994 * z)))),
        6.7943e-6
        + y * (-3.5345e-6 + y * (6.0927e-7 + y * (2.0219e-7 + y * (5.1005e-8 - 4.2622e-8 * y)))),
        44.827 + 81.378 * np.log10(0.027733 * (y + 3.5)) - 1.3886e4 / _sq(y + 8.4417),
        0.52010 + y * (0.59336 + y * (0.012032 - 0.0064242 * y)),
        z2 * (2.1361 + z2 * (1.8514 + z2 * (-0.47872 + z2 * (0.0032043 + 0.0082955 * z2)))),
        1.0845e-6
        + 1.4336e-6 * np.log10(0.0077255 * (y + 4.3))
        + 0.00013018 / _sq(y + 4.8188)
        + 9.3601e-8 * y,
        -267.74 + 14.175 * np.log10(0.35391 * (y + 3.4)) + y * (64.669 - 7.7036 * y),
        138.26
        - 529.84 * np.log10(0.12467 * (y + 3.9))
        - 1.9869e4 / _sq(y + 7.6884)
        + 1.0675 * y * y,
        -0.14707 + y * (0.40135 + y * (0.0039899 - 0.0016602 * y)),
    ]
    return _mask(a, (tp > 0.487) & (tp < T_P_MAX_GEV + 0.1))


def _positron_diff(tp, y):
    q1 = (y + 1.8781) / (1.0 + 3.8389 * (y + 1.8781))
    q3 = (y + 1.8194) / (1.0 + 0.99946 * (y + 1.8194))
    high = [
        29.192 * np.tanh(-0.37879 * (y + 2.2))
        - 3.2196 * _sq(y + 0.675)
        + 3.6687e-3 * _sq(_sq(y + 9.0824)),
        -142.97 + 147.86 * np.exp(-0.37194 * q1 * q1),
        -14.487 - 4.2223 * np.tanh(-13.546 * (y + 2.2)) + 0.00016988 * _sq(y + 234.65),
        -0.0036974 - 0.41976 * np.exp(-6.1527 * q3 * q3),
    ]
    z1 = y + 2.95
    q4 = y + 2.29 - 0.18967 * (y + 2.29)
    low = [
        1.8108 + z1 * z1 * (0.18545 - 2.0049e-3 * z1 * z1) + 0.85084 * np.exp(-14.987 * q4 * q4),
        2.0404 - 0.51548 * np.tanh(2.2758 * (y + 1.9)) - 0.035009 * (y - 6.6555),
        1.5258 + y * (1.0132 + y * (-0.064388 + y * (-0.0040209 + 0.0082772 * y))),
        3.0551 + 3.5240 * np.tanh(-0.36739 * (y + 2.1)) - 0.13382 * _sq(y - 2.7718),
    ]
    in_range = (tp > 1.94) & (tp < T_P_MAX_GEV + 0.1)
    return np.concatenate([_mask(high, in_range & (tp > 11.0)), _mask(low, in_range)])


def _positron_delta(tp, y):
    q = (y + 3.1272) / (1.0 + 0.22831 * (y + 3.1272))
    c = [
        2.9841 * np.exp(-67.857 * q * q) - (6.5855 + 9.6984 / y - 0.41256 * y * y),
        6.8276 + 5.2236 * y + 1.4630 * y * y,
        -6.0291 - 6.4581 * np.tanh(5.0830 * (y + 2.1)) + 0.46352 * y,
        0.59300 + 0.36093 * y,
        0.77368 + 0.44776 * y + 0.056409 * y * y,
    ]
    return _mask(c, (tp >= 0.488) & (tp <= 1.95))


def _positron_res(tp, y):
    q = (y + 2.9485) / (1.0 + 1.2892 * (y + 2.9485))
    d = [
        1.9186 * np.exp(-56.544 * q * q) - (0.23720 - 0.041315 * y * y),
        -4.9866 - 3.1435 * y,
        -7.0550 - 7.2165 * np.tanh(31.033 * (y + 2.1)) + 0.38541 * y,
        -2.8915 - 2.1495 * y - 0.45006 * y * y,
        -1.2970 - 0.13947 * y + 0.41197 * y * y + 0.10641 * y * y * y,
    ]
    return _mask(d, (tp >= 0.69) & (tp < 2.76))


def _electron_nd(tp, y):
    z = y + 3.3
    z2 = y + 3.32
    a = [
        z * (-0.018639 + z * (2.4315 + z * (-0.57719 + 0.063435 * z))),
        7.1827e-6
        + y * (-3.5067e-6 + y * (1.3264e-6 + y * (-3.3481e-7 + y * (2.3551e-8 + 3.4297e-9 * y)))),
        563.91 - 362.18 * np.log10(2.7187 * (y + 3.4)) - 2.8924e4 / _sq(y + 7.9031),
        0.52684 + y * (0.57717 + y * (0.0045336 - 0.0089066 * y)),
        z2 * (0.36108 + z2 * (1.6963 + z2 * (-0.074456 + z2 * (-0.071455 + 0.010473 * z2)))),
        9.7387e-5
        + 7.8573e-5 * np.log10(0.0036055 * (y + 4.3))
        + 0.00024660 / (y + 4.9390)
        - 3.8097e-7 * y * y,
        -273.00 - 106.22 * np.log10(0.34100 * (y + 3.4)) + 89.037 * y - 12.546 * y * y,
        432.53 - 883.99 * np.log10(0.19737 * (y + 3.9)) - 4.1938e4 / _sq(y + 8.5518),
        -0.12756 + y * (0.43478 + y * (-0.0027797 - 0.0083074 * y)),
    ]
    return _mask(a, (tp > 0.487) & (tp < T_P_MAX_GEV + 0.1))


def _electron_diff(tp, y):
    q1 = (y + 2.0154) / (1.0 + 0.62779 * (y + 2.0154))
    q3 = (y + 1.9877) / (1.0 + 0.40300 * (y + 1.988))
    high = [
        0.20463 * np.tanh(-6.2370 * (y + 2.2))
        - 0.16362 * _sq(y + 1.6878)
        + 3.5183e-4 * _sq(_sq(y + 9.64)),
        1.6537 + 3.8530 * np.exp(-3.2027 * q1 * q1),
        -10.722 + 0.082672 * np.tanh(1.8879 * (y + 2.1)) + 0.00014895 * _sq(y + 256.63),
        -0.023752 - 0.51734 * np.exp(-3.3087 * q3 * q3),
    ]
    z1 = y + 2.9
    low = [
        0.94921 + 0.12280 * z1 * z1 - 7.1585e-4 * _sq(z1 * z1) + 0.52130 * np.log10(np.abs(z1)),
        -4.2295 - 1.0025 * np.tanh(9.0733 * (y + 1.9)) - 0.11452 * (y - 62.382),
        1.4862 + y * (0.99544 + y * (-0.042763 + y * (-0.0040065 + 0.0057987 * y))),
        6.2629 + 6.9517 * np.tanh(-0.36480 * (y + 2.1)) - 0.26033 * _sq(y - 2.8542),
    ]
    in_range = (tp > 1.94) & (tp < T_P_MAX_GEV + 0.1)
    return np.concatenate([_mask(high, in_range & (tp > 5.51)), _mask(low, in_range)])


def _electron_res(tp, y):
    q = (y + 2.9537) / (1.0 + 1.5221 * (y + 2.9537))
    d = [
        0.37790 * np.exp(-56.826 * q * q) - 0.059458 + 0.0096583 * y * y,
        -5.5135 - 3.3988 * y,
        -7.1209 - 7.1850 * np.tanh(30.801 * (y + 2.1)) + 0.35108 * y,
        -6.7841 - 4.8385 * y - 0.91523 * y * y,
        -134.03 - 139.63 * y - 48.316 * y * y - 5.5526 * y * y * y,
    ]
    return _mask(d, (tp >= 0.69) & (tp <= 2.76))


def _nd_renormalisation(tp, y, charge):
    """Low-energy renormalisation r(y) of the non-diffractive part (Kamae et al. 2006)."""
    if charge > 0:
        q = (y + 3.25) / (1.0 + 10.4 * (y + 3.25))
        return np.where(tp <= 5.52, 2.22 * np.exp(-98.9 * q * q), 1.0)
    q = (y + 3.26) / (1.0 + 9.21 * (y + 3.26))
    return np.where(tp <= 15.6, 3.63 * np.exp(-106.0 * q * q) + y * (-0.182 - 0.175 * y), 1.01)


def _parameters(tp, charge):
    tp = np.asarray(tp, dtype=float)
    with np.errstate(all="ignore"):
        y = np.log10(np.maximum(tp, 1e-3) * 1e-3)
        if charge > 0:
            nd, diff = _positron_nd(tp, y), _positron_diff(tp, y)
            delta, res = _positron_delta(tp, y), _positron_res(tp, y)
        else:
            nd, diff = _electron_nd(tp, y), _electron_diff(tp, y)
            delta = np.zeros((5,) + tp.shape)  # no e- from Delta(1232) (Kamae et al.)
            res = _electron_res(tp, y)
        r_nd = _nd_renormalisation(tp, y, charge)
    return {
        "nd": np.nan_to_num(nd),
        "diff": np.nan_to_num(diff),
        "delta": np.nan_to_num(delta),
        "res": np.nan_to_num(res),
        "r_nd": r_nd,
    }


def positron_parameters(tp):
    """Kamae et al. 2006 e+ parameters at proton kinetic energy ``tp`` [GeV] (dict of arrays)."""
    return _parameters(tp, +1)


def electron_parameters(tp):
    """Kamae et al. 2006 e- parameters at proton kinetic energy ``tp`` [GeV] (dict of arrays)."""
    return _parameters(tp, -1)

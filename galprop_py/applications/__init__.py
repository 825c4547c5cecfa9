"""Applications of the transport code to objects other than the Milky Way.

* :mod:`.starburst`: a starburst nucleus (M 82 / NGC 253-like): calorimetric fraction,
  escape and loss times, gamma-ray and radio spectra of a run.
"""

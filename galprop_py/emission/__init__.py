"""Photon emission processes of cosmic rays in the interstellar medium.

* :mod:`.pi0` -- gamma rays from pi0 decay in nucleus-gas collisions (Kafexhiu et al. 2014);
* :mod:`.inverse_compton` -- inverse Compton scattering on isotropic photon fields
  (Klein-Nishina, Jones 1968 / Blumenthal & Gould 1970);
* :mod:`.bremsstrahlung` -- electron/positron bremsstrahlung on neutral H, He and ionised gas
  (Bethe-Heitler with atomic form factors, Blumenthal & Gould 1970 section 3);
* :mod:`.synchrotron` -- synchrotron emission in a tangled field (exact pitch-angle average);
* :mod:`.emissivity` -- each process's emissivity in every cell of a run;
* :mod:`.skymap` -- line of sight to HEALPix maps, luminosities; :mod:`.maps_io` files;
  :mod:`.plot_maps` Mollweide maps and region spectra;
* :mod:`.products` -- the ``[emission]`` stage of a run (maps, luminosities, files).
"""

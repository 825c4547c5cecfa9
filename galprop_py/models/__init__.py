"""Models: turn a validated config into grids and per-species transport coefficients."""

"""Small numerical helpers used by the trackers (Fourier interpolation)."""

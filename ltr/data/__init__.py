"""Training data: box operations, proposal sampling, processing and sampling of frame pairs."""

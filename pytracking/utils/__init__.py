"""Shared I/O and drawing helpers used by training, evaluation and the runners."""

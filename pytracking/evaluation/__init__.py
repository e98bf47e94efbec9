"""Benchmark data sets, the Sequence type and the tracker runner."""

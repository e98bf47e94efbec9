"""Utility command-line scripts (result packing for evaluation servers)."""

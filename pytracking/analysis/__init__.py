"""Tracking-result analysis: OPE metrics (pytracking / got10k protocols), plots and the report CLI."""

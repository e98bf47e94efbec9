"""Adapters that let outside evaluation toolkits (the VOT toolkit through TraX, the got10k toolkit) run our trackers."""

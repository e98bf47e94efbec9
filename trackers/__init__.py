"""trackers package."""

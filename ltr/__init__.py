"""ltr package."""

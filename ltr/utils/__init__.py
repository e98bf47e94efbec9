"""Shared helpers under training, trackers and evaluation: atomic file writes (``files``), box and image files
(``box_io``, ``image_io``), usable CPU cores (``cpu``), the lazy name registry (``registry``) and the exit-status
and one-line-error rule of every command-line tool (``cli_errors``)."""

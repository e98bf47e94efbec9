"""Helpers of the evaluation command-line tools: argument checks, drawing, frame prefetching, video I/O (shared file,
box and image I/O live in ``ltr.utils``)."""

"""Administration: checkpoints, network loading, paths."""

"""Training loop (``trainer.Trainer``), torchrun/DDP plumbing (``distributed``), logs and RNG state."""

"""Benchmark parsers (``benchmarks``: ``load_dataset``, the ``Sequence`` type) and training data sets: the
``TrainingDataset`` interface (``base``), views over the benchmark layouts (``sequences``,
``got10k``, ``lasot``, ``trackingnet``, ``folder``, ``uav123``), COCO instances (``coco``) and procedural
sequences (``synthetic``; ``python -m ltr.dataset.synthetic OUT_DIR`` writes them to disk)."""

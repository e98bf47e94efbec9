"""The tracker runner and tiny synthetic benchmark trees (the data-set parsers and ``Sequence`` live in
``ltr.dataset.benchmarks``)."""

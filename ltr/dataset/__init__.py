"""Training data sets: the ``TrainingDataset`` interface, adapters over the benchmark loaders, COCO, synthetic data."""
from ltr.dataset.base import SequenceInfo, TrainingDataset
from ltr.dataset.sequences import SequenceListDataset
from ltr.dataset.synthetic import SyntheticDataset, SyntheticParams

__all__ = ["SequenceInfo", "TrainingDataset", "SequenceListDataset", "SyntheticDataset", "SyntheticParams"]

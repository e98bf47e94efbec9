"""Fixed-size memory of projected training samples, their labels and weights (ATOM's online update)."""
from __future__ import annotations

import torch


def update_sample_weights(weights: torch.Tensor, num_stored: int, previous_index: int | None, num_init: int,
                          learning_rate: float, init_min_weight: float) -> int:
    """Insert a new sample's weight in place and return the slot it goes to.

    The slot is the next free one, or when the memory is full the lowest-weight slot among those after the
    ``num_init`` first-frame samples (which are never replaced). The first update after initialisation scales all
    weights by 1/(1 - lr) and gives the new sample lr; later updates give it the previous new sample's weight
    divided by (1 - lr). Weights are then normalised to sum 1; if the first-frame samples then hold less than
    ``init_min_weight``, they get ``init_min_weight / num_init`` each and the others share the rest.

    Args:
        weights: [capacity] weights, slots >= num_stored are ignored (modified in place).
        num_stored: number of filled slots.
        previous_index: slot of the previous update, None before the first one.
        num_init: number of first-frame samples at the start of the memory.
        learning_rate: weight of the new sample relative to the decayed old ones.
        init_min_weight: minimum total weight of the first-frame samples (0 disables it).

    Returns:
        The slot index to write the new sample to.
    """
    capacity = weights.shape[0]
    if num_stored < capacity:
        index = num_stored
    else:
        index = num_init + int(torch.argmin(weights[num_init:]))
    if previous_index is None:
        weights /= 1.0 - learning_rate
        weights[index] = learning_rate
    else:
        weights[index] = weights[previous_index] / (1.0 - learning_rate)
    used = max(num_stored, index + 1)
    weights[used:] = 0.0
    weights[:used] /= weights[:used].sum()
    init_total = weights[:num_init].sum()
    if num_init and init_min_weight > 0 and init_total < init_min_weight:
        rest = weights[num_init:used]
        rest *= (1.0 - init_min_weight) / rest.sum()
        weights[:num_init] = init_min_weight / num_init
    return index


class SampleMemory:
    """Projected samples [capacity, D, H, W], labels [capacity, 1, H, W] and weights [capacity] on one device."""

    def __init__(self, capacity: int, sample_shape: tuple[int, int, int], *, learning_rate: float,
                 init_min_weight: float, device: torch.device | str = "cpu", dtype: torch.dtype = torch.float32):
        self.capacity = capacity
        self.learning_rate = learning_rate
        self.init_min_weight = init_min_weight
        self.samples = torch.zeros(capacity, *sample_shape, device=device, dtype=dtype)
        self.labels = torch.zeros(capacity, 1, *sample_shape[1:], device=device, dtype=dtype)
        self.weights = torch.zeros(capacity, device=device, dtype=dtype)
        self.num_stored = 0
        self.num_init = 0
        self.previous_index: int | None = None

    def initialize(self, samples: torch.Tensor, labels: torch.Tensor) -> None:
        """Store the first-frame samples [N, D, H, W] and labels [N, 1, H, W] with equal weights 1/N."""
        count = samples.shape[0]
        if count > self.capacity:
            raise ValueError(f"{count} initial samples exceed the memory size {self.capacity}")
        self.samples[:count] = samples
        self.labels[:count] = labels
        self.weights.zero_()
        self.weights[:count] = 1.0 / count
        self.num_stored = self.num_init = count
        self.previous_index = None

    def add(self, sample: torch.Tensor, label: torch.Tensor, learning_rate: float | None = None) -> int:
        """Insert one sample [D, H, W] with its label [1, H, W]; returns the slot used."""
        lr = self.learning_rate if learning_rate is None else learning_rate
        index = update_sample_weights(self.weights, self.num_stored, self.previous_index, self.num_init, lr,
                                      self.init_min_weight)
        self.samples[index] = sample
        self.labels[index] = label
        self.previous_index = index
        self.num_stored = max(self.num_stored, index + 1)
        return index

    def stored(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Views (samples, labels, weights) of the filled slots."""
        n = self.num_stored
        return self.samples[:n], self.labels[:n], self.weights[:n]

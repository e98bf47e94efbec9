"""The actor contract: an actor holds a network and an objective and turns a batch into ``(loss, stats)``."""
from __future__ import annotations

import abc
from typing import Callable, Mapping

import torch
from torch import Tensor, nn

from ltr.trainers.distributed import unwrap_model


class NonFiniteLossError(RuntimeError):
    """The network output or the loss became NaN or infinite."""


class BaseActor(abc.ABC):
    """Runs the network on a training batch and evaluates the objective.

    Args:
        net: the network, possibly wrapped in ``DistributedDataParallel``; it must own a
            ``feature_extractor`` submodule (the backbone).
        objective: loss function; its arguments depend on the actor.
        train_backbone: whether the backbone is fine-tuned. If False, ``train(True)`` keeps the
            backbone in eval mode, so its BatchNorm layers use and keep their stored statistics
            (the reference instead runs them in train mode and lets the statistics drift; we do not).
    """

    #: stats key of the objective's value, e.g. ``"Loss/bb_ce"``.
    loss_name: str = "Loss/total"
    #: batch keys the actor reads.
    required_keys: tuple[str, ...] = ()

    def __init__(self, net: nn.Module, objective: Callable[..., Tensor], *, train_backbone: bool = False):
        self.net = net
        self.objective = objective
        self.train_backbone = train_backbone

    @abc.abstractmethod
    def __call__(self, batch: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        """Compute the loss of one batch.

        Returns:
            ``(loss, stats)``: the scalar loss to back-propagate and detached scalar tensors keyed
            ``Loss/*`` (``Loss/total`` is always present).
        """

    def train(self, mode: bool = True) -> None:
        """Set train/eval mode; a frozen backbone always stays in eval mode."""
        self.net.train(mode)
        if mode and not self.train_backbone:
            unwrap_model(self.net).feature_extractor.eval()

    def check_batch(self, batch: Mapping[str, Tensor]) -> None:
        """Raise ``ValueError`` naming the missing keys when ``batch`` lacks what this actor needs.

        Besides ``required_keys`` a batch holds either the image crops (``train_images``, ``test_images``) or their
        cached backbone features (``train_<layer>``, ``test_<layer>`` for each of the network's ``iou_layers``).
        """
        missing = [key for key in (*pair_keys(self.net, batch), *self.required_keys) if key not in batch]
        if missing:
            raise ValueError(
                f"{type(self).__name__} needs batch keys {', '.join(missing)} (got {', '.join(sorted(batch))}); "
                "does the processing mode match the objective?"
            )

    def _stats(self, loss: Tensor) -> dict[str, Tensor]:
        value = loss.detach()
        return {"Loss/total": value, self.loss_name: value}


IMAGE_KEYS = ("train_images", "test_images")


def pair_keys(net: nn.Module, batch: Mapping[str, Tensor]) -> tuple[str, ...]:
    """Batch keys holding the (train, test) pair, train keys first: the image crops when the batch has both, else
    the cached backbone features ``train_<layer>``, ``test_<layer>`` for the net's ``iou_layers``."""
    if all(key in batch for key in IMAGE_KEYS):
        return IMAGE_KEYS
    layers = unwrap_model(net).iou_layers
    return (*(f"train_{layer}" for layer in layers), *(f"test_{layer}" for layer in layers))


def scores_for(net: nn.Module, batch: Mapping[str, Tensor], proposals: Tensor) -> Tensor:
    """Run ``net`` on the batch's pair for ``proposals`` [B,P,4] xywh crop px; returns float32 [B,P].

    The pair is the image crops when the batch has them, else their cached backbone features (``pair_keys``).

    Raises:
        NonFiniteLossError: a score is NaN or infinite.
    """
    keys = pair_keys(net, batch)
    if keys == IMAGE_KEYS:
        train, test = batch["train_images"], batch["test_images"]
    else:
        half = len(keys) // 2
        train, test = [batch[key] for key in keys[:half]], [batch[key] for key in keys[half:]]
    scores = net(train, test, batch["train_boxes"], proposals).to(torch.float32)
    if not bool(torch.isfinite(scores).all()):
        raise NonFiniteLossError("the network produced non-finite scores")
    return scores

"""Actors for the IoU-Net (bounding-box regression) objectives: EBM NLL, IoU-MSE and KL."""
from __future__ import annotations

from typing import Callable, Mapping

from torch import Tensor, nn

from ltr.actors.base import BaseActor, scores_for


class AtomEBMActor(BaseActor):
    """EBM negative log-likelihood (Gustafsson et al. 2020), the paper's objective.

    Batch: ``test_proposals`` [B,1+M,4] xywh crop px with the ground truth in column 0 and
    ``proposal_density`` [B,1+M] (column 0 ignored). The objective is called as
    ``objective(scores [B,1+M], proposal_density [B,1+M])``.
    """

    loss_name = "Loss/bb_ce"
    required_keys = ("train_boxes", "test_proposals", "proposal_density")

    def __call__(self, batch: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        self.check_batch(batch)
        scores = scores_for(self.net, batch, batch["test_proposals"])
        loss = self.objective(scores, batch["proposal_density"].float())
        return loss, self._stats(loss)


class AtomIoUActor(BaseActor):
    """ATOM / ATOM* baseline: mean squared error between the prediction and 2*IoU-1.

    Batch: ``test_proposals`` [B,M,4] xywh crop px and ``proposal_iou`` [B,M]. The objective is called as
    ``objective(scores [B,M], proposal_iou [B,M])``.
    """

    loss_name = "Loss/iou"
    required_keys = ("train_boxes", "test_proposals", "proposal_iou")

    def __call__(self, batch: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        self.check_batch(batch)
        scores = scores_for(self.net, batch, batch["test_proposals"])
        loss = self.objective(scores, batch["proposal_iou"].float())
        return loss, self._stats(loss)


class AtomKLActor(BaseActor):
    """KL divergence to a ground-truth density (PrDiMP-style), optional.

    Uses the EBM batch layout but only the M sampled proposals (column 0, the ground-truth box, is
    dropped): ``objective(scores [B,M], proposal_density [B,M], gt_density [B,M])``.
    """

    loss_name = "Loss/bb_kl"
    required_keys = ("train_boxes", "test_proposals", "proposal_density", "gt_density")

    def __call__(self, batch: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, Tensor]]:
        self.check_batch(batch)
        scores = scores_for(self.net, batch, batch["test_proposals"][:, 1:])
        loss = self.objective(scores, batch["proposal_density"][:, 1:].float(), batch["gt_density"][:, 1:].float())
        return loss, self._stats(loss)


_ACTORS: dict[str, tuple[type[BaseActor], str]] = {
    "ebm": (AtomEBMActor, "ebm_nll_loss"),
    "iou": (AtomIoUActor, "iou_mse_loss"),
    "kl": (AtomKLActor, "kl_regression_loss"),
}


def list_actors() -> list[str]:
    """Objective names accepted by ``build_actor``."""
    return sorted(_ACTORS)


def build_actor(
    objective: str, net: nn.Module, *, train_backbone: bool = False, loss_fn: Callable[..., Tensor] | None = None
) -> BaseActor:
    """The actor for ``objective`` (``"ebm"``, ``"iou"`` or ``"kl"``) with its loss from ``ltr.models.loss.ebm``.

    Args:
        objective: objective name.
        net: the (possibly DDP-wrapped) network.
        train_backbone: whether the backbone is fine-tuned (BatchNorm mode, see ``BaseActor``).
        loss_fn: replaces the default loss function (same signature).
    """
    if objective not in _ACTORS:
        raise ValueError(f"unknown objective '{objective}'; valid names: {', '.join(list_actors())}")
    actor_class, loss_name = _ACTORS[objective]
    if loss_fn is None:
        from ltr.models.loss import ebm as losses

        loss_fn = getattr(losses, loss_name)
    return actor_class(net, loss_fn, train_backbone=train_backbone)

"""The IoU-Net fitted to the target on the first frame, whose box is known.

The bundled network learnt from little video, and it refines the objects it trained on far better than others
(experiments/NOTEBOOK.md). So before tracking, a copy of the head is trained a little on the first frame: a few Adam
steps of the EBM negative log-likelihood (the network's own training objective, ``ltr.models.loss.ebm``) on fresh
proposals around the true box, in crops cut around jittered copies of it (every second one mirrored), so that the
target appears at other positions and scales than the one crop the tracker conditions on. Only the three fully
connected layers after the pooling move; the backbone, the convolutions, the modulation vector and the batch-norm
statistics stay the network's, so each step runs the pooling (without gradient) and three matrix products.
"""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import torch

from ltr.data.proposals import PAPER_SIGMAS, sample_box_gmm_batch
from ltr.data.search_region import SearchRegion
from ltr.data.transforms import flip_box_horizontally, jitter_box
from ltr.models.bbreg.atom_iou_net import AtomIoUNet
from ltr.models.loss.ebm import ebm_nll_loss

#: jitter of the box each crop is cut around (``ltr.data.transforms.jitter_box``): centre up to +-0.5 target sizes,
#: sides x exp(N(0, 0.25)); the first crop is the tracker's own
CENTER_JITTER, SCALE_JITTER = 1.0, 0.25


def adaptation_crops(image: np.ndarray, box: np.ndarray, region_of: Callable[[np.ndarray], SearchRegion],
                     count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """``count`` crops of ``image`` around jittered copies of ``box`` (xywh, image px), every second one mirrored.

    Args:
        region_of: the IoU-Net's crop around a box (``IoURefinement.region``).

    Returns:
        (uint8 crops [count, S, S, 3], the target's box in each crop [count, 4], xywh crop px).
    """
    crops, boxes = [], []
    for index in range(count):
        centre_box = box if index == 0 else jitter_box(box, CENTER_JITTER, SCALE_JITTER, rng)
        region = region_of(centre_box)
        crop, crop_box = region.crop(image), region.to_crop(box)
        if index % 2:
            crop, crop_box = crop[:, ::-1], flip_box_horizontally(crop_box, region.side)
        crops.append(crop)
        boxes.append(crop_box)
    return np.ascontiguousarray(np.stack(crops)), np.stack(boxes)


def adapt_head(head: AtomIoUNet, modulation: list[torch.Tensor], iou_feats: list[torch.Tensor],
               target_boxes: torch.Tensor, steps: int, learning_rate: float, num_proposals: int,
               generator: torch.Generator) -> AtomIoUNet:
    """A copy of ``head`` (eval mode) whose fully connected layers were fitted to the target.

    Args:
        head: the IoU-Net head; not changed.
        modulation: the first frame's modulation vectors (two [1, 256, 1, 1] tensors).
        iou_feats: test-branch features of the adaptation crops ([N, 256, H2, W2], [N, 256, H3, W3]).
        target_boxes: [N, 4] the target in each crop (xywh crop px).
        steps, learning_rate: Adam steps and step size.
        num_proposals: fresh proposals per crop and step, drawn around the target from ``PAPER_SIGMAS``,
            the mixture the bundled network was trained with.
        generator: random generator for the proposals (on the features' device).
    """
    adapted = copy.deepcopy(head).eval()
    adapted.requires_grad_(False)
    layers = (adapted.fc3_rt.linear, adapted.fc4_rt.linear, adapted.iou_predictor)
    weights = [weight for layer in layers for weight in layer.parameters()]
    modulation = [m.reshape(1, -1, 1, 1).expand(target_boxes.shape[0], -1, -1, -1) for m in modulation]
    iou_feats = [feat.float() for feat in iou_feats]
    target_boxes = target_boxes.float()
    density_of_target = torch.ones(target_boxes.shape[0], 1, device=target_boxes.device)  # unused by the loss
    for weight in weights:
        weight.requires_grad_(True)
    optimizer = torch.optim.Adam(weights, lr=learning_rate)
    with torch.enable_grad():
        for _ in range(steps):
            proposals, density = sample_box_gmm_batch(target_boxes, PAPER_SIGMAS, num_proposals, generator)
            with torch.no_grad():  # the pooled features do not depend on the fitted weights
                pooled = adapted.pool_proposals(modulation, iou_feats, torch.cat((target_boxes[:, None], proposals), 1))
            loss = ebm_nll_loss(adapted.score_pooled(pooled), torch.cat((density_of_target, density), dim=1))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
    adapted.requires_grad_(False)
    return adapted

"""ATOM training processing: one (train frame, test frame) pair -> crops, crop-frame boxes and proposals.

Output of ``ATOMProcessing.__call__`` (float32 tensors, no batch dimension; the DataLoader adds it):

* ``train_images`` / ``test_images``: [3, S, S] ImageNet-normalised RGB crops (S = ``output_sz``).
* ``train_boxes`` / ``test_boxes``: [4] ground-truth xywh boxes in crop pixels.
* mode ``"ebm"`` / ``"kl"``: ``test_proposals`` [1+M, 4] (row 0 = ground truth), ``proposal_density`` [1+M]
  (proposal pdf in the relative box space; entry 0 is the sentinel -1 and must be ignored),
  ``gt_density`` [1+M] (label pdf: with ``gt_sigma = (0, 0)`` a delta, i.e. 1 at entry 0 and 0 elsewhere;
  otherwise the Gaussian ``N(0, gt_sigma)`` pdf of every box's offset from the ground truth).
* mode ``"iou"``: ``test_proposals`` [M, 4] and ``proposal_iou`` [M] (continuous IoU with the ground truth).
"""
from __future__ import annotations

from typing import Mapping, Sequence

import cv2
import numpy as np
import torch

from ltr.data import transforms
from ltr.data.box_ops import box_iou_xywh, xywh_to_rel
from ltr.data.proposals import PAPER_SIGMAS, gmm_density, sample_box_gmm
from ltr.models.input_spec import REFERENCE_INPUT_SPEC

MODES = ("ebm", "kl", "iou")
_FRAMES = ("train", "test")


class ATOMProcessing:
    """Jittered square crops around the target of both frames plus proposals for the test frame.

    Args:
        output_sz: crop side in px after resizing (288 = 18 * 16).
        search_area_factor: crop side = ceil(sqrt(w' h') * search_area_factor) of the jittered box.
        center_jitter_factor: per frame (``"train"``, ``"test"``): centre offset up to
            ``sqrt(w' h') * factor / 2`` per axis.
        scale_jitter_factor: per frame: size multiplied by ``exp(N(0, 1) * factor)`` per axis.
        mode: ``"ebm"`` (ML / EBM loss), ``"kl"`` (KL loss) or ``"iou"`` (IoU regression).
        proposal_sigmas: GMM components ``(sigma_pos, sigma_size)`` for ``ltr.data.proposals.sample_box_gmm``.
        num_proposals: proposals M per test frame.
        gt_sigma: ``(sigma_pos, sigma_size)`` of the label distribution (``gt_density``); (0, 0) = delta.
        grayscale_prob: probability that both frames are converted to grayscale.
        brightness_jitter: each frame is multiplied by U(1 - b, 1 + b) and clamped to [0, 1].
        flip_prob: probability that both crops (and boxes) are mirrored horizontally.

    Raises:
        ValueError: an invalid setting (the message names it).
    """

    def __init__(
        self,
        output_sz: int = 288,
        search_area_factor: float = 5.0,
        center_jitter_factor: Mapping[str, float] | None = None,
        scale_jitter_factor: Mapping[str, float] | None = None,
        mode: str = "ebm",
        proposal_sigmas: Sequence[tuple[float, float]] = PAPER_SIGMAS,
        num_proposals: int = 128,
        gt_sigma: tuple[float, float] = (0.0, 0.0),
        grayscale_prob: float = 0.05,
        brightness_jitter: float = 0.2,
        flip_prob: float = 0.0,
    ):
        center_jitter_factor = dict(center_jitter_factor or {"train": 0.0, "test": 4.5})
        scale_jitter_factor = dict(scale_jitter_factor or {"train": 0.0, "test": 0.5})
        for name, table in (("center_jitter_factor", center_jitter_factor), ("scale_jitter_factor", scale_jitter_factor)):
            if set(table) != set(_FRAMES) or any(float(v) < 0 for v in table.values()):
                raise ValueError(f"{name} must map 'train' and 'test' to non-negative numbers, got {table}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if int(output_sz) < 1 or search_area_factor <= 0:
            raise ValueError(f"output_sz and search_area_factor must be positive, got {output_sz}, {search_area_factor}")
        if int(num_proposals) < 1:
            raise ValueError(f"num_proposals must be >= 1, got {num_proposals}")
        if len(gt_sigma) != 2 or min(gt_sigma) < 0 or (0.0 in gt_sigma and max(gt_sigma) > 0):
            raise ValueError(f"gt_sigma must be (0, 0) or two positive numbers, got {gt_sigma}")
        for name, value in (("grayscale_prob", grayscale_prob), ("flip_prob", flip_prob), ("brightness_jitter", brightness_jitter)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f"{name} must be in [0, 1], got {value}")
        self.output_sz = int(output_sz)
        self.search_area_factor = float(search_area_factor)
        self.center_jitter_factor = {k: float(v) for k, v in center_jitter_factor.items()}
        self.scale_jitter_factor = {k: float(v) for k, v in scale_jitter_factor.items()}
        self.mode = mode
        self.proposal_sigmas = tuple((float(p), float(s)) for p, s in proposal_sigmas)
        self.num_proposals = int(num_proposals)
        self.gt_sigma = (float(gt_sigma[0]), float(gt_sigma[1]))
        self.grayscale_prob = float(grayscale_prob)
        self.brightness_jitter = float(brightness_jitter)
        self.flip_prob = float(flip_prob)
        self._mean = np.asarray(REFERENCE_INPUT_SPEC.mean, dtype=np.float64)
        self._std = np.asarray(REFERENCE_INPUT_SPEC.std, dtype=np.float64)

    def __call__(
        self,
        train_image: np.ndarray,
        train_box: np.ndarray,
        test_image: np.ndarray,
        test_box: np.ndarray,
        rng: np.random.Generator,
        generator: torch.Generator,
    ) -> dict[str, torch.Tensor]:
        """Process one frame pair.

        Args:
            train_image, test_image: RGB uint8 (H, W, 3) frames (may be the same array).
            train_box, test_box: [4] xywh ground-truth boxes in 0-based image pixels.
            rng: numpy generator for jitter and augmentation decisions.
            generator: torch generator (CPU) for the proposals.

        Returns:
            The dict described in the module docstring.
        """
        images = {"train": transforms.check_image(train_image, "train image"), "test": transforms.check_image(test_image, "test image")}
        boxes = {"train": transforms.check_box(train_box, "train box"), "test": transforms.check_box(test_box, "test box")}
        grayscale = rng.random() < self.grayscale_prob
        flip = rng.random() < self.flip_prob
        output: dict[str, torch.Tensor] = {}
        for frame in _FRAMES:
            centre_box = transforms.jitter_box(boxes[frame], self.center_jitter_factor[frame], self.scale_jitter_factor[frame], rng)
            region = transforms.crop_region(centre_box, self.search_area_factor, self.output_sz)
            crop = region.crop(images[frame], antialias=False)
            box = region.to_crop(boxes[frame])
            if flip:
                crop = np.ascontiguousarray(crop[:, ::-1])
                box = transforms.flip_box_horizontally(box, self.output_sz)
            if grayscale:
                crop = transforms.to_grayscale_rgb(crop)
            brightness = rng.uniform(1.0 - self.brightness_jitter, 1.0 + self.brightness_jitter)
            output[f"{frame}_images"] = self._normalise(crop, brightness)
            output[f"{frame}_boxes"] = torch.tensor(box, dtype=torch.float32)
        output.update(self.proposals_for(output["test_boxes"], generator))
        return output

    def _normalise(self, crop: np.ndarray, brightness: float) -> torch.Tensor:
        """uint8 (S, S, 3) -> [3, S, S] float32 of ``(clamp(v * brightness / 255, 0, 1) - mean) / std``.

        The map is a function of the byte value per channel, so it is applied through a 256-entry table.
        """
        values = np.clip(np.arange(256, dtype=np.float64) * (brightness / 255.0), 0.0, 1.0)
        tables = ((values[None, :] - self._mean[:, None]) / self._std[:, None]).astype(np.float32)  # [3, 256]
        image = np.empty((3, *crop.shape[:2]), np.float32)
        for channel, plane in enumerate(cv2.split(crop)):
            cv2.LUT(plane, tables[channel].reshape(256, 1), dst=image[channel])
        return torch.from_numpy(image)

    def proposals_for(self, gt_box: torch.Tensor, generator: torch.Generator) -> dict[str, torch.Tensor]:
        """The proposal keys of this mode (module docstring) for the [4] xywh ground-truth ``gt_box`` of a test crop."""
        proposals, density = sample_box_gmm(gt_box, self.proposal_sigmas, self.num_proposals, generator)
        if self.mode == "iou":
            return {"test_proposals": proposals, "proposal_iou": box_iou_xywh(proposals, gt_box.expand_as(proposals))}
        boxes = torch.cat([gt_box[None], proposals], dim=0)
        proposal_density = torch.cat([torch.full((1,), -1.0, dtype=density.dtype), density])
        if self.gt_sigma == (0.0, 0.0):
            gt_density = torch.zeros(len(boxes), dtype=torch.float32)
            gt_density[0] = 1.0
        else:
            size_norm = gt_box[2:].expand(len(boxes), 2)
            offsets = xywh_to_rel(boxes, size_norm) - xywh_to_rel(gt_box[None], gt_box[None, 2:])
            gt_density = gmm_density(offsets, [self.gt_sigma])
        return {"test_proposals": boxes, "proposal_density": proposal_density, "gt_density": gt_density}

    def __repr__(self) -> str:
        return (
            f"ATOMProcessing(output_sz={self.output_sz}, search_area_factor={self.search_area_factor}, mode={self.mode!r}, "
            f"num_proposals={self.num_proposals}, proposal_sigmas={self.proposal_sigmas}, gt_sigma={self.gt_sigma})"
        )

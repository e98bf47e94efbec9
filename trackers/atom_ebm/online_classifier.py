"""The tracker's online target classifier: training on the first frame and the per-frame update.

Feature maps are the normalised classifier maps [N, C, S, S] of sample crops (a backbone layer or HOG + colour,
``AtomEbmParams.classifier_features``); labels are Gaussians centred at the target's displacement from the crop
centre (plus the even-filter offset of half a cell).
"""
from __future__ import annotations

import torch

from trackers.atom_ebm.classifier import (
    FactorizedConvClassifier,
    gaussian_label,
    project,
)
from trackers.atom_ebm.fourier import fourier_upsample
from trackers.atom_ebm.localization import (
    HARD_NEGATIVE,
    NOT_FOUND,
    UNCERTAIN,
    Localization,
    localize_target,
)
from trackers.atom_ebm.optimizer import gauss_newton_cg
from trackers.atom_ebm.params import AtomEbmParams
from trackers.atom_ebm.sample_memory import SampleMemory


class OnlineClassifier:
    """Factorized-conv classifier + sample memory + Gauss-Newton/CG training (ATOM's online part)."""

    def __init__(self, params: AtomEbmParams, in_dim: int, device: torch.device | str = "cpu",
                 generator: torch.Generator | None = None):
        """``generator``: CPU random generator for the classifier's random initialisation."""
        self.params = params
        self.device = torch.device(device)
        size = params.feature_size
        self.model = FactorizedConvClassifier(
            in_dim, params.compressed_dim, params.filter_size, mlu_alpha=params.mlu_slope,
            filter_reg=params.filter_reg, projection_reg=params.projection_reg, device=self.device,
            generator=generator)
        self.memory = SampleMemory(params.memory_size, (params.compressed_dim, size, size),
                                   learning_rate=params.learning_rate, init_min_weight=params.init_samples_min_weight,
                                   device=self.device)
        # label sigma: output_sigma_factor * sqrt(target area in cells); the crop is search_area_scale targets wide
        self.sigma = params.output_sigma_factor * size / params.search_area_scale

    def labels(self, offsets: torch.Tensor) -> torch.Tensor:
        """Labels [N, 1, S, S] for target displacements ``offsets`` [N, 2] (dx, dy) in crop pixels."""
        cells = offsets.to(self.device, torch.float32) / self.params.feature_stride + 0.5
        return gaussian_label(cells.flip(1), self.params.feature_size, self.sigma)

    def initialize(self, samples: torch.Tensor, labels: torch.Tensor) -> None:
        """Jointly train projection and filter on first-frame samples [N, C, S, S] and labels [N, 1, S, S]."""
        p = self.params
        weights = torch.full((samples.shape[0],), 1.0 / samples.shape[0], device=self.device)
        problem = self.model.joint_problem(samples, labels, weights)
        regularization = [p.filter_reg, p.projection_reg]
        self.model.filter, self.model.projection = gauss_newton_cg(
            problem, [self.model.filter, self.model.projection], regularization, p.init_gn_iter, p.init_cg_iter,
            preconditioner=regularization)
        self.memory.initialize(project(samples, self.model.projection), labels)

    def project(self, features: torch.Tensor) -> torch.Tensor:
        """Projected features [N, D, S, S] of normalised features [N, C, S, S]."""
        return project(features, self.model.projection)

    def score_map(self, projected: torch.Tensor) -> torch.Tensor:
        """Fourier-upsampled raw score map [sample_size, sample_size] of one projected sample [1, D, S, S].

        Index (sample_size // 2, sample_size // 2) is zero displacement; one index is one crop pixel.
        """
        scores = self.model.scores(projected)[0, 0]
        return fourier_upsample(scores, self.params.image_sample_size)

    def localize(self, features: torch.Tensor, target_size: tuple[float, float]) -> tuple[Localization, torch.Tensor]:
        """Score one crop's normalised features [1, C, S, S] and find the target (``localize_target``);
        ``target_size``: (w, h) in crop px. Returns the localisation and the projected sample for :meth:`update`."""
        projected = self.project(features)
        return localize_target(self.score_map(projected), target_size, self.params), projected

    def update(self, projected: torch.Tensor, offset: torch.Tensor, flag: str | None, frame_num: int) -> None:
        """Per-frame update: store the sample (unless not_found/uncertain) and re-train the filter when due.

        Args:
            projected: [1, D, S, S] projected sample of this frame.
            offset: [2] (dx, dy) target displacement from the crop centre in crop pixels (after refinement).
            flag: the frame's localisation flag.
            frame_num: 1-based frame number (1 = the initial frame).
        """
        p = self.params
        if flag not in (NOT_FOUND, UNCERTAIN):
            lr = p.hard_negative_learning_rate if flag == HARD_NEGATIVE else p.learning_rate
            self.memory.add(projected[0], self.labels(offset[None])[0], lr)
        if flag == HARD_NEGATIVE:
            self.train_filter(p.hard_negative_cg_iter)
        elif (frame_num - 1) % p.train_skipping == 0:
            self.train_filter(p.update_cg_iter)

    def train_filter(self, num_cg_iter: int) -> None:
        """One Gauss-Newton step with ``num_cg_iter`` CG iterations on the filter (projection fixed)."""
        if num_cg_iter <= 0:
            return
        samples, labels, weights = self.memory.stored()
        problem = self.model.filter_problem(samples, labels, weights)
        (self.model.filter,) = gauss_newton_cg(problem, [self.model.filter], [self.params.filter_reg], 1, num_cg_iter)

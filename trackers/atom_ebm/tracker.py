"""ATOM-EBM tracker: ATOM's online classifier finds the target, the EBM-trained IoU-Net refines its box.

Per frame, in stages that hand values on:

1. localise: the classifier scores its features (a backbone layer and/or hand-crafted HOG + colour) on a crop
   ``search_area_scale`` times the target's geometric-mean size wide (wider for a small target:
   ``AtomEbmParams.for_sequence``) and finds the target's new centre;
2. estimate: that centre with the previous size is the estimate (none when the target is not found);
3. refine: ``IoURefinement.refine`` moves a batch of boxes around the estimate up the IoU-Net's score on its own
   crop (the network's input contract) and returns the top-k mean; skipped after a failed first-frame self-check
   and, unless ``refine_at_border``, where the estimate reaches past the image;
4. update the state: the refined centre and a size moved ``size_update_rate`` of the way (in log space) to the
   refined size, else the estimate; kept partly inside the image;
5. update the classifier with the frame's sample, labelled at the new position.

Runs on CPU or CUDA.
"""
from __future__ import annotations

import logging
import math
from typing import Protocol, Sequence

import numpy as np
import torch

from ltr.data.normalization import ImageNormalizer
from ltr.data.search_region import SearchRegion
from ltr.models.input_spec import REFERENCE_INPUT_SPEC
from ltr.utils.device import resolve_device
from trackers.atom_ebm.augmentation import augmented_samples
from trackers.atom_ebm.backbone_engine import BackboneEngine
from trackers.atom_ebm.classifier_features import ClassifierFeatures
from trackers.atom_ebm.iou_refinement import IoURefinement, Refined
from trackers.atom_ebm.localization import NOT_FOUND, Localization
from trackers.atom_ebm.online_classifier import OnlineClassifier
from trackers.atom_ebm.params import AtomEbmParams
from trackers.atom_ebm.refinement_check import CheckResult
from trackers.atom_ebm.stage_timer import StageTimer
from trackers.base import Tracker, TrackerOutput, validate_image, validate_init_box

logger = logging.getLogger(__name__)

#: the target's sides never shrink below this (image px), or below their first-frame size if that is smaller
MIN_TARGET_SIDE = 10.0


class FeatureNet(Protocol):
    """What the tracker needs from a network (``ltr.models.bbreg.ATOMnet`` satisfies it).

    ``extract_backbone_features(images [B, 3, H, W], layers)`` returns a mapping layer name -> map; ``bb_regressor``
    (an ``AtomIoUNet``) and ``input_spec`` (an ``InputSpec``; the reference one if absent) are used by refinement.
    """

    def extract_backbone_features(self, images: torch.Tensor, layers: Sequence[str] | None = None): ...


class AtomEbmTracker(Tracker):
    """ATOM online classifier + IoU-Net refinement (see the module docstring).

    ``refinement``: the IoU-Net component to use (default: an ``IoURefinement`` of ``net`` with ``params``; None
    with refinement "none").
    """

    def __init__(self, net: FeatureNet, params: AtomEbmParams, device: str | torch.device | None = None,
                 refinement: IoURefinement | None = None):
        self.params = params
        self.device = resolve_device(device)
        self.net = net
        if isinstance(net, torch.nn.Module):
            net.to(self.device).eval().requires_grad_(False)
        self.rng = np.random.default_rng(0)  # both re-seeded by every initialize()
        # one random stream for the tracker and its refinement (a given refinement brings its generator)
        self.generator = refinement.generator if refinement is not None else torch.Generator(device=self.device)
        spec = getattr(net, "input_spec", REFERENCE_INPUT_SPEC)
        self.backbone = BackboneEngine(net, params.precision, self.device)
        self.features = ClassifierFeatures(self.backbone, params, ImageNormalizer(spec, self.device))
        if refinement is None and params.refinement != "none":
            refinement = IoURefinement(net, params, self.device, self.generator, self.backbone)
        self.refinement = refinement
        self.classifier: OnlineClassifier | None = None
        #: the parameters of the current sequence (``params.for_sequence``: the classifier's crop and filter)
        self.sequence_params = params
        self.refining = refinement is not None  # per sequence: switched off by a failed first-frame self-check
        self.refinement_check: CheckResult | None = None
        #: report per-stage seconds in ``TrackerOutput.timings`` on CUDA too (synchronises after every stage,
        #: ``StageTimer``); on the CPU they are always reported, at no cost
        self.time_stages = False

    @property
    def precision(self) -> str:
        """The networks' precision in use: ``params.precision``, or fp32 where that does not apply (CUDA, a model
        without int8 calibration)."""
        return self.backbone.precision

    # ------------------------------------------------------------------ Tracker API
    @torch.no_grad()
    def initialize(self, image: np.ndarray, box: Sequence[float]) -> None:
        """Train the classifier on the augmented first frame and condition the IoU-Net on the given box.

        With ``refinement_check_boxes`` > 0 the IoU-Net refinement is then tried on perturbed copies of the given
        box (``trackers.atom_ebm.refinement_check``) and switched off for this sequence unless it improves them
        significantly.
        """
        validate_image(image)
        x, y, w, h = validate_init_box(box, image.shape)
        p = self.params
        # seed None: draw one from torch's global generator, so torch.manual_seed before initialize() makes a
        # sequence reproducible whatever ran before it on this tracker
        seed = p.seed if p.seed is not None else int(torch.randint(0, 2**62, (1,)))
        self.rng = np.random.default_rng(seed)
        self.generator.manual_seed(seed)
        self.image_size = np.array([image.shape[1], image.shape[0]], dtype=np.float64)
        self.pos = np.array([x + w / 2, y + h / 2], dtype=np.float64)
        self.size = np.array([w, h], dtype=np.float64)
        self.min_size = np.minimum(self.size, MIN_TARGET_SIDE)
        self.frame_num = 1
        self.sequence_params = p.for_sequence((w, h), tuple(self.image_size))
        if self.sequence_params is not p:
            logger.info("small target: classifier crop %.1f target sizes wide, %d x %d filter",
                        self.sequence_params.search_area_scale, *(2 * [self.sequence_params.filter_size]))
        region = self._classifier_region()
        side = region.side
        expanded = SearchRegion(region.center, region.scale, 2 * side).crop(image)
        crops, offsets = augmented_samples(expanded, side, (0.0, 0.0), p, self.rng)
        samples = self.features(crops)
        num_dropout = p.num_dropout_samples
        if num_dropout:
            keep = torch.rand(num_dropout, samples.shape[1], 1, 1, generator=self.generator, device=self.device)
            dropped = samples[:1] * (keep >= p.dropout_prob) / (1.0 - p.dropout_prob)  # channel dropout (dropout2d)
            samples = torch.cat((samples, dropped), dim=0)
            offsets = np.concatenate((offsets, np.repeat(offsets[:1], num_dropout, axis=0)), axis=0)
        self.classifier = OnlineClassifier(self.sequence_params, samples.shape[1], self.device,
                                           generator=_cpu_generator(self.rng))
        self.classifier.initialize(samples, self.classifier.labels(torch.from_numpy(offsets)))
        self.refining = self.refinement is not None
        self.refinement_check = None
        if self.refinement is not None:
            self.refinement_check = self.refinement.condition(image, np.array([x, y, w, h]), self.rng)
            if self.refinement_check is not None:
                check = self.refinement_check
                self.refining = check.refinement_helps
                logger.info("IoU-Net self-check on the first frame: mean IoU %.3f -> %.3f (standard error of the gain "
                            "%.3f), refinement %s", check.iou_before, check.iou_after, check.gain_std_error,
                            "on" if self.refining else "off for this sequence")

    @torch.no_grad()
    def track(self, image: np.ndarray) -> TrackerOutput:
        """Locate the target and report its box, cut to the image. The score is the IoU-Net score of a refined box,
        the classifier's peak for an unrefined one and -inf when the target is not found. ``info``: the localisation
        ``flag`` (None, "not_found", "uncertain", "hard_negative"), the classifier's ``estimate`` (xywh; None when not
        found) and whether the box was ``refined``."""
        self._check_frame(image)
        timer = StageTimer(self.device, self.time_stages)
        self.frame_num += 1
        with timer.stage("other"):
            region = self._classifier_region()
            crop = region.crop(image)
        with timer.stage("backbone"):
            features = self.features(crop)
        with timer.stage("classifier"):
            loc, projected = self.classifier.localize(features, tuple(self.size / region.scale))
        estimate = self._estimate(loc, region)
        refined = None
        if estimate is not None and self._should_refine(estimate):
            refined = self.refinement.refine(image, estimate, timer)
        with timer.stage("other"):
            score = self._update_state(estimate, refined, loc)
        with timer.stage("classifier"):
            offset = torch.as_tensor((self.pos - np.asarray(region.center)) / region.scale, dtype=torch.float32)
            self.classifier.update(projected, offset, loc.flag, self.frame_num)
        info = {"flag": loc.flag, "estimate": None if estimate is None else tuple(estimate.tolist()),
                "refined": refined is not None}
        return TrackerOutput(box=self._box(), score=score, timings=timer.timings(), info=info)

    # ------------------------------------------------------------------ stages
    def _check_frame(self, image: np.ndarray) -> None:
        if self.classifier is None:
            raise RuntimeError("track() called before initialize()")
        validate_image(image)
        if image.shape[1] != self.image_size[0] or image.shape[0] != self.image_size[1]:
            raise ValueError(f"frame size {image.shape[1]}x{image.shape[0]} differs from the first frame's "
                             f"{int(self.image_size[0])}x{int(self.image_size[1])}")

    def _estimate(self, loc: Localization, region: SearchRegion) -> np.ndarray | None:
        """The classifier's box [4] (xywh: the new centre, the previous size); None when the target is not found."""
        if loc.flag == NOT_FOUND:
            logger.debug("frame %d: target not found (peak %.3f)", self.frame_num, loc.max_score)
            return None
        if loc.flag is not None:
            logger.debug("frame %d: %s (peak %.3f)", self.frame_num, loc.flag, loc.max_score)
        center = np.asarray(region.center) + np.asarray(loc.displacement) * region.scale
        return np.concatenate((center - self.size / 2, self.size))

    def _should_refine(self, estimate: np.ndarray) -> bool:
        """Refinement is on for the sequence and, unless ``refine_at_border``, the estimate lies inside the image."""
        inside = bool(np.all(estimate[:2] >= 0) and np.all(estimate[:2] + estimate[2:] <= self.image_size))
        return self.refining and (self.params.refine_at_border or inside)

    def _update_state(self, estimate: np.ndarray | None, refined: Refined | None, loc: Localization) -> float:
        """Take the refined centre and size (the size smoothed by ``size_update_rate``), else the estimate (a lost
        target keeps the state); return the frame's score."""
        if estimate is None:
            return -math.inf
        if refined is None:
            self.pos = estimate[:2] + estimate[2:] / 2
            score = loc.max_score
        else:
            x, y, w, h = refined.box
            rate = self.params.size_update_rate
            self.pos = np.array([x + w / 2, y + h / 2])
            self.size = self.size ** (1.0 - rate) * np.array([w, h]) ** rate
            score = refined.score
        self._clamp_state()
        return float(score)

    # ------------------------------------------------------------------ geometry
    def _classifier_region(self) -> SearchRegion:
        """The classifier's crop around the current position, ``search_area_scale`` target sizes wide."""
        p = self.sequence_params
        return SearchRegion.around(tuple(self.pos), tuple(self.size), p.search_area_scale, p.image_sample_size)

    def _clamp_state(self) -> None:
        """Keep the size within [min_size, image size] and the centre so that the box stays partly inside."""
        width, height = self.image_size
        self.size = np.clip(self.size, self.min_size, [width, height])
        margin = (0.5 - self.params.inside_ratio) * self.size
        self.pos = np.clip(self.pos, -margin, [width, height] + margin)

    def _box(self) -> tuple[float, float, float, float]:
        """The reported box: the target's box (the state, which may reach past the border) cut to the image, as
        benchmarks annotate the visible part. The centre clamp keeps at least ``inside_ratio`` of each side inside."""
        top_left = self.pos - self.size / 2
        before = np.maximum(-top_left, 0.0)  # the parts left of / above the image
        after = np.maximum(top_left + self.size - self.image_size, 0.0)  # right of / below it
        (x, y), (w, h) = top_left + before, self.size - before - after
        return (float(x), float(y), float(w), float(h))


def _cpu_generator(rng: np.random.Generator) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed(int(rng.integers(2**62)))
    return generator

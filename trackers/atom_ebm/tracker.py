"""ATOM-EBM tracker: ATOM's online classifier finds the target, the EBM-trained IoU-Net refines its box.

Per frame: the classifier scores its features (a backbone layer or hand-crafted HOG + colour) on a 288 px crop
``search_area_scale`` times the target's geometric-mean size wide and localises the target; the IoU-Net then sees
the backbone's layer2 + layer3 maps of an ``iou_crop_size`` px window cut around that estimate, at the scale of a
288 px crop ``iou_search_area_scale`` targets wide (the scale it was trained at), and a batch of boxes around the
estimate is refined by gradient ascent; the top-k mean is the new box. Where both crops are the same (equal search
areas, a full-size window), one backbone pass serves both. Runs on CPU or CUDA.
"""
from __future__ import annotations

import logging
import math
from dataclasses import replace
from typing import Protocol, Sequence

import numpy as np
import torch

from ltr.data.box_ops import xywh_to_xyxy
from ltr.models.bbreg.iou_predictor import IoUPredictor, PreparedFrame, score_proposals
from ltr.utils.device import resolve_device
from trackers.atom_ebm.augmentation import augmented_samples
from trackers.atom_ebm.box_refiner import BoxRefiner, initial_boxes, select_final_box
from trackers.atom_ebm.classifier import combine_feature_blocks
from trackers.atom_ebm.handcrafted_features import hog_color_features
from trackers.atom_ebm.iou_window import FeatureWindow, feature_window
from trackers.atom_ebm.localization import NOT_FOUND, localize_target
from trackers.atom_ebm.online_classifier import OnlineClassifier
from trackers.atom_ebm.params import HOG_COLOR, LAYER3_STRIDE, AtomEbmParams
from trackers.atom_ebm.refinement_check import CheckResult, check_refinement
from trackers.atom_ebm.sample_geometry import ImageNormalizer, extract_crop, search_scale
from trackers.atom_ebm.stage_timer import StageTimer
from trackers.base import Tracker, TrackerOutput, validate_image, validate_init_box

logger = logging.getLogger(__name__)

IOU_LAYERS = ("layer2", "layer3")
#: the target's sides never shrink below this (image px), or below their first-frame size if that is smaller
MIN_TARGET_SIDE = 10.0


class FeatureNet(Protocol):
    """What the tracker needs from a network (``ltr.models.bbreg.ATOMnet`` satisfies it).

    ``extract_backbone_features(images [B, 3, H, W], layers)`` returns a mapping with "layer2" and "layer3";
    ``bb_regressor`` (an ``AtomIoUNet``) is only used when refinement is not "none".
    """

    def extract_backbone_features(self, images: torch.Tensor, layers: Sequence[str] | None = None): ...


class AtomEbmTracker(Tracker):
    """ATOM online classifier + IoU-Net refinement (see the module docstring)."""

    def __init__(self, net: FeatureNet, params: AtomEbmParams, device: str | torch.device | None = None):
        self.params = params
        self.device = resolve_device(device)
        self.net = net
        if isinstance(net, torch.nn.Module):
            net.to(self.device).eval().requires_grad_(False)
        self.use_iou_net = params.refinement != "none"
        self.refiner = BoxRefiner(params) if self.use_iou_net else None
        self.normalize = ImageNormalizer(self.device)
        self.rng = np.random.default_rng(0)  # both re-seeded by every initialize()
        self.generator = torch.Generator(device=self.device)
        self.classifier: OnlineClassifier | None = None
        self.last_flag: str | None = None
        self.refining = self.use_iou_net  # per sequence: switched off by a failed first-frame self-check
        self.refinement_check: CheckResult | None = None
        #: report per-stage seconds in ``TrackerOutput.timings`` on CUDA too (synchronises after every stage,
        #: ``StageTimer``); on the CPU they are always reported, at no cost
        self.time_stages = False

    # ------------------------------------------------------------------ helpers
    def _iou_maps_from_classifier_crop(self) -> bool:
        """Whether the IoU-Net's maps are needed and come from the classifier's crop (same search area and side)."""
        p = self.params
        return (self.refining and p.iou_search_area_scale == p.search_area_scale
                and p.iou_crop_size == p.image_sample_size and not p.min_search_image_fraction)

    def _features(self, crops: torch.Tensor, with_iou_maps: bool) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Normalised classifier maps [N, C, S, S] of ``crops`` [N, 3, H, W] and, if ``with_iou_maps``, the IoU-Net's
        backbone maps of the same crops (one backbone pass for both)."""
        parts = self.params.classifier_parts
        layers = tuple(name for name in parts if name != HOG_COLOR)
        maps = self._backbone(crops, (IOU_LAYERS if with_iou_maps else ()) + layers)
        blocks = [hog_color_features(crops, self.params.feature_stride) if name == HOG_COLOR else maps[name]
                  for name in parts]
        return combine_feature_blocks(blocks), maps

    def _backbone(self, images: torch.Tensor, layers: tuple[str, ...]) -> dict[str, torch.Tensor]:
        """Backbone maps of ``layers`` (no pass for none), keyed by layer name."""
        if not layers:
            return {}
        return dict(self.net.extract_backbone_features(images, layers=list(dict.fromkeys(layers))))

    def iou_maps(self, image: np.ndarray, center: np.ndarray) -> tuple[dict[str, torch.Tensor], float]:
        """The IoU-Net's backbone maps of the crop at its search area around ``center`` (x, y), and that crop's scale."""
        scale = self._scale(self.params.iou_search_area_scale)
        crop = self.normalize(extract_crop(image, tuple(center), scale, self.params.iou_crop_size))
        return self._backbone(crop, IOU_LAYERS), scale

    def _scale(self, search_area_scale: float) -> float:
        return search_scale(tuple(self.size), search_area_scale, self.params.image_sample_size)

    def _classifier_scale(self) -> float:
        """Image px per crop px of the classifier's crop: its search area, widened to at least
        ``min_search_image_fraction`` of the image's geometric-mean side."""
        p = self.params
        floor = p.min_search_image_fraction * math.sqrt(self.image_size[0] * self.image_size[1]) / p.image_sample_size
        return max(self._scale(p.search_area_scale), floor)

    def _clamp_state(self) -> None:
        """Keep the size within [min_size, image size] and the centre so that the box stays partly inside."""
        width, height = self.image_size
        self.size = np.clip(self.size, self.min_size, [width, height])
        margin = (0.5 - self.params.inside_ratio) * self.size
        self.pos = np.clip(self.pos, -margin, [width, height] + margin)

    def _inside_image(self, center: np.ndarray) -> bool:
        """Whether a box of the current size at ``center`` lies wholly inside the image."""
        return bool(np.all(center - self.size / 2 >= 0) and np.all(center + self.size / 2 <= self.image_size))

    def _box(self) -> tuple[float, float, float, float]:
        x, y = self.pos - self.size / 2
        return (float(x), float(y), float(self.size[0]), float(self.size[1]))

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
        self.refining = self.use_iou_net
        self.refinement_check = None
        scale = self._classifier_scale()
        size = p.image_sample_size
        expanded = extract_crop(image, tuple(self.pos), scale, 2 * size)
        crops, offsets = augmented_samples(expanded, size, (0.0, 0.0), p, self.rng)
        shared = self._iou_maps_from_classifier_crop()
        samples, features = self._features(self.normalize(crops), with_iou_maps=shared)
        num_dropout = p.num_dropout_samples
        if num_dropout:
            keep = torch.rand(num_dropout, samples.shape[1], 1, 1, generator=self.generator, device=self.device)
            dropped = samples[:1] * (keep >= p.dropout_prob) / (1.0 - p.dropout_prob)  # channel dropout (dropout2d)
            samples = torch.cat((samples, dropped), dim=0)
            offsets = np.concatenate((offsets, np.repeat(offsets[:1], num_dropout, axis=0)), axis=0)
        target_cells = p.feature_size / p.search_area_scale * self._scale(p.search_area_scale) / scale
        self.classifier = OnlineClassifier(p, samples.shape[1], self.device, generator=_cpu_generator(self.rng),
                                           target_cells=target_cells)
        self.classifier.initialize(samples, self.classifier.labels(torch.from_numpy(offsets)))
        if self.use_iou_net:
            if not shared:  # the IoU-Net's own crops, as in tracking: the identity and the shifted ones
                scale = self._scale(p.iou_search_area_scale)
                size = p.iou_crop_size
                expanded = extract_crop(image, tuple(self.pos), scale, 2 * size)
                shifts_only = replace(p, augment_flip=False, augment_blur=(), augment_rotation=())
                crops, offsets = augmented_samples(expanded, size, (0.0, 0.0), shifts_only, self.rng)
                features = self._backbone(self.normalize(crops), IOU_LAYERS)
            box_in_crop = torch.tensor([[size / 2 - w / (2 * scale), size / 2 - h / (2 * scale), w / scale, h / scale]],
                                       device=self.device)
            ref_feats = [features[name][:1] for name in IOU_LAYERS]
            modulation = self.net.bb_regressor.get_modulation(ref_feats, box_in_crop)
            self.iou_predictor = IoUPredictor(self.net.bb_regressor, modulation)
            if p.refinement_check_boxes:
                self.refinement_check = self._check_refinement(features, offsets, box_in_crop[0])
                self.refining = self.refinement_check.refinement_helps
                check = self.refinement_check
                logger.info("IoU-Net self-check on the first frame: mean IoU %.3f -> %.3f (standard error of the gain "
                            "%.3f), refinement %s", check.iou_before, check.iou_after, check.gain_std_error,
                            "on" if self.refining else "off for this sequence")
        self.last_flag = None

    @torch.no_grad()
    def track(self, image: np.ndarray) -> TrackerOutput:
        """Locate the target; the score is the IoU-Net score of the output box (-inf when the target is lost)."""
        if self.classifier is None:
            raise RuntimeError("track() called before initialize()")
        validate_image(image)
        if image.shape[1] != self.image_size[0] or image.shape[0] != self.image_size[1]:
            raise ValueError(f"frame size {image.shape[1]}x{image.shape[0]} differs from the first frame's "
                             f"{int(self.image_size[0])}x{int(self.image_size[1])}")
        p = self.params
        timer = StageTimer(self.device, self.time_stages)
        self.frame_num += 1
        size = p.image_sample_size
        center = self.pos.copy()
        scale = self._classifier_scale()
        crop = self.normalize(extract_crop(image, tuple(center), scale, size))
        timer.mark("other")
        shared = self._iou_maps_from_classifier_crop()
        classifier_maps, features = self._features(crop, with_iou_maps=shared)
        timer.mark("backbone")
        projected = self.classifier.project(classifier_maps)
        score_map = self.classifier.score_map(projected)
        loc = localize_target(score_map, tuple(self.size / scale), p)
        self.last_flag = loc.flag
        if loc.flag is not None:
            logger.debug("frame %d: %s (peak %.3f)", self.frame_num, loc.flag, loc.max_score)
        timer.mark("classifier")
        score = -math.inf
        if loc.flag != NOT_FOUND:
            class_pos = center + np.asarray(loc.displacement) * scale
            refine = self.refining and (p.refine_at_border or self._inside_image(class_pos))
            if refine and shared:
                score = self._refine(features, class_pos, center, scale, timer)
            elif refine:  # the IoU-Net's own crop, centred on the classifier's position
                features, iou_scale = self.iou_maps(image, class_pos)
                timer.mark("backbone")
                score = self._refine(features, class_pos, class_pos, iou_scale, timer)
            else:
                self.pos = class_pos
                score = loc.max_score
            self._clamp_state()
        timer.mark("refinement")
        offset = torch.as_tensor((self.pos - center) / scale, dtype=torch.float32)
        self.classifier.update(projected, offset, loc.flag, self.frame_num)
        timer.mark("classifier")
        return TrackerOutput(box=self._box(), score=float(score), timings=timer.timings())

    def _check_refinement(self, features: dict[str, torch.Tensor], offsets: np.ndarray, box_in_crop: torch.Tensor
                          ) -> CheckResult:
        """First-frame self-check on the shifted augmentation crops, where the target sits off-centre as in tracking.

        ``features`` are the augmented crops' maps, ``offsets`` their target displacements (crop px), ``box_in_crop``
        the given box [4] (xywh) in the un-shifted crop.
        """
        p = self.params
        views = []
        for index in range(1, 1 + len(p.augment_shift)):  # augmented_samples: identity first, then the fixed shifts
            crop_features = {name: features[name][index:index + 1] for name in IOU_LAYERS}
            shift = torch.tensor([*offsets[index], 0.0, 0.0], dtype=box_in_crop.dtype, device=self.device)
            views.append((lambda boxes, f=crop_features: self._ascend(f, boxes, None)[0], box_in_crop + shift))
        per_view = max(1, math.ceil(p.refinement_check_boxes / len(views)))
        return check_refinement(views, per_view, self.generator)

    def _refine(self, features: dict[str, torch.Tensor], class_pos: np.ndarray, center: np.ndarray,
                scale: float, timer: StageTimer | None = None) -> float:
        """Refine the box around the classifier's position ``class_pos`` on the IoU maps of the crop centred at
        ``center`` with ``scale`` image px per crop px; updates pos/size and returns the box score (``timer``: as for
        :meth:`_ascend`)."""
        p = self.params
        size = features[IOU_LAYERS[1]].shape[-1] * LAYER3_STRIDE  # crop side
        crop_size = self.size / scale
        crop_center = (class_pos - center) / scale + size / 2
        estimate = torch.tensor([*(crop_center - crop_size / 2), *crop_size], dtype=torch.float32, device=self.device)
        boxes = initial_boxes(estimate, p.num_init_random_boxes, p.box_jitter_pos, p.box_jitter_size, self.generator)
        window = None
        if p.iou_window_margin is not None:
            # initial boxes lie within the estimate grown by the jitter bounds (see initial_boxes)
            extent = math.sqrt(crop_size[0] * crop_size[1])
            half = crop_size / 2 + extent * (p.box_jitter_pos / 2 + p.box_jitter_size / 4)
            height, width = features[IOU_LAYERS[1]].shape[-2:]
            window = feature_window(tuple(crop_center - half), tuple(crop_center + half), p.iou_window_margin * extent,
                                    height, width)
        refined, scores, extent = self._ascend(features, boxes, window, timer)
        if window is not None and not window.covers(*extent):
            logger.debug("frame %d: boxes left the IoU feature window, recomputing on the full maps", self.frame_num)
            refined, scores, _ = self._ascend(features, boxes, None, timer)
        final = select_final_box(refined, scores, p.top_k, p.max_aspect_ratio)
        if final is None:  # every box degenerate: keep the previous box (the classifier shift is discarded)
            return -math.inf
        box, box_score = final
        x, y, w, h = box.tolist()
        self.pos = center + (np.array([x + w / 2, y + h / 2]) - size / 2) * scale
        self.size = np.array([w, h]) * scale
        return float(box_score)

    def _ascend(self, features: dict[str, torch.Tensor], boxes: torch.Tensor, window: FeatureWindow | None,
                timer: StageTimer | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, tuple[tuple[float, float], tuple[float, float]] | None]:
        """Refine ``boxes`` on the IoU features of ``window`` (None: full maps, without host synchronisation); the
        ``timer``, if given, counts the IoU-Net's test features apart from the refinement.

        Returns (boxes, scores, extent): with a window, extent = ((min x, min y), (max x, max y)) of every evaluated
        box; None without.
        """
        if timer is not None:
            timer.mark("refinement")  # the initial boxes and the window
        feats = [features[name] for name in IOU_LAYERS]
        if window is not None:
            feats = window.crop_inputs(feats)
        iou_feats = self.net.bb_regressor.get_iou_feat(feats)
        offset = torch.zeros(4, device=self.device)
        if window is not None:
            iou_feats = window.crop_outputs(iou_feats)
            offset[:2] = torch.tensor(window.offset)
        frame = self.iou_predictor.prepare(iou_feats)
        if timer is not None:
            timer.mark("iou_features")
        refined, scores, evaluated = self.refiner.refine(_window_box_score, boxes, (offset, frame),
                                                         with_evaluated=window is not None)
        if window is None:
            return refined, scores, None
        corners = xywh_to_xyxy(evaluated).reshape(-1, 2, 2)
        extent = torch.cat((corners.amin(dim=(0, 1)), corners.amax(dim=(0, 1)))).tolist()  # one sync per frame
        return refined, scores, ((extent[0], extent[1]), (extent[2], extent[3]))


def _window_box_score(boxes: torch.Tensor, offset: torch.Tensor, frame: PreparedFrame) -> torch.Tensor:
    """IoU-Net scores [N] of crop boxes [N, 4] (xywh) on a frame prepared from a feature window at ``offset`` [4]."""
    return score_proposals((boxes - offset)[None], frame)[0]


def _cpu_generator(rng: np.random.Generator) -> torch.Generator:
    generator = torch.Generator()
    generator.manual_seed(int(rng.integers(2**62)))
    return generator

"""Target estimation by the IoU-Net as a component: condition on the first frame, then refine boxes.

``IoURefinement.condition(image, box, rng)`` computes the IoU-Net's modulation vector from the first frame's crop
(and, if configured, runs the first-frame self-check, ``trackers.atom_ebm.refinement_check``, and fits the head to
the target, ``trackers.atom_ebm.iou_adaptation``).
``IoURefinement.refine(image, box)`` cuts the IoU-Net's crop around ``box`` (the network's input contract: a square
``search_area_factor`` target sizes wide, at the scale of a ``crop_size`` px crop, of which an ``iou_crop_size`` px
window is used), starts a batch of boxes around it, refines them (Algorithm S1 or ATOM's fixed steps,
``trackers.atom_ebm.box_refiner``) and returns the top-k mean in image px with its score, or None when every box
degenerated. The tracker, the benchmarks and the tests all use it through these two calls.
"""
from __future__ import annotations

import copy
import logging
import math
from dataclasses import dataclass, replace

import numpy as np
import torch

from ltr.data.box_ops import xywh_to_xyxy
from ltr.data.normalization import ImageNormalizer
from ltr.data.search_region import SearchRegion
from ltr.models.bbreg.iou_predictor import IoUPredictor, PreparedFrame, score_proposals
from ltr.models.input_spec import REFERENCE_INPUT_SPEC, InputSpec
from trackers.atom_ebm.augmentation import augmented_samples
from trackers.atom_ebm.backbone_engine import BackboneEngine
from trackers.atom_ebm.box_refiner import BoxRefiner, initial_boxes, select_final_box
from trackers.atom_ebm.iou_adaptation import adapt_head, adaptation_crops
from trackers.atom_ebm.iou_window import FeatureWindow, feature_window
from trackers.atom_ebm.params import AtomEbmParams
from trackers.atom_ebm.refinement_check import CheckResult, check_refinement
from trackers.atom_ebm.stage_timer import StageTimer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Refined:
    """A refined box (x, y, w, h; image px) and its IoU-Net score."""

    box: tuple[float, float, float, float]
    score: float


class IoURefinement:
    """The IoU-Net's box refinement for one sequence at a time (see the module docstring).

    Args:
        net: an ``ATOMnet`` (``extract_backbone_features``, ``bb_regressor``, ``input_spec``).
        params: the tracker's parameters (refinement settings, ``iou_crop_size``, ``iou_search_area_scale``).
        generator: random generator on ``device`` for the initial boxes and the self-check.
    """

    def __init__(self, net, params: AtomEbmParams, device: torch.device, generator: torch.Generator,
                 backbone: BackboneEngine | None = None):
        self.net = net
        self.backbone = backbone or BackboneEngine(net, params.precision, device)
        #: with a reduced-precision backbone, the IoU-Net's test-feature convolutions and S1's fully connected layers
        #: run in bfloat16 too (the fully connected layers read half the weight bytes per evaluation); the
        #: convolutions from a bfloat16 copy of the test branch, cast once here rather than every frame
        self.bfloat16_head = self.backbone.precision != "fp32"
        self._test_branch = _bfloat16_test_branch(net.bb_regressor) if self.bfloat16_head else None
        self.params = params
        self.device = device
        self.generator = generator
        self.spec: InputSpec = getattr(net, "input_spec", REFERENCE_INPUT_SPEC)
        self.search_area_factor = params.iou_search_area_scale or self.spec.search_area_factor
        if self.search_area_factor != self.spec.search_area_factor:  # an explicit choice: used, but flagged
            logger.warning("iou_search_area_scale %s differs from the %s the network was trained with",
                           self.search_area_factor, self.spec.search_area_factor)
        self.layers = self.spec.layers
        self.normalize = ImageNormalizer(self.spec, device)
        self.refiner = BoxRefiner(params)
        self.predictor: IoUPredictor | None = None

    def region(self, box: np.ndarray) -> SearchRegion:
        """The IoU-Net's crop around an image box [4] (xywh): the training scale, ``iou_crop_size`` px wide."""
        center = box[:2] + box[2:] / 2
        full = SearchRegion.around(tuple(center), tuple(box[2:]), self.search_area_factor, self.spec.crop_size)
        return SearchRegion(full.center, full.scale, self.params.iou_crop_size)

    def condition(self, image: np.ndarray, box: np.ndarray, rng: np.random.Generator) -> CheckResult | None:
        """Condition the IoU-Net on the target ``box`` [4] (xywh, image px) of the first frame ``image``.

        The crop is augmented with the classifier's fixed shifts (``rng``: the random shift of
        ``augmented_samples``); with ``refinement_check_boxes`` the shifted crops feed the self-check, whose result
        is returned (None without it). With ``iou_adaptation_steps``, the head is then fitted to the target
        (``_adapted_head``), unless the check turned refinement off.
        """
        p = self.params
        region = self.region(box)
        side = region.side
        expanded = SearchRegion(region.center, region.scale, 2 * side).crop(image)
        shifts_only = replace(p, augment_flip=False, augment_blur=(), augment_rotation=())
        crops, offsets = augmented_samples(expanded, side, (0.0, 0.0), shifts_only, rng)
        maps = self._backbone(self.normalize(crops))
        w, h = box[2] / region.scale, box[3] / region.scale
        box_in_crop = torch.tensor([[side / 2 - w / 2, side / 2 - h / 2, w, h]], dtype=torch.float32, device=self.device)
        modulation = self.net.bb_regressor.get_modulation([maps[name][:1] for name in self.layers], box_in_crop)
        fc_dtype = torch.bfloat16 if self.bfloat16_head else None
        self.predictor = IoUPredictor(self.net.bb_regressor, modulation, fc_dtype)
        check = self._check(maps, offsets, box_in_crop) if p.refinement_check_boxes else None
        if p.iou_adaptation_steps and (check is None or check.refinement_helps):
            self.predictor = IoUPredictor(self._adapted_head(image, box, modulation, rng), modulation, fc_dtype)
        return check

    def _check(self, maps: dict[str, torch.Tensor], offsets: np.ndarray, box_in_crop: torch.Tensor) -> CheckResult:
        """The self-check on the shifted first-frame crops (``maps`` of ``augmented_samples``' crops, their
        ``offsets``), with the network as trained."""
        p = self.params
        views = []
        for index in range(1, 1 + len(p.augment_shift)):  # augmented_samples: identity first, then the fixed shifts
            crop_maps = {name: maps[name][index:index + 1] for name in self.layers}
            shift = torch.tensor([*offsets[index], 0.0, 0.0], dtype=box_in_crop.dtype, device=self.device)
            views.append((lambda boxes, m=crop_maps: self._ascend(m, boxes, None)[0], box_in_crop[0] + shift))
        per_view = max(1, math.ceil(p.refinement_check_boxes / len(views)))
        return check_refinement(views, per_view, self.generator)

    def _adapted_head(self, image: np.ndarray, box: np.ndarray, modulation: list[torch.Tensor],
                      rng: np.random.Generator) -> torch.nn.Module:
        """The IoU-Net head fitted to the target ``box`` (xywh, image px) of the first frame
        (``trackers.atom_ebm.iou_adaptation``)."""
        p = self.params
        crops, boxes = adaptation_crops(image, box, self.region, p.iou_adaptation_crops, rng)
        maps = self._backbone(self.normalize(crops))
        iou_feats = self.iou_features([maps[name] for name in self.layers])
        target_boxes = torch.as_tensor(boxes, dtype=torch.float32, device=self.device)
        return adapt_head(self.net.bb_regressor, modulation, iou_feats, target_boxes, p.iou_adaptation_steps,
                          p.iou_adaptation_learning_rate, p.iou_adaptation_proposals, self.generator)

    def refine(self, image: np.ndarray, box: tuple[float, float, float, float] | np.ndarray,
               timer: StageTimer | None = None) -> Refined | None:
        """Refine ``box`` (xywh, image px) on the IoU-Net's crop around it; None when every box degenerated.

        ``timer``, if given, gets the stages "backbone", "iou_features" and "refinement".
        """
        if self.predictor is None:
            raise RuntimeError("refine() called before condition()")
        timer = timer or StageTimer(self.device, enabled=False)
        box = np.asarray(box, dtype=np.float64)
        region = self.region(box)
        with timer.stage("backbone"):
            maps = self._backbone(self.normalize(region.crop(image)))
        with timer.stage("refinement"):
            crop_box = region.to_crop(box)
            estimate = torch.tensor(crop_box, dtype=torch.float32, device=self.device)
            window = self._window(crop_box)
        final = self._refine_in_crop(maps, estimate, window, timer)
        if final is None:
            return None
        crop_box, score = final
        x, y, w, h = region.to_image(crop_box.tolist()).tolist()
        return Refined((x, y, w, h), float(score))

    def _refine_in_crop(self, maps: dict[str, torch.Tensor], estimate: torch.Tensor, window: FeatureWindow | None,
                        timer: StageTimer) -> tuple[torch.Tensor, torch.Tensor] | None:
        """Refine boxes around ``estimate`` [4] (crop px) on the crop's backbone ``maps``: (box [4], score) or None.

        With a feature window the refinement runs on it and, if an evaluated box left it, again on the full maps."""
        p = self.params
        with timer.stage("refinement"):
            boxes = initial_boxes(estimate, p.num_init_random_boxes, p.box_jitter_pos, p.box_jitter_size,
                                  self.generator)
        for attempt in (window, None) if window is not None else (None,):
            refined, scores, extent = self._ascend(maps, boxes, attempt, timer)
            if attempt is None or attempt.covers(*extent):
                break
            logger.debug("boxes left the IoU feature window, recomputing on the full maps")
        with timer.stage("refinement"):
            return select_final_box(refined, scores, p.top_k, p.max_aspect_ratio)

    def _window(self, crop_box: np.ndarray) -> FeatureWindow | None:
        """The window of the maps that refining around ``crop_box`` [4] (xywh, crop px) needs
        (``iou_window_margin``), None for the full maps."""
        p = self.params
        if p.iou_window_margin is None:
            return None
        crop_size = crop_box[2:]
        crop_center = crop_box[:2] + crop_size / 2
        # the initial boxes lie within the estimate grown by the jitter bounds (see initial_boxes)
        extent = math.sqrt(crop_size[0] * crop_size[1])
        half = crop_size / 2 + extent * (p.box_jitter_pos / 2 + p.box_jitter_size / 4)
        cells = p.iou_crop_size // self.spec.strides[-1]  # the map the window is cut from
        return feature_window(tuple(crop_center - half), tuple(crop_center + half), p.iou_window_margin * extent,
                              cells, cells)

    def iou_features(self, feats: list[torch.Tensor]) -> list[torch.Tensor]:
        """The IoU-Net's test-branch features [layer2, layer3] -> float32 maps (bfloat16 convolutions with
        ``bfloat16_head``)."""
        if self._test_branch is None:
            return self.net.bb_regressor.get_iou_feat(feats)
        return [feat.float() for feat in self._test_branch.get_iou_feat([f.to(torch.bfloat16) for f in feats])]

    def _backbone(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        return dict(self.backbone(images, self.layers))

    def _ascend(self, maps: dict[str, torch.Tensor], boxes: torch.Tensor, window: FeatureWindow | None,
                timer: StageTimer | None = None
                ) -> tuple[torch.Tensor, torch.Tensor, tuple[tuple[float, float], tuple[float, float]] | None]:
        """Refine ``boxes`` on the IoU features of ``window`` (None: full maps, without host synchronisation).

        Returns (boxes, scores, extent): with a window, extent = ((min x, min y), (max x, max y)) of every evaluated
        box; None without.
        """
        timer = timer or StageTimer(self.device, enabled=False)
        with timer.stage("iou_features"):
            feats = [maps[name] for name in self.layers]
            if window is not None:
                feats = window.crop_inputs(feats)
            iou_feats = self.iou_features(feats)
            offset = torch.zeros(4, device=self.device)
            if window is not None:
                iou_feats = window.crop_outputs(iou_feats)
                offset[:2] = torch.tensor(window.offset)
            frame = self.predictor.prepare(iou_feats)
        with timer.stage("refinement"):
            refined, scores, evaluated = self.refiner.refine(_window_box_score, boxes, (offset, frame),
                                                             with_evaluated=window is not None)
            if window is None:
                return refined, scores, None
            corners = xywh_to_xyxy(evaluated).reshape(-1, 2, 2)
            extent = torch.cat((corners.amin(dim=(0, 1)), corners.amax(dim=(0, 1)))).tolist()  # one sync per frame
        return refined, scores, ((extent[0], extent[1]), (extent[2], extent[3]))


def _bfloat16_test_branch(head: torch.nn.Module) -> torch.nn.Module:
    """A bfloat16 copy of the IoU-Net head for its test branch (``get_iou_feat``), in eval mode."""
    return copy.deepcopy(head).to(torch.bfloat16).eval()


def _window_box_score(boxes: torch.Tensor, offset: torch.Tensor, frame: PreparedFrame) -> torch.Tensor:
    """IoU-Net scores [N] of crop boxes [N, 4] (xywh) on a frame prepared from a feature window at ``offset`` [4]."""
    return score_proposals((boxes - offset)[None], frame)[0]

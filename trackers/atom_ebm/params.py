"""Parameters of the ATOM-EBM tracker as one frozen dataclass (variants via ``dataclasses.replace``)."""
from __future__ import annotations

import ast
import math
from dataclasses import dataclass, fields, replace
from typing import Any

REFINEMENT_METHODS = ("ascent", "fixed_step", "none")
#: backbone layers the online classifier can use, with their stride (crop px per feature cell)
BACKBONE_LAYER_STRIDES = {"layer1": 4, "layer2": 8, "layer3": 16}
#: the hand-crafted alternative (``trackers.atom_ebm.handcrafted_features``), stride ``hog_cell_size``
HOG_COLOR = "hog_color"
LAYER3_STRIDE = BACKBONE_LAYER_STRIDES["layer3"]
BOX_NORMALIZATIONS = ("own", "first")
#: ``torch.compile`` modes accepted by ``compile_refinement``
#: backbone arithmetic (``trackers.atom_ebm.backbone_engine``)
PRECISIONS = ("fp32", "bf16", "int8")
COMPILE_MODES = ("default", "reduce-overhead", "max-autotune", "max-autotune-no-cudagraphs", "cudagraphs")


@dataclass(frozen=True)
class AtomEbmParams:
    """All settings of ``AtomEbmTracker``; defaults follow the reference ATOM/EBM tracker, except:

    * the IoU-Net's backbone pass covers a 192 px window of its 288 px crop, cut around the classifier's estimate
      (fewer pixels, the same refinement where the boxes are);
    * the classifier scores layer3 together with hand-crafted HOG + colour features (16 px cells; 268 -> 64 channels,
      a 6 x 6 filter) on a crop 3 targets wide with memory learning rate 0.03, instead of ATOM's layer3 alone with a
      4 x 4 filter, search area 5 and learning rate 0.01; the IoU-Net keeps its own crop, 5 targets wide.

    * on the CPU the backbone runs in int8 (the same held-out AUC and refinement within the noise of fp32, about
      3x faster backbone passes).

    All were chosen by measurements on sequences outside the test set (experiments/NOTEBOOK.md).

    Sampling geometry:
        image_sample_size: side of the square crop fed to the backbone (px); layer3 map = size / 16.
        search_area_scale: the crop covers a square of area ``search_area_scale**2 * w * h`` (for targets that are
            not small: see ``small_target_fraction``).
        iou_search_area_scale: search area of the IoU-Net's crop; None = the search-area factor the network was
            trained with (its ``input_spec``: 5 for the bundled model and the reference). A value that differs from
            the network's is used, with a warning.
        iou_crop_size: side (px) of the IoU-Net's crop, at the scale of the network's training crop (image px per
            crop px as for its ``input_spec.crop_size``, 288 px), a multiple of 16. Below that side it is a window
            of the crop, cut around the classifier's estimate: the backbone then runs on
            ``(iou_crop_size / 288)**2`` of the pixels.
        inside_ratio: the target centre is kept within ``[-(0.5 - inside_ratio) * size, image + ...]``.
        small_target_fraction, small_target_search_area_scale, small_target_filter_size: a sequence whose first box
            has a geometric-mean side below ``small_target_fraction`` of the image's is tracked with the classifier
            crop ``small_target_search_area_scale`` target sizes wide and a ``small_target_filter_size`` filter
            (``for_sequence``); 0 turns this off.
    Classifier:
        classifier_features: what the classifier scores: a backbone layer ("layer1", "layer2", "layer3": stride 4, 8,
            16), hand-crafted HOG + colour ("hog_color", stride ``hog_cell_size``), or several of the same stride
            joined by "+" (e.g. "layer3+hog_color"; each block weighs the same, ``classifier.combine_feature_blocks``).
        hog_cell_size: cell side of the HOG + colour features (crop px).
        compressed_dim, filter_size: 1x1 projection of the classifier features (e.g. 268 channels for
            "layer3+hog_color") -> compressed_dim, then one filter_size^2 filter.
        mlu_slope: "mlu" response activation parameter (ELU alpha, leaky slope 1/alpha).
        filter_reg, projection_reg: Tikhonov weights of the classifier objective.
        output_sigma_factor: label sigma = factor * sqrt(target area in feature cells).
        init_gn_iter, init_cg_iter: Gauss-Newton outer x CG inner iterations on the first frame.
        update_cg_iter, train_skipping: CG iterations of the online update, run every train_skipping frames.
        hard_negative_cg_iter: CG iterations run at once on a hard-negative frame.
        memory_size, learning_rate, hard_negative_learning_rate, init_samples_min_weight: sample memory.
        augment_shift, augment_blur, augment_rotation, augment_flip, augment_random_shift, num_dropout_samples,
        dropout_prob: first-frame data augmentation.
    Localisation (on the up-sampled score map):
        target_not_found_threshold, distractor_threshold, hard_negative_threshold,
        displacement_scale, target_neighborhood_scale.
    Target estimation (IoU-Net):
        refinement: "ascent" (Algorithm S1 in the relative box space), "fixed_step" (ATOM-style
            unconditional box-size-scaled steps in x,y,w,h) or "none" (classifier position, previous size).
        box_normalization: relative space normalised by each box's "own" size or by the "first" box (estimate).
        num_init_random_boxes, box_jitter_pos, box_jitter_size: random initial boxes around the estimate.
        num_iter, step_length_center, step_length_size, step_decay: ascent settings ("ascent" uses both step
            lengths in the relative space; "fixed_step" uses step_length_center for every coordinate).
        compile_refinement: run each S1 iteration as one compiled graph: a ``torch.compile`` mode for inductor
            ("default", "reduce-overhead": inductor kernels in CUDA graphs, ...) or "cudagraphs" (CUDA graphs of the
            eager kernels: the eager numbers, CUDA only); None = eager. Needs refinement "ascent" and
            ``iou_window_margin=None`` (fixed shapes); the first frame pays the compilation.
        top_k, max_aspect_ratio: post-processing.
        iou_window_margin: compute the IoU-Net test features only on a window of the backbone maps around the
            initial boxes, grown by this fraction of sqrt(w h) for their motion (``trackers.atom_ebm.iou_window``;
            exact: recomputed on the full maps when an evaluated box leaves the window); None = full maps.
        refinement_check_boxes: on the first frame, refine this many perturbed copies of the given box and keep
            refinement on for the sequence only if their mean IoU with it rises
            (``trackers.atom_ebm.refinement_check``); 0 = always refine (the reference behaviour).
        iou_adaptation_steps, iou_adaptation_learning_rate, iou_adaptation_crops, iou_adaptation_proposals: on the
            first frame, fit the IoU-Net's fully connected layers to the target with this many Adam steps of the EBM
            NLL, on this many jittered (half mirrored) crops with this many fresh proposals each
            (``trackers.atom_ebm.iou_adaptation``); 0 steps = the network as trained (the reference behaviour).
        refine_at_border: also refine when the classifier's box (new position, previous size) reaches past the
            image border. The crop replicates the border there, so the IoU-Net sees only the visible part and fits
            the box to it; False makes such frames classifier-only (position, previous size). True is the
            reference behaviour.
        size_update_rate: how far the target's size moves towards a refined box's size per frame, in log space:
            size = previous^(1 - rate) * refined^rate (the centre is the refined one). 1 takes the refined size, as the
            reference does; below 1 averages the refined sizes' frame-to-frame noise (about 6 % per side on the
            selection clips) at the cost of a lag of about 1 / rate frames behind a steady size change.
    Misc:
        precision: the backbone's arithmetic on the CPU (``trackers.atom_ebm.backbone_engine``): "int8" (the model
            file's calibration, compiled; a model without one runs fp32, with a warning), "bf16" (autocast,
            compiled) or "fp32" (eager). Other devices run fp32.
        seed: seed of the tracker's random generators, set at every ``initialize`` (None = drawn there from torch's
            global generator, so ``torch.manual_seed`` before ``initialize`` makes a sequence reproducible).
    """

    # sampling geometry
    image_sample_size: int = 288
    search_area_scale: float = 3.0
    iou_search_area_scale: float | None = None
    iou_crop_size: int = 192
    inside_ratio: float = 0.2
    small_target_fraction: float = 0.05
    small_target_search_area_scale: float = 5.0
    small_target_filter_size: int = 4
    # classifier model and objective
    classifier_features: str = "layer3+" + HOG_COLOR
    hog_cell_size: int = 16
    compressed_dim: int = 64
    filter_size: int = 6
    mlu_slope: float = 0.05
    filter_reg: float = 0.1
    projection_reg: float = 1e-4
    output_sigma_factor: float = 0.25
    # classifier optimisation
    init_gn_iter: int = 6
    init_cg_iter: int = 10
    update_cg_iter: int = 5
    train_skipping: int = 10
    hard_negative_cg_iter: int = 5
    # sample memory
    memory_size: int = 250
    learning_rate: float = 0.03
    hard_negative_learning_rate: float = 0.02
    init_samples_min_weight: float = 0.25
    # first-frame augmentation
    augment_shift: tuple[tuple[float, float], ...] = ((0.6, 0.6), (-0.6, 0.6), (0.6, -0.6), (-0.6, -0.6))
    augment_flip: bool = True
    augment_blur: tuple[tuple[float, float], ...] = ((2.0, 0.2), (0.2, 2.0), (3.0, 1.0), (1.0, 3.0), (2.0, 2.0))
    augment_rotation: tuple[float, ...] = (5.0, -5.0, 10.0, -10.0, 20.0, -20.0, 30.0, -30.0, 45.0, -45.0, 60.0, -60.0)
    augment_random_shift: float = 1.0 / 3.0
    num_dropout_samples: int = 7
    dropout_prob: float = 0.2
    # localisation
    target_not_found_threshold: float = 0.25
    distractor_threshold: float = 0.8
    hard_negative_threshold: float = 0.5
    displacement_scale: float = 0.8
    target_neighborhood_scale: float = 2.2
    # target estimation
    refinement: str = "ascent"
    box_normalization: str = "own"
    num_init_random_boxes: int = 9
    box_jitter_pos: float = 0.1
    box_jitter_size: float = 0.5
    num_iter: int = 10
    step_length_center: float = 2e-3
    step_length_size: float = 1e-2
    step_decay: float = 0.5
    compile_refinement: str | None = None
    top_k: int = 3
    max_aspect_ratio: float = 6.0
    iou_window_margin: float | None = 0.25
    refinement_check_boxes: int = 0
    iou_adaptation_steps: int = 0
    iou_adaptation_learning_rate: float = 2e-4
    iou_adaptation_crops: int = 8
    iou_adaptation_proposals: int = 32
    refine_at_border: bool = False
    size_update_rate: float = 1.0
    # misc
    precision: str = "int8"
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.refinement not in REFINEMENT_METHODS:
            raise ValueError(f"refinement must be one of {REFINEMENT_METHODS}, got {self.refinement!r}")
        if self.box_normalization not in BOX_NORMALIZATIONS:
            raise ValueError(f"box_normalization must be one of {BOX_NORMALIZATIONS}, got {self.box_normalization!r}")
        unknown = [name for name in self.classifier_parts if name not in (*BACKBONE_LAYER_STRIDES, HOG_COLOR)]
        if unknown or len(set(self.classifier_parts)) != len(self.classifier_parts):
            raise ValueError(f"classifier_features must be distinct names from {(*BACKBONE_LAYER_STRIDES, HOG_COLOR)} "
                             f"joined by '+', got {self.classifier_features!r}")
        strides = {self._stride(name) for name in self.classifier_parts}
        if len(strides) > 1:
            raise ValueError(f"classifier_features {self.classifier_features!r} mix strides {sorted(strides)}")
        if self.image_sample_size % self.feature_stride != 0:
            raise ValueError(
                f"image_sample_size {self.image_sample_size} must be a multiple of feature_stride {self.feature_stride}"
            )
        if not (self.iou_crop_size % LAYER3_STRIDE == 0 and 0 < self.iou_crop_size <= self.image_sample_size):
            raise ValueError(f"iou_crop_size must be a multiple of {LAYER3_STRIDE} in (0, image_sample_size="
                             f"{self.image_sample_size}], got {self.iou_crop_size}")
        if self.top_k < 1 or self.num_iter < 0 or self.num_init_random_boxes < 0 or self.refinement_check_boxes < 0:
            raise ValueError(
                f"need top_k >= 1, num_iter >= 0, num_init_random_boxes >= 0, refinement_check_boxes >= 0; got "
                f"{self.top_k}, {self.num_iter}, {self.num_init_random_boxes}, {self.refinement_check_boxes}"
            )
        if self.iou_adaptation_steps < 0 or (self.iou_adaptation_steps and not (
                self.iou_adaptation_learning_rate > 0 and self.iou_adaptation_crops >= 1
                and self.iou_adaptation_proposals >= 1)):
            raise ValueError(f"need iou_adaptation_steps >= 0 and, to adapt, a positive learning rate, crops and "
                             f"proposals; got {self.iou_adaptation_steps}, {self.iou_adaptation_learning_rate}, "
                             f"{self.iou_adaptation_crops}, {self.iou_adaptation_proposals}")
        if self.refinement_check_boxes and not self.augment_shift:
            raise ValueError("refinement_check_boxes needs the shifted first-frame crops: augment_shift is empty")
        if self.iou_window_margin is not None and not self.iou_window_margin >= 0.0:
            raise ValueError(f"iou_window_margin must be >= 0 or None, got {self.iou_window_margin}")
        if self.compile_refinement is not None:
            if self.compile_refinement not in COMPILE_MODES:
                raise ValueError(f"compile_refinement must be None or one of {COMPILE_MODES}, "
                                 f"got {self.compile_refinement!r}")
            if self.refinement != "ascent" or self.iou_window_margin is not None:
                raise ValueError("compile_refinement needs refinement='ascent' and iou_window_margin=None (fixed shapes)")
        if not 0.0 < self.size_update_rate <= 1.0:
            raise ValueError(f"size_update_rate must be in (0, 1], got {self.size_update_rate}")
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.precision != "fp32" and "layer1" in self.classifier_parts:
            raise ValueError(f"precision {self.precision!r} computes layer2/layer3 only; classifier_features is "
                             f"{self.classifier_features!r}")
        if not 0.0 <= self.small_target_fraction < 1.0:
            raise ValueError(f"small_target_fraction must be in [0, 1), got {self.small_target_fraction}")
        if self.small_target_search_area_scale <= 0 or self.small_target_filter_size < 1:
            raise ValueError(f"need small_target_search_area_scale > 0 and small_target_filter_size >= 1, got "
                             f"{self.small_target_search_area_scale} and {self.small_target_filter_size}")
        if not 0.0 < self.step_decay <= 1.0:
            raise ValueError(f"step_decay must be in (0, 1], got {self.step_decay}")

    def for_sequence(self, target_size: tuple[float, float], image_size: tuple[float, float]) -> AtomEbmParams:
        """The settings for a sequence whose first box is ``target_size`` (w, h) in an ``image_size`` (w, h) frame:
        these, or for a small target (geometric-mean side below ``small_target_fraction`` of the image's) the
        small-target search area and filter size."""
        target_side = math.sqrt(target_size[0] * target_size[1])
        if target_side < self.small_target_fraction * math.sqrt(image_size[0] * image_size[1]):
            return replace(self, search_area_scale=self.small_target_search_area_scale,
                           filter_size=self.small_target_filter_size)
        return self

    @property
    def feature_stride(self) -> int:
        """Crop pixels per cell of the classifier's feature map."""
        return self._stride(self.classifier_parts[0])

    @property
    def classifier_parts(self) -> tuple[str, ...]:
        """The feature blocks named by ``classifier_features``."""
        return tuple(self.classifier_features.split("+"))

    def _stride(self, name: str) -> int:
        return self.hog_cell_size if name == HOG_COLOR else BACKBONE_LAYER_STRIDES[name]

    @property
    def feature_size(self) -> int:
        """Side of the classifier's feature map (cells)."""
        return self.image_sample_size // self.feature_stride

    @property
    def num_init_samples(self) -> int:
        """Number of first-frame training samples (augmented copies + dropout copies)."""
        num_transforms = 1 + len(self.augment_shift) + int(self.augment_flip) + len(self.augment_blur)
        return num_transforms + len(self.augment_rotation) + self.num_dropout_samples


def with_overrides(params: AtomEbmParams, overrides: dict[str, Any]) -> AtomEbmParams:
    """``params`` with ``overrides`` applied; an unknown field name is a ``ValueError`` listing valid ones."""
    names = {f.name for f in fields(AtomEbmParams)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(f"unknown tracker parameter(s) {unknown}; valid: {', '.join(sorted(names))}")
    return replace(params, **overrides)


def parse_value(text: str) -> Any:
    """A parameter value typed on a command line: a Python literal (``2e-3``, ``None``, ``(1, 2)``), or the text itself
    for a bare word such as ``own``."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_overrides(items: list[str]) -> dict[str, Any]:
    """``["num_iter=4", "iou_window_margin=None"]`` -> ``{"num_iter": 4, "iou_window_margin": None}`` (see
    :func:`parse_value`); ``ValueError`` for an item without ``=``."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ValueError(f"expected KEY=VALUE, got {item!r}")
        overrides[key] = parse_value(value)
    return overrides

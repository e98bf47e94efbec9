"""End-to-end ATOM-EBM tracking on the bundled real sequence with an untrained network, device handling and bad input."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from helpers import LIGHT_INIT, write_checkpoint

from ltr.admin.loading import load_network
from ltr.data.search_region import SearchRegion
from ltr.utils.device import resolve_device
from ltr.utils.image_io import read_image
from pytracking.analysis.metrics import iou_continuous
from pytracking.demo import demo_sequence, zero_based
from trackers.atom_ebm.build import build_tracker
from trackers.atom_ebm.iou_refinement import IoURefinement, Refined
from trackers.atom_ebm.parameters import get_parameters
from trackers.atom_ebm.params import with_overrides
from trackers.atom_ebm.refinement_check import CheckResult
from trackers.atom_ebm.tracker import AtomEbmTracker
from trackers.atom_ebm.weights import resolve_checkpoint
from trackers.registry import build_tracker as build_registered

NUM_FRAMES = 4


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    torch.manual_seed(0)
    return write_checkpoint(tmp_path_factory.mktemp("ckpt") / "random_atom.pth.tar", epoch=0)


@pytest.fixture(scope="module")
def sequence():
    """The first frames of the bundled demo sequence (OTB Couple) and their 0-based ground truth."""
    demo = demo_sequence()
    frames = [read_image(path) for path in demo.frames[:NUM_FRAMES]]
    return frames, zero_based(demo.ground_truth[:NUM_FRAMES], demo)


def _run(tracker, frames, init_box):
    tracker.initialize(frames[0], init_box)
    return [tracker.track(frame) for frame in frames[1:]]


def _check_outputs(outputs, image_shape):
    height, width = image_shape[:2]
    for out in outputs:
        x, y, w, h = out.box
        assert all(math.isfinite(v) for v in out.box)
        assert w >= 1 and h >= 1
        assert x < width and y < height and x + w > 0 and y + h > 0  # overlaps the image
        assert set(out.timings) == {"backbone", "iou_features", "classifier", "refinement", "other"}
        assert all(t >= 0 for t in out.timings.values())
        assert isinstance(out.score, float)


def test_default_tracks_real_sequence_with_untrained_network(checkpoint, sequence):
    frames, boxes = sequence
    tracker = build_registered("atom_ebm", param="default", checkpoint=str(checkpoint), device="cpu")
    outputs = _run(tracker, frames, boxes[0])
    assert len(outputs) == NUM_FRAMES - 1
    _check_outputs(outputs, frames[0].shape)


@pytest.mark.parametrize("param", ["atom_baseline", "fast"])
def test_other_parameter_sets_track(checkpoint, sequence, param):
    frames, boxes = sequence
    params = with_overrides(get_parameters(param), LIGHT_INIT)
    outputs = _run(AtomEbmTracker(load_network(checkpoint), params, "cpu"), frames[:3], boxes[0])
    _check_outputs(outputs, frames[0].shape)


def test_seeded_runs_are_reproducible(checkpoint, sequence):
    frames, boxes = sequence
    params = with_overrides(get_parameters("fast"), {**LIGHT_INIT, "seed": 3})
    net = load_network(checkpoint)
    first = _run(AtomEbmTracker(net, params, "cpu"), frames[:3], boxes[0])
    second = _run(AtomEbmTracker(net, params, "cpu"), frames[:3], boxes[0])
    assert [o.box for o in first] == [o.box for o in second]


def test_a_sequence_does_not_depend_on_what_ran_before(checkpoint, sequence):
    """The runner seeds torch before each sequence; a tracker reused across sequences must honour that."""
    frames, boxes = sequence
    params = with_overrides(get_parameters("fast"), LIGHT_INIT)
    tracker = AtomEbmTracker(load_network(checkpoint), params, "cpu")
    torch.manual_seed(5)
    alone = _run(tracker, frames[:3], boxes[0])
    torch.manual_seed(1)
    _run(tracker, frames[1:4], boxes[1])  # another "sequence" first
    torch.manual_seed(5)
    after_other = _run(tracker, frames[:3], boxes[0])
    assert [o.box for o in alone] == [o.box for o in after_other]


class _FixedCheck(IoURefinement):
    """The real refinement, with its first-frame self-check result (where the parameters run one) replaced by
    ``result``."""

    def __init__(self, net, params, result: CheckResult):
        super().__init__(net, params, torch.device("cpu"), torch.Generator())
        self.result = result

    def condition(self, image, box, rng):
        ran = super().condition(image, box, rng)
        return None if ran is None else self.result


def test_failed_self_check_switches_refinement_off(checkpoint, sequence):
    """A self-check that finds no gain makes the frame path the classifier-only one (no IoU-Net, classifier score)."""
    frames, boxes = sequence
    net = load_network(checkpoint)
    for gain, expect_refining in ((-0.1, False), (0.1, True)):
        params = with_overrides(get_parameters("fast"), {**LIGHT_INIT, "seed": 2})
        tracker = AtomEbmTracker(net, params, "cpu", refinement=_FixedCheck(net, params, CheckResult(0.5, 0.5 + gain, 0.01)))
        outputs = _run(tracker, frames[:3], boxes[0])
        assert tracker.refining is expect_refining and tracker.refinement_check.iou_after == pytest.approx(0.5 + gain)
        assert [o.info["refined"] for o in outputs] == [expect_refining] * 2
        _check_outputs(outputs, frames[0].shape)
        if not expect_refining:
            classifier_only = _run(AtomEbmTracker(net, with_overrides(get_parameters("no_refine"), {**LIGHT_INIT, "seed": 2}), "cpu"),
                                   frames[:3], boxes[0])
            assert all(o.timings["refinement"] < 1e-3 for o in outputs)
            assert [o.box[2:] for o in outputs] == [tuple(boxes[0][2:])] * 2  # size kept, as without refinement
            assert [o.box[2:] for o in classifier_only] == [o.box[2:] for o in outputs]


@pytest.mark.parametrize("param, expect_refining", [("default", False), ("fast", False), ("always_refine", True),
                                                    ("atom_baseline", True), ("no_refine", False)])
def test_which_parameter_sets_obey_the_self_check(checkpoint, sequence, param, expect_refining):
    """With a self-check that always fails, only the sets meant to refine unconditionally (always_refine, and ATOM's
    fixed-step baseline) still move the box size; no_refine never does."""
    frames, boxes = sequence
    net = load_network(checkpoint)
    params = with_overrides(get_parameters(param), {**LIGHT_INIT, "seed": 1})
    refinement = None if param == "no_refine" else _FixedCheck(net, params, CheckResult(0.5, 0.3, 0.01))
    tracker = AtomEbmTracker(net, params, "cpu", refinement=refinement)
    outputs = _run(tracker, frames[:3], boxes[0])
    assert tracker.refining is expect_refining
    sizes_kept = all(o.box[2:] == tuple(boxes[0][2:]) for o in outputs)
    assert sizes_kept is not expect_refining, [o.box for o in outputs]


@pytest.mark.parametrize("refine_at_border", [True, False])
def test_a_box_past_the_border_is_refined_only_if_asked(checkpoint, sequence, refine_at_border):
    """A target cut by the left image border on a still video: the classifier keeps the box there, so with
    ``refine_at_border=False`` no frame is refined and the size stays; with True every frame is refined. Either way
    the reported box is the target's box cut to the image."""
    frames, _ = sequence
    still = [frames[0]] * 4
    straddling = (-12.0, 60.0, 40.0, 50.0)  # 12 of its 40 px lie left of the image
    params = with_overrides(get_parameters("always_refine"), {**LIGHT_INIT, "seed": 0, "refine_at_border": refine_at_border})
    tracker = AtomEbmTracker(load_network(checkpoint), params, "cpu")
    tracker.initialize(still[0], straddling)
    for frame in still[1:]:
        out = tracker.track(frame)
        left, top = tracker.pos - tracker.size / 2  # the target's box (the state)
        assert left < 0 and out.info["refined"] is refine_at_border  # still cut by the border
        if not refine_at_border:
            assert tuple(tracker.size) == straddling[2:]
        # the reported box is the part inside the image
        right, bottom = tracker.pos + tracker.size / 2
        assert out.box == pytest.approx((0.0, max(top, 0.0), right, min(bottom, frame.shape[0]) - max(top, 0.0)))


class _GrowingRefinement(IoURefinement):
    """A stand-in IoU-Net refinement: every estimate comes back ``growth`` times larger about its own centre."""

    def __init__(self, net, params, growth: float):
        super().__init__(net, params, torch.device("cpu"), torch.Generator())
        self.growth = growth

    def condition(self, image, box, rng):
        return None

    def refine(self, image, box, timer=None):
        x, y, w, h = box
        grown_w, grown_h = self.growth * w, self.growth * h
        return Refined((x + (w - grown_w) / 2, y + (h - grown_h) / 2, grown_w, grown_h), 0.9)


@pytest.mark.parametrize("rate", [1.0, 0.7, 0.4])
def test_the_size_moves_size_update_rate_of_the_way_to_the_refined_size(checkpoint, sequence, rate):
    """A refinement that returns each estimate 1.1 times larger: the state takes the refined centre, and the size
    moves ``rate`` of the way in log space, so after n frames it is the first size times 1.1^(n * rate)."""
    frames, boxes = sequence
    net = load_network(checkpoint)
    params = with_overrides(get_parameters("always_refine"), {**LIGHT_INIT, "seed": 0, "size_update_rate": rate})
    tracker = AtomEbmTracker(net, params, "cpu", refinement=_GrowingRefinement(net, params, 1.1))
    tracker.initialize(frames[0], boxes[0])
    for n, frame in enumerate(frames[1:], start=1):
        out = tracker.track(frame)
        assert out.info["refined"] and out.score == pytest.approx(0.9)
        np.testing.assert_allclose(tracker.size, np.asarray(boxes[0][2:]) * 1.1 ** (n * rate), rtol=1e-9)
        x, y, w, h = out.info["estimate"]  # the classifier's centre is the refined one
        np.testing.assert_allclose(tracker.pos, (x + w / 2, y + h / 2), rtol=1e-9)


class _TinyNet(torch.nn.Module):
    """Stand-in feature source for input-validation tests (no IoU-Net needed with no_refine)."""

    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 256, 16, stride=16)

    def extract_backbone_features(self, images, layers=None):
        return {"layer3": self.conv(images)}


def test_bad_input(checkpoint, sequence):
    frames, boxes = sequence
    params = with_overrides(get_parameters("no_refine"), LIGHT_INIT)
    tracker = AtomEbmTracker(_TinyNet(), params, device="cpu")
    with pytest.raises(RuntimeError, match="before initialize"):
        tracker.track(frames[0])
    for bad, message in [((1, 2, float("nan"), 4), "non-finite"), ((1, 2, 0, 4), "positive"),
                         ((5000, 10, 20, 20), "outside")]:
        with pytest.raises(ValueError, match=message):
            tracker.initialize(frames[0], bad)
    with pytest.raises(ValueError, match="RGB uint8"):
        tracker.initialize(frames[0].astype(np.float32), boxes[0])
    tracker.initialize(frames[0], boxes[0])
    with pytest.raises(ValueError, match="differs from the first frame"):
        tracker.track(frames[1][:100])
    with pytest.raises(ValueError, match="unknown atom_ebm parameter set 'x'"):
        build_tracker(param="x", checkpoint=checkpoint, device="cpu")


def test_device_resolution():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None).type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            resolve_device("cuda")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu_closely_and_cuda_graphs_match_eager(sequence):
    """The bundled model, refinement on every frame, fixed shapes: CUDA boxes close to the CPU's float32 ones (float
    differences may flip an S1 accept decision, so not equal), and the S1 loop replayed as CUDA graphs equal to eager
    CUDA."""
    frames, boxes = sequence
    params = with_overrides(get_parameters("always_refine"),
                            {**LIGHT_INIT, "seed": 0, "iou_window_margin": None, "precision": "fp32"})

    def run(device: str, **overrides) -> np.ndarray:
        net = load_network(resolve_checkpoint(None))
        tracker = AtomEbmTracker(net, with_overrides(params, overrides), device)
        return np.array([boxes[0], *(out.box for out in _run(tracker, frames, boxes[0]))])

    cpu, cuda = run("cpu"), run("cuda")
    assert iou_continuous(cpu, cuda).mean() >= 0.8
    np.testing.assert_allclose(run("cuda", compile_refinement="cudagraphs"), cuda, rtol=0, atol=1e-3)


def test_global_torch_seed_makes_unseeded_runs_reproducible(sequence):
    frames, boxes = sequence
    params = with_overrides(get_parameters("no_refine"), LIGHT_INIT)
    runs = []
    for _ in range(2):
        torch.manual_seed(7)
        tracker = AtomEbmTracker(_TinyNet(), params, device="cpu")
        runs.append([o.box for o in _run(tracker, frames[:3], boxes[0])])
    assert runs[0] == runs[1]


class _RecordingNet:
    """Wraps a network and records every backbone call (crops and requested layers)."""

    def __init__(self, net):
        self.net = net
        self.bb_regressor = net.bb_regressor
        self.calls = []

    def extract_backbone_features(self, images, layers=None):
        self.calls.append((images.clone(), tuple(layers)))
        return self.net.extract_backbone_features(images, layers)


def _expected_crop(tracker, image, center, target_size, search_area, side=None):
    """The crop the tracker should cut, computed from the geometry directly: an ``image_sample_size`` crop would be
    ``search_area`` targets wide; ``side`` px of it (default: all) around ``center``."""
    scale = math.sqrt(target_size[0] * target_size[1]) * search_area / tracker.params.image_sample_size
    region = SearchRegion(tuple(center), scale, side or tracker.params.image_sample_size)
    return tracker.refinement.normalize(region.crop(image))


def test_iou_net_sees_its_training_search_area_and_hog_needs_no_backbone(checkpoint, sequence):
    frames, boxes = sequence
    x, y, w, h = boxes[0]
    center = np.array([x + w / 2, y + h / 2])
    recorder = _RecordingNet(load_network(checkpoint).eval().requires_grad_(False))
    overrides = {**LIGHT_INIT, "classifier_features": "hog_color", "compressed_dim": 12, "filter_size": 8,
                 "search_area_scale": 3.0, "seed": 0, "target_not_found_threshold": 0.0}
    tracker = AtomEbmTracker(recorder, with_overrides(get_parameters("always_refine"), overrides), "cpu")
    tracker.initialize(frames[0], boxes[0])
    # first frame: one IoU-Net pass over the identity and the shifted crops, cut 5 targets wide (the network's
    # input contract), then one over the crops that the head is fitted on, the first of them the same cut
    (crops, layers), (fit_crops, fit_layers) = recorder.calls
    assert layers == ("layer2", "layer3") and crops.shape[0] == 1 + len(tracker.params.augment_shift)
    assert fit_layers == layers and fit_crops.shape[0] == tracker.params.iou_adaptation_crops
    side = tracker.params.iou_crop_size
    expected = _expected_crop(tracker, frames[0], center, (w, h), 5.0, side)
    torch.testing.assert_close(fit_crops[:1], expected)
    # the first frame's crops are resampled once more than the direct cut (a few pixels differ by ~0.05 of a
    # normalised unit, i.e. ~3 grey levels, on high-contrast edges); on average they are the same
    difference = (crops[0] - expected[0]).abs()
    assert difference.max() < 0.1 and difference.mean() < 2e-3, (difference.max(), difference.mean())
    recorder.calls.clear()
    output = tracker.track(frames[1])
    (crop, layers), = recorder.calls  # the HOG classifier needs no backbone pass
    assert layers == ("layer2", "layer3")
    # the IoU-Net's crop is cut around the classifier's estimate
    estimate = np.asarray(output.info["estimate"])
    torch.testing.assert_close(crop, _expected_crop(tracker, frames[1], estimate[:2] + estimate[2:] / 2, (w, h), 5.0, side))

    # a backbone classifier: its own pass on its crop (layer3), then the IoU-Net's on its crop
    recorder.calls.clear()
    layer3 = with_overrides(get_parameters("always_refine"),
                            {**LIGHT_INIT, "classifier_features": "layer3", "filter_size": 4, "seed": 0})
    tracker = AtomEbmTracker(recorder, layer3, "cpu")
    tracker.initialize(frames[0], boxes[0])
    recorder.calls.clear()
    tracker.track(frames[1])
    assert [layers for _, layers in recorder.calls] == [("layer3",), ("layer2", "layer3")]
    torch.testing.assert_close(recorder.calls[0][0], _expected_crop(tracker, frames[1], center, (w, h), 3.0))

    # classifier only with HOG: no backbone at all
    recorder.calls.clear()
    hog_only = with_overrides(get_parameters("no_refine"), {**overrides, "seed": 0})
    tracker = AtomEbmTracker(recorder, hog_only, "cpu")
    _run(tracker, frames[:3], boxes[0])
    assert recorder.calls == []


@pytest.mark.parametrize("side, small", [(10.0, True), (40.0, False)])
def test_a_small_target_gets_a_wider_classifier_crop_and_a_smaller_filter(checkpoint, sequence, side, small):
    # Couple is 320 x 240 (geometric-mean side 277 px): a 10 px box is 3.6 % of it (small), a 40 px box 14 %
    frames, boxes = sequence
    x, y, w, h = boxes[0]
    center = np.array([x + w / 2, y + h / 2])
    box = (center[0] - side / 2, center[1] - side / 2, side, side)
    recorder = _RecordingNet(load_network(checkpoint).eval().requires_grad_(False))
    params = with_overrides(get_parameters("always_refine"),
                            {**LIGHT_INIT, "classifier_features": "layer3", "seed": 0})
    tracker = AtomEbmTracker(recorder, params, "cpu")
    tracker.initialize(frames[0], box)
    recorder.calls.clear()
    tracker.track(frames[1])
    search_area, filter_size = (5.0, 4) if small else (3.0, 6)
    expected = _expected_crop(tracker, frames[1], center, (side, side), search_area)
    torch.testing.assert_close(recorder.calls[0][0], expected)
    assert tracker.classifier.model.filter.shape[-2:] == (filter_size, filter_size)
    assert (tracker.sequence_params is tracker.params) != small


def test_small_target_rule_follows_the_geometric_mean_side():
    params = get_parameters("default")
    assert params.for_sequence((40, 40), (1280, 720)).search_area_scale == 5.0  # 4.2 % of 960 px
    assert params.for_sequence((40, 40), (1280, 720)).filter_size == 4
    assert params.for_sequence((100, 50), (1280, 720)) is params  # 7.4 %
    switched_off = with_overrides(params, {"small_target_fraction": 0.0})
    assert switched_off.for_sequence((4, 4), (1280, 720)) is switched_off
    with pytest.raises(ValueError, match="small_target_fraction"):
        with_overrides(params, {"small_target_fraction": 1.0})

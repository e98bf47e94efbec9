"""AtomIoUNet / ATOMnet: state-dict layout vs the reference key list, data flow vs a hand-wired forward."""
from __future__ import annotations

import copy
import json

import pytest
import torch
import torch.nn.functional as F
from helpers import SHARED

from ltr.models.bbreg import AtomIoUNet, ATOMnet
from ltr.models.bbreg.iou_predictor import IoUPredictor, score_proposals
from ltr.models.registry import build_model, list_models

SPEC = SHARED / "spec" / "atom_state_dict_keys.json"


def midpoint_pool(features: torch.Tensor, boxes: torch.Tensor, out_h: int, out_w: int, samples: int = 48) -> torch.Tensor:
    """Bin means by the midpoint rule on grid_sample's zero-padded bilinear interpolant.

    features [B, C, H, W]; boxes [B, P, 4] (x1, y1, x2, y2) in feature cells -> [B, P, C, out_h, out_w].
    """
    batch, channels, height, width = features.shape
    num = boxes.shape[1]
    fx = (torch.arange(out_w * samples, dtype=features.dtype) + 0.5) / (out_w * samples)
    fy = (torch.arange(out_h * samples, dtype=features.dtype) + 0.5) / (out_h * samples)
    x1, y1, x2, y2 = boxes.unbind(-1)
    xs = x1[..., None] + (x2 - x1)[..., None] * fx  # [B, P, out_w * samples]
    ys = y1[..., None] + (y2 - y1)[..., None] * fy
    grid = torch.stack(
        (
            (2 * xs / (width - 1) - 1)[:, :, None, :].expand(-1, -1, ys.shape[-1], -1),
            (2 * ys / (height - 1) - 1)[:, :, :, None].expand(-1, -1, -1, xs.shape[-1]),
        ),
        dim=-1,
    )
    sampled = torch.stack([F.grid_sample(features[b : b + 1].expand(num, -1, -1, -1), grid[b], align_corners=True) for b in range(batch)])
    return sampled.view(batch, num, channels, out_h, samples, out_w, samples).mean(dim=(4, 6))


def manual_scores(head: AtomIoUNet, ref: list[torch.Tensor], test: list[torch.Tensor], ref_box: torch.Tensor, proposals: torch.Tensor) -> torch.Tensor:
    """The data flow of facts section a, wired by hand with the head's layers and midpoint-rule pooling."""
    xyxy = torch.cat((ref_box[:, :2], ref_box[:, :2] + ref_box[:, 2:]), dim=1)[:, None]
    pooled3 = midpoint_pool(head.conv3_1r(ref[0]), xyxy / 8, 3, 3)[:, 0]
    pooled4 = midpoint_pool(head.conv4_1r(ref[1]), xyxy / 16, 1, 1)[:, 0]
    joint = torch.cat((head.fc3_1r(pooled3), pooled4), dim=1)
    mod3, mod4 = head.fc34_3r(joint), head.fc34_4r(joint)
    test3 = head.conv3_2t(head.conv3_1t(test[0])) * mod3
    test4 = head.conv4_2t(head.conv4_1t(test[1])) * mod4
    boxes = torch.cat((proposals[..., :2], proposals[..., :2] + proposals[..., 2:]), dim=-1)
    batch, num = proposals.shape[:2]
    roi3 = midpoint_pool(test3, boxes / 8, 5, 5).flatten(0, 1)
    roi4 = midpoint_pool(test4, boxes / 16, 3, 3).flatten(0, 1)
    hidden3 = F.relu(head.fc3_rt.bn(head.fc3_rt.linear(roi3.flatten(1))[..., None, None])).flatten(1)
    hidden4 = F.relu(head.fc4_rt.bn(head.fc4_rt.linear(roi4.flatten(1))[..., None, None])).flatten(1)
    return head.iou_predictor(torch.cat((hidden3, hidden4), dim=1)).view(batch, num)


@pytest.fixture(scope="module")
def net() -> ATOMnet:
    torch.manual_seed(0)
    model = build_model("atom_resnet18").double().eval()
    for module in model.modules():  # non-trivial BN statistics
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 1.5)
    return model


@pytest.mark.skipif(not SPEC.is_file(), reason=f"reference key list {SPEC} not present")
def test_state_dict_matches_reference_keys_and_counts() -> None:
    """The reference keys and parameter counts, less the unused layer4 / fc that our backbone does not build."""
    spec = json.loads(SPEC.read_text())
    unused = ("feature_extractor.layer4", "feature_extractor.fc")
    state = build_model("atom_resnet18").state_dict()
    assert {k: list(v.shape) for k, v in state.items()} == {k: v for k, v in spec["keys"].items() if not k.startswith(unused)}
    model = build_model("atom_resnet18")
    counts = spec["header"]["trainable_parameter_counts"]
    for prefix, expected in counts.items():
        if prefix in unused:
            continue
        expected -= sum(counts[name] for name in unused) if prefix == "feature_extractor" else 0
        module = model.get_submodule(prefix)
        assert sum(p.numel() for p in module.parameters()) == expected, prefix
    total = spec["header"]["total_parameters"] - sum(counts[name] for name in unused)
    assert sum(p.numel() for p in model.parameters()) == total


def test_registry_lists_builders() -> None:
    assert {"atom_resnet18", "atom_resnet50"} <= set(list_models())
    with pytest.raises(ValueError, match="atom_resnet18"):
        build_model("nope")


def test_backbone_frozen_and_head_trainable() -> None:
    model = build_model("atom_resnet18")
    assert model.iou_layers == ("layer2", "layer3")
    assert not any(p.requires_grad for p in model.feature_extractor.parameters())
    assert all(p.requires_grad for p in model.bb_regressor.parameters())


def test_initialisation() -> None:
    torch.manual_seed(0)
    head = AtomIoUNet()
    weight = head.fc3_rt.linear.weight
    assert weight.std().item() == pytest.approx((2.0 / 6400) ** 0.5, rel=0.02)  # Kaiming normal, fan_in
    conv = head.conv4_1t[0].weight
    assert conv.std().item() == pytest.approx((2.0 / (256 * 9)) ** 0.5, rel=0.02)
    for module in head.modules():
        if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
            assert torch.count_nonzero(module.bias) == 0
        if isinstance(module, torch.nn.BatchNorm2d):
            assert 0 <= module.weight.min() and module.weight.max() <= 1 and module.weight.std() > 0.1
            assert torch.count_nonzero(module.bias) == 0


def test_forward_matches_hand_wired_flow(net: ATOMnet) -> None:
    generator = torch.Generator().manual_seed(1)
    train = torch.randn(2, 3, 64, 64, generator=generator, dtype=torch.float64)
    test = torch.randn(2, 3, 64, 64, generator=generator, dtype=torch.float64)
    train_boxes = torch.tensor([[14.0, 18.5, 30.2, 24.7], [20.3, 9.1, 22.4, 35.6]], dtype=torch.float64)
    proposals = torch.tensor(
        [[[12.0, 15.0, 33.0, 27.0], [-4.5, 30.1, 20.0, 40.0], [25.2, 25.3, 10.4, 12.5]], [[20.0, 10.0, 22.0, 36.0], [5.0, 5.0, 50.0, 50.0], [40.0, 2.0, 30.0, 20.0]]],
        dtype=torch.float64,
    )
    with torch.no_grad():
        scores = net(train, test, train_boxes, proposals)
        ref_feats = net.extract_backbone_features(train)
        test_feats = net.extract_backbone_features(test)
        expected = manual_scores(net.bb_regressor, list(ref_feats.values()), list(test_feats.values()), train_boxes, proposals)
        swapped = net(test, train, train_boxes, proposals)
    assert scores.shape == (2, 3)
    torch.testing.assert_close(scores, expected, rtol=2e-3, atol=2e-3 * expected.abs().max().item())
    assert not torch.allclose(scores, swapped)  # the train image modulates, the test image is scored


def test_predict_iou_gradient_wrt_proposals(net: ATOMnet) -> None:
    generator = torch.Generator().manual_seed(2)
    feats = net.extract_backbone_features(torch.randn(1, 3, 64, 64, generator=generator, dtype=torch.float64))
    head = net.bb_regressor
    with torch.no_grad():
        modulation = head.get_modulation(list(feats.values()), torch.tensor([[14.3, 18.6, 30.2, 24.7]], dtype=torch.float64))
        iou_feats = head.get_iou_feat(list(feats.values()))
    assert [m.shape for m in modulation] == [(1, 256, 1, 1)] * 2 and (modulation[0] >= 0).all()
    proposals = torch.tensor([[[13.1, 17.3, 31.7, 25.9], [20.9, 22.3, 15.1, 11.7]]], dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p: head.predict_iou(modulation, iou_feats, p), (proposals,), eps=1e-6, atol=1e-5)


def test_bad_inputs_raise(net: ATOMnet) -> None:
    head = net.bb_regressor
    feats = [torch.zeros(1, 128, 8, 8, dtype=torch.float64), torch.zeros(1, 256, 4, 4, dtype=torch.float64)]
    with pytest.raises(ValueError, match="ref_boxes"):
        head.get_modulation(feats, torch.zeros(2, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="non-finite"):
        head.get_modulation(feats, torch.tensor([[1.0, 2.0, float("inf"), 3.0]], dtype=torch.float64))
    with pytest.raises(ValueError, match="ref_feats"):
        head.get_modulation(feats[:1], torch.zeros(1, 4, dtype=torch.float64))
    with torch.no_grad():
        modulation = head.get_modulation(feats, torch.tensor([[8.0, 8.0, 20.0, 20.0]], dtype=torch.float64))
        iou_feats = head.get_iou_feat(feats)
    with pytest.raises(ValueError, match="proposals"):
        head.predict_iou(modulation, iou_feats, torch.zeros(1, 4, dtype=torch.float64))
    with pytest.raises(ValueError, match="non-finite"):
        head.predict_iou(modulation, iou_feats, torch.full((1, 2, 4), float("nan"), dtype=torch.float64))
    with pytest.raises(ValueError, match="iou_feats"):
        head.predict_iou(modulation, [feats[0], feats[0]], torch.zeros(1, 2, 4, dtype=torch.float64))


def test_iou_predictor_matches_hand_wired_flow(net: ATOMnet) -> None:
    """The inference path (BatchNorm folded, modulation applied once, native bin order) vs the hand-wired flow."""
    torch.manual_seed(4)
    head = net.bb_regressor.eval()
    ref = [torch.rand(2, 128, 36, 36, dtype=torch.float64), torch.rand(2, 256, 18, 18, dtype=torch.float64)]
    test = [torch.rand(2, 128, 36, 36, dtype=torch.float64), torch.rand(2, 256, 18, 18, dtype=torch.float64)]
    ref_box = torch.tensor([[100.0, 90.0, 60.0, 80.0], [40.0, 50.0, 120.0, 70.0]], dtype=torch.float64)
    proposals = torch.tensor([[[95.0, 100.0, 70.0, 60.0], [20.0, 30.0, 40.0, 90.0], [-10.0, 250.0, 60.0, 50.0]],
                              [[50.0, 60.0, 100.0, 80.0], [130.0, 140.0, 30.0, 20.0], [0.0, 0.0, 288.0, 288.0]]],
                             dtype=torch.float64)
    with torch.no_grad():
        expected = manual_scores(head, ref, test, ref_box, proposals)  # midpoint-rule pooling: approximate
        predictor = IoUPredictor(head, head.get_modulation(ref, ref_box))
        scores = predictor.score(predictor.prepare(head.get_iou_feat(test)), proposals)
    torch.testing.assert_close(scores, expected, rtol=2e-3, atol=2e-3 * expected.abs().max().item())
    try:
        with pytest.raises(ValueError, match="eval"):
            IoUPredictor(head.train(), [torch.zeros(1, 256, 1, 1)] * 2)
    finally:
        head.eval()


def test_iou_predictor_box_gradient_matches_finite_differences_and_autograd(net: ATOMnet) -> None:
    """The written-out gradient of ``score_proposals`` against finite differences and against autograd through the
    general path (``predict_iou``: pooling modules, BatchNorm, no folding), for boxes inside, across the border and
    beyond the fall-off, with two images."""
    torch.manual_seed(5)
    head = net.bb_regressor.eval()
    ref = [torch.rand(2, 128, 24, 24, dtype=torch.float64), torch.rand(2, 256, 12, 12, dtype=torch.float64)]
    test = [torch.rand(2, 128, 24, 20, dtype=torch.float64), torch.rand(2, 256, 12, 10, dtype=torch.float64)]
    ref_box = torch.tensor([[70.0, 66.0, 52.0, 60.0], [30.0, 40.0, 90.0, 50.0]], dtype=torch.float64)
    proposals = torch.tensor([[[71.3, 64.9, 50.2, 63.7], [-9.1, 20.3, 41.7, 33.9], [150.2, 170.6, 30.1, 40.3]],
                              [[28.7, 43.1, 86.9, 52.3], [120.4, 5.3, 55.1, 180.9], [60.3, 70.1, 4.3, 3.9]]],
                             dtype=torch.float64, requires_grad=True)
    with torch.no_grad():
        modulation = head.get_modulation(ref, ref_box)
        iou_feats = head.get_iou_feat(test)
        frame = IoUPredictor(head, modulation).prepare(iou_feats)
    assert torch.autograd.gradcheck(lambda p: score_proposals(p, frame), (proposals,), eps=1e-6, atol=1e-7)
    (grad,) = torch.autograd.grad(score_proposals(proposals, frame).sum(), proposals)
    (expected,) = torch.autograd.grad(head.predict_iou(modulation, iou_feats, proposals).sum(), proposals)
    torch.testing.assert_close(grad, expected, rtol=1e-9, atol=1e-9 * expected.abs().max().item())
    assert expected.abs().amax(dim=(0, 1)).min() > 0  # every coordinate's gradient was exercised


def test_bfloat16_fully_connected_layers_stay_close_to_float(net: ATOMnet) -> None:
    """``fc_dtype=torch.bfloat16`` (S1 with a reduced-precision backbone): scores and box gradients against the
    float64 path, on random features and boxes inside and across the border."""
    torch.manual_seed(6)
    head = copy.deepcopy(net.bb_regressor).float().eval()
    ref = [torch.rand(1, 128, 24, 24), torch.rand(1, 256, 12, 12)]
    test = [torch.rand(1, 128, 24, 24), torch.rand(1, 256, 12, 12)]
    ref_box = torch.tensor([[70.0, 66.0, 52.0, 60.0]])
    proposals = torch.tensor([[[71.3, 64.9, 50.2, 63.7], [-9.1, 20.3, 41.7, 33.9], [60.2, 50.6, 70.1, 80.3],
                               [80.4, 75.3, 35.1, 40.9]]], requires_grad=True)
    with torch.no_grad():
        modulation = head.get_modulation(ref, ref_box)
        iou_feats = head.get_iou_feat(test)
    results = {}
    for dtype in (None, torch.bfloat16):
        frame = IoUPredictor(head, modulation, fc_dtype=dtype).prepare(iou_feats)
        scores = score_proposals(proposals, frame)
        (grad,) = torch.autograd.grad(scores.sum(), proposals)
        assert scores.dtype == grad.dtype == torch.float32
        results[dtype] = scores.detach(), grad
    (float_scores, float_grad), (bf16_scores, bf16_grad) = results[None], results[torch.bfloat16]
    spread = float_scores.max() - float_scores.min()
    # bfloat16 keeps 8 bits: differences of a few thousandths of the scores' range; a wrong weight layout or a
    # missing cast gives errors of the order of the range
    assert (bf16_scores - float_scores).abs().max() < 0.02 * spread
    cosine = torch.nn.functional.cosine_similarity(bf16_grad.flatten(), float_grad.flatten(), dim=0)
    assert cosine > 0.99, cosine

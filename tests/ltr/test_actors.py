"""Actors: the right network call, the loss against independent formulas, stats keys, BatchNorm modes."""
from __future__ import annotations

import math

import pytest
import torch
from test_trainer_helpers import TinyBoxDataset, TinyBoxNet, reference_ebm_nll

from ltr.actors import AtomEBMActor, AtomIoUActor, AtomKLActor, build_actor, list_actors
from ltr.actors.base import NonFiniteLossError


def ebm_batch(batch_size=3, seed=1):
    dataset = TinyBoxDataset(batch_size, seed=seed)
    samples = [dataset[i] for i in range(batch_size)]
    return {key: torch.stack([s[key] for s in samples]) for key in samples[0]}


class RecordingNet(torch.nn.Module):
    """Scores = a fixed linear function of the proposal coordinates; records its inputs."""

    def __init__(self):
        super().__init__()
        self.feature_extractor = torch.nn.BatchNorm2d(3)
        self.bb_regressor = torch.nn.Linear(4, 1)
        self.calls = []

    def forward(self, train_images, test_images, train_boxes, proposals):
        self.calls.append((train_images, test_images, train_boxes, proposals))
        return (proposals * torch.tensor([0.1, -0.2, 0.05, 0.3])).sum(-1)


def test_ebm_actor_matches_hand_formula():
    torch.manual_seed(0)
    batch = ebm_batch()
    net = RecordingNet()
    loss, stats = build_actor("ebm", net)(batch)
    train_images, test_images, train_boxes, proposals = net.calls[0]
    assert train_images is batch["train_images"] and test_images is batch["test_images"]
    assert proposals.shape == (3, 7, 4) and torch.equal(proposals[:, 0], batch["train_boxes"])
    scores = (batch["test_proposals"].double() * torch.tensor([0.1, -0.2, 0.05, 0.3], dtype=torch.float64)).sum(-1)
    expected = reference_ebm_nll(scores, batch["proposal_density"])
    assert float(loss) == pytest.approx(float(expected), rel=1e-5)
    assert set(stats) == {"Loss/total", "Loss/bb_ce"} and float(stats["Loss/bb_ce"]) == float(loss)


def test_iou_actor_matches_mse_to_2iou_minus_1():
    batch = ebm_batch()
    batch["test_proposals"] = batch["test_proposals"][:, 1:]
    batch["proposal_iou"] = torch.linspace(0.0, 1.0, 18).reshape(3, 6)
    loss, stats = build_actor("iou", RecordingNet())(batch)
    scores = (batch["test_proposals"].double() * torch.tensor([0.1, -0.2, 0.05, 0.3], dtype=torch.float64)).sum(-1)
    total = sum((float(scores[i, j]) - (2 * float(batch["proposal_iou"][i, j]) - 1)) ** 2
                for i in range(3) for j in range(6))
    assert float(loss) == pytest.approx(total / 18, rel=1e-5)
    assert "Loss/iou" in stats


def test_kl_actor_drops_ground_truth_column():
    batch = ebm_batch()
    batch["gt_density"] = torch.rand(3, 7)
    net = RecordingNet()
    loss, stats = build_actor("kl", net)(batch)
    assert torch.equal(net.calls[0][3], batch["test_proposals"][:, 1:])
    scores = (batch["test_proposals"][:, 1:].double() * torch.tensor([0.1, -0.2, 0.05, 0.3], dtype=torch.float64)).sum(-1)
    q, p = batch["proposal_density"][:, 1:].double(), batch["gt_density"][:, 1:].double()
    rows = []
    for i in range(3):
        log_z = math.log(sum(math.exp(float(scores[i, k])) / float(q[i, k]) for k in range(6))) - math.log(6)
        rows.append(log_z - sum(float(scores[i, k] * p[i, k] / q[i, k]) for k in range(6)) / 6)
    assert float(loss) == pytest.approx(sum(rows) / 3, rel=1e-5)
    assert "Loss/bb_kl" in stats


def test_actor_gradient_reaches_only_the_head_when_backbone_is_frozen():
    torch.manual_seed(0)
    net = TinyBoxNet()
    net.feature_extractor.requires_grad_(False)
    actor = build_actor("ebm", net)
    actor.train(True)
    assert net.bb_regressor.training and not net.feature_extractor.training
    loss, _ = actor(ebm_batch(batch_size=4))
    loss.backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.bb_regressor.parameters())
    assert all(p.grad is None for p in net.feature_extractor.parameters())


def test_train_backbone_puts_backbone_batchnorm_in_train_mode():
    net = TinyBoxNet()
    actor = build_actor("ebm", net, train_backbone=True)
    actor.train(True)
    assert net.feature_extractor.training
    actor.train(False)
    assert not net.feature_extractor.training and not net.bb_regressor.training


def test_missing_batch_key_is_a_clear_error():
    batch = ebm_batch()
    del batch["proposal_density"]
    with pytest.raises(ValueError, match="proposal_density"):
        AtomEBMActor(RecordingNet(), lambda s, d: s.sum())(batch)
    with pytest.raises(ValueError, match="proposal_iou"):
        AtomIoUActor(RecordingNet(), lambda s, d: s.sum())(ebm_batch())
    with pytest.raises(ValueError, match="gt_density"):
        batch = ebm_batch()
        del batch["gt_density"]
        AtomKLActor(RecordingNet(), lambda s, p, g: s.sum())(batch)


def test_non_finite_scores_raise():
    class NanNet(RecordingNet):
        def forward(self, *args):
            return super().forward(*args) * float("nan")

    with pytest.raises(NonFiniteLossError, match="non-finite"):
        build_actor("ebm", NanNet())(ebm_batch())


def test_unknown_objective_lists_valid_names():
    assert list_actors() == ["ebm", "iou", "kl"]
    with pytest.raises(ValueError, match="ebm, iou, kl"):
        build_actor("mse", RecordingNet())

"""Trainer: exact resume, non-finite loss, logs, frozen-backbone BatchNorm, gradient clipping, checkpoint format."""
from __future__ import annotations

import csv
import dataclasses
import math

import pytest
import torch
from test_trainer_helpers import TinyBoxNet, reference_ebm_nll, tiny_loader

from ltr.actors.bbreg import AtomEBMActor
from ltr.admin.checkpoint import list_checkpoints
from ltr.trainers.distributed import DistributedContext
from ltr.trainers.rng import capture_rng_state, restore_rng_state
from ltr.trainers.trainer import NonFiniteLossError, Trainer, TrainerConfig, move_batch

CPU = DistributedContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))


def ebm_objective(scores, density):
    """Differentiable EBM NLL written here so these tests do not depend on ltr.models.loss."""
    samples = scores.shape[1] - 1
    return (torch.logsumexp(scores[:, 1:] - density[:, 1:].log(), dim=1) - math.log(samples) - scores[:, 0]).mean()


def make_trainer(tmp_path, epochs, *, seed=0, objective=ebm_objective, train_backbone=False, optimizer="adam",
                 grad_clip_norm=None, lr=1e-2, net_seed=0):
    torch.manual_seed(net_seed)
    net = TinyBoxNet()
    for parameter in net.feature_extractor.parameters():
        parameter.requires_grad_(train_backbone)
    actor = AtomEBMActor(net, objective, train_backbone=train_backbone)
    groups = [{"params": list(net.bb_regressor.parameters()), "name": "iou_net"}]
    if train_backbone:
        groups.append({"params": list(net.feature_extractor.parameters()), "lr": lr / 10, "name": "backbone"})
    if optimizer == "adam":
        opt = torch.optim.Adam(groups, lr=lr)
    else:
        opt = torch.optim.SGD(groups, lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(opt, step_size=1, gamma=0.2)
    config = TrainerConfig(epochs=epochs, checkpoint_dir=tmp_path / "ckpt", log_dir=tmp_path / "logs",
                           show_progress=False, grad_clip_norm=grad_clip_norm,
                           metadata={"settings": "bbreg/test", "net_constructor": {"name": "tiny", "kwargs": {}}})
    return Trainer(actor, tiny_loader(seed=seed), opt, scheduler, config, CPU)


def test_resume_continues_exactly(tmp_path):
    straight = make_trainer(tmp_path / "a", epochs=2)
    straight.train()
    first = make_trainer(tmp_path / "b", epochs=1)
    first.train()
    after_one = {k: v.clone() for k, v in first.actor.net.state_dict().items()}
    torch.manual_seed(123)  # disturb the global RNG: the checkpoint must restore it
    resumed = make_trainer(tmp_path / "b", epochs=2, net_seed=7)  # different init, overwritten by the resume
    assert resumed.resume_latest()
    assert resumed.epoch == 1
    resumed.train()
    for key, value in straight.actor.net.state_dict().items():
        assert torch.equal(value, resumed.actor.net.state_dict()[key]), key
    changed = [k for k, v in after_one.items() if v.is_floating_point() and not torch.equal(v, resumed.actor.net.state_dict()[k])]
    assert changed, "epoch 2 did not change any weight"
    assert len(resumed.history) == 2
    assert resumed.history[1]["train/Loss/bb_ce"] == straight.history[1]["train/Loss/bb_ce"]


def test_resume_without_optimizer_state_differs(tmp_path):
    """Guard: dropping the Adam moments on resume gives different weights (so the resume test can fail)."""
    straight = make_trainer(tmp_path / "a", epochs=2)
    straight.train()
    first = make_trainer(tmp_path / "b", epochs=1)
    first.train()
    fresh = make_trainer(tmp_path / "c", epochs=2)
    fresh.actor.net.load_state_dict(first.actor.net.state_dict())
    fresh.optimizer.param_groups[0]["lr"] *= 0.2  # what StepLR did after epoch 1
    fresh.lr_scheduler.last_epoch = 1
    fresh.epoch = 1
    fresh.train()
    differs = any(not torch.equal(v, fresh.actor.net.state_dict()[k]) for k, v in straight.actor.net.state_dict().items())
    assert differs


def test_checkpoint_is_plain_and_named_per_epoch(tmp_path):
    trainer = make_trainer(tmp_path, epochs=2)
    trainer.train()
    found = list_checkpoints(tmp_path / "ckpt", "ATOMnet")
    assert [epoch for epoch, _ in found] == [1, 2]
    assert [path.name for _, path in found] == ["ATOMnet_ep0001.pth.tar", "ATOMnet_ep0002.pth.tar"]
    state = torch.load(found[-1][1], map_location="cpu", weights_only=True)  # no code execution needed
    assert state["epoch"] == 2 and state["settings"] == "bbreg/test"
    assert state["net_constructor"] == {"name": "tiny", "kwargs": {}}
    assert set(state["net"]) == set(trainer.actor.net.state_dict())
    assert state["lr_scheduler"]["last_epoch"] == 2


def test_csv_log_rows_and_step_lr(tmp_path):
    trainer = make_trainer(tmp_path, epochs=3, lr=1e-3)
    trainer.train()
    with open(tmp_path / "logs" / "training_log.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(row["epoch"]) for row in rows] == [1, 2, 3]
    # StepLR(step 1, gamma 0.2) from 1e-3, hand-computed
    assert [float(row["lr/iou_net"]) for row in rows] == pytest.approx([1e-3, 2e-4, 4e-5])
    for row in rows:
        assert float(row["samples_per_s"]) > 0 and float(row["seconds"]) > 0
        assert math.isfinite(float(row["train/Loss/bb_ce"]))


def test_epoch_loss_is_sample_mean_of_batch_losses(tmp_path):
    """The logged epoch loss equals the mean of per-batch losses recomputed independently after the fact."""
    trainer = make_trainer(tmp_path, epochs=1, lr=0.0)
    trainer.train()
    net = trainer.actor.net
    net.train()
    net.feature_extractor.eval()
    losses = []
    loader = tiny_loader()
    loader.dataset.set_epoch(1)
    with torch.no_grad():
        for batch in loader:
            scores = net(batch["train_images"], batch["test_images"], batch["train_boxes"], batch["test_proposals"])
            losses.append(float(reference_ebm_nll(scores, batch["proposal_density"])))
    assert trainer.history[0]["train/Loss/bb_ce"] == pytest.approx(sum(losses) / len(losses), rel=1e-5)


def test_non_finite_loss_stops_and_keeps_last_good_checkpoint(tmp_path):
    calls = {"n": 0}

    def exploding(scores, density):
        calls["n"] += 1
        loss = ebm_objective(scores, density)
        return loss * float("nan") if calls["n"] > 2 else loss  # 2 batches per epoch: epoch 2 explodes

    trainer = make_trainer(tmp_path, epochs=3, objective=exploding)
    with pytest.raises(NonFiniteLossError, match="epoch 2"):
        trainer.train()
    assert [epoch for epoch, _ in list_checkpoints(tmp_path / "ckpt", "ATOMnet")] == [1]


def test_frozen_backbone_batchnorm_stays_in_eval_mode(tmp_path):
    frozen = make_trainer(tmp_path / "f", epochs=1)
    stats_before = frozen.actor.net.feature_extractor[1].running_mean.clone()
    weights_before = frozen.actor.net.feature_extractor[0].weight.clone()
    frozen.train()
    assert torch.equal(frozen.actor.net.feature_extractor[1].running_mean, stats_before)
    assert torch.equal(frozen.actor.net.feature_extractor[0].weight, weights_before)
    tuned = make_trainer(tmp_path / "t", epochs=1, train_backbone=True)
    tuned.train()
    assert not torch.equal(tuned.actor.net.feature_extractor[1].running_mean, stats_before)
    assert not torch.equal(tuned.actor.net.feature_extractor[0].weight, weights_before)
    assert [row for row in tuned.history][0]["lr/backbone"] == pytest.approx(1e-3)


def test_gradient_clipping_bounds_the_sgd_step(tmp_path):
    trainer = make_trainer(tmp_path, epochs=1, optimizer="sgd", lr=1.0, grad_clip_norm=1e-3)
    trainer.loader = tiny_loader(length=4, batch_size=4)  # one step
    before = torch.cat([p.detach().flatten().clone() for p in trainer.actor.net.bb_regressor.parameters()])
    trainer.train()
    after = torch.cat([p.detach().flatten() for p in trainer.actor.net.bb_regressor.parameters()])
    # SGD with lr 1 moves the parameters by exactly the clipped gradient: norm 1e-3
    assert float((after - before).norm()) == pytest.approx(1e-3, rel=1e-4)


def test_rng_state_round_trip_through_weights_only_load(tmp_path):
    import random

    import numpy as np

    torch.manual_seed(5)
    random.seed(5)
    np.random.seed(5)
    state = capture_rng_state()
    torch.save(state, tmp_path / "rng.pt")
    expected = (torch.rand(3), random.random(), np.random.rand())
    restore_rng_state(torch.load(tmp_path / "rng.pt", weights_only=True))
    assert torch.equal(torch.rand(3), expected[0])
    assert random.random() == expected[1]
    assert np.random.rand() == expected[2]


def test_move_batch_channels_last():
    batch = {"test_images": torch.rand(2, 3, 4, 4), "test_boxes": torch.rand(2, 4), "name": "x"}
    moved = move_batch(batch, torch.device("cpu"), channels_last=True)
    assert moved["test_images"].is_contiguous(memory_format=torch.channels_last)
    assert torch.equal(moved["test_images"], batch["test_images"]) and moved["name"] == "x"


def test_empty_loader_is_rejected(tmp_path):
    trainer = make_trainer(tmp_path, epochs=1)
    with pytest.raises(ValueError, match="no batch"):
        Trainer(trainer.actor, tiny_loader(length=2, batch_size=4), trainer.optimizer, trainer.lr_scheduler,
                trainer.config, CPU)


@pytest.mark.parametrize("cpu_bf16", [False, True])
def test_cpu_bf16_runs_the_forward_pass_in_bfloat16_and_keeps_float32_weights(tmp_path, cpu_bf16):
    """``cpu_bf16`` autocasts the training forward pass to bfloat16 on the CPU (the linear layers' outputs are
    bfloat16) while the weights and their optimiser state stay float32; without it everything is float32."""
    trainer = make_trainer(tmp_path, 1)
    trainer.config = dataclasses.replace(trainer.config, cpu_bf16=cpu_bf16)
    trainer = Trainer(trainer.actor, tiny_loader(), trainer.optimizer, trainer.lr_scheduler, trainer.config, CPU)
    dtypes = []
    hook = trainer.actor.net.bb_regressor[0].register_forward_hook(lambda module, args, out: dtypes.append(out.dtype))
    trainer.train()
    hook.remove()
    assert set(dtypes) == {torch.bfloat16 if cpu_bf16 else torch.float32}
    assert all(p.dtype == torch.float32 for p in trainer.actor.net.parameters())
    assert all(math.isfinite(value) for value in trainer.history[-1].values() if isinstance(value, float))

"""DistributedDataParallel through torchrun on CPU (gloo): 2 processes, the trainer's own code path.

The test launches this file as a torchrun worker script (``python -m torch.distributed.run --nproc_per_node 2
tests/ltr/test_ddp.py OUT``). Checks: both ranks end with identical weights, only rank 0 wrote checkpoints,
and the result equals single-process training on the union of the two ranks' batches (an independent run).
"""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

HERE = Path(__file__).resolve().parent
EPOCHS, SAMPLES, BATCH_PER_RANK, LR = 2, 8, 2, 0.05


def _objective(scores, density):
    return (torch.logsumexp(scores[:, 1:] - density[:, 1:].log(), dim=1) - scores[:, 0]).mean()


def _make(context, checkpoint_dir, batch_size, distributed):
    from test_trainer_helpers import TinyBoxDataset, TinyBoxNet
    from torch.utils.data import DataLoader, DistributedSampler

    from ltr.actors.bbreg import AtomEBMActor
    from ltr.trainers.distributed import wrap_model
    from ltr.trainers.trainer import Trainer, TrainerConfig

    torch.manual_seed(100 + context.rank)  # different init per rank: DDP must broadcast rank 0's weights
    net = TinyBoxNet(head_batch_norm=False)
    net.feature_extractor.requires_grad_(False)
    dataset = TinyBoxDataset(SAMPLES, seed=3)
    sampler = DistributedSampler(dataset, shuffle=False) if distributed else None
    loader = DataLoader(dataset, batch_size=batch_size, sampler=sampler, shuffle=False, drop_last=True)
    actor = AtomEBMActor(wrap_model(net, context), _objective)
    optimizer = torch.optim.SGD(net.bb_regressor.parameters(), lr=LR)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)
    config = TrainerConfig(epochs=EPOCHS, checkpoint_dir=checkpoint_dir, log_dir=checkpoint_dir / "logs",
                           show_progress=False, metadata={"settings": "bbreg/ddp_test"})
    return Trainer(actor, loader, optimizer, scheduler, config, context), net


def _worker(out_dir: Path) -> None:
    from ltr.trainers.distributed import destroy_distributed, init_distributed

    context = init_distributed("cpu")
    assert context.world_size == 2, context
    trainer, net = _make(context, out_dir / "ckpt", BATCH_PER_RANK, distributed=True)
    trainer.train()
    torch.save(net.state_dict(), out_dir / f"rank{context.rank}.pt")
    destroy_distributed()


@pytest.mark.timeout(300)
def test_two_cpu_processes_with_torchrun(tmp_path):
    env = dict(os.environ, OMP_NUM_THREADS="1", PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")]))
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               str(Path(__file__).resolve()), str(tmp_path)]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    rank0 = torch.load(tmp_path / "rank0.pt", weights_only=True)
    rank1 = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for key in rank0:
        assert torch.equal(rank0[key], rank1[key]), key
    checkpoints = sorted(p.name for p in (tmp_path / "ckpt").glob("*.pth.tar"))
    assert checkpoints == ["ATOMnet_ep0001.pth.tar", "ATOMnet_ep0002.pth.tar"]
    saved = torch.load(tmp_path / "ckpt" / "ATOMnet_ep0002.pth.tar", weights_only=True)
    for key in rank0:
        assert torch.equal(saved["net"][key], rank0[key]), key
    assert len((tmp_path / "ckpt" / "logs" / "training_log.csv").read_text().splitlines()) == 1 + EPOCHS

    # independent reference: one process, batch = both ranks' batches, same initial weights (rank 0's seed)
    from ltr.trainers.distributed import DistributedContext

    single = DistributedContext(rank=0, local_rank=0, world_size=1, device=torch.device("cpu"))
    trainer, net = _make(single, tmp_path / "single", 2 * BATCH_PER_RANK, distributed=False)
    initial = {key: value.clone() for key, value in net.state_dict().items()}
    trainer.train()
    for key, value in net.state_dict().items():
        torch.testing.assert_close(rank0[key], value, rtol=1e-5, atol=1e-6, msg=key)
    changed = [key for key, value in net.state_dict().items() if not torch.equal(value, initial[key])]
    assert changed, "training did not change the head"


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    _worker(Path(sys.argv[1]))


@pytest.mark.timeout(300)
def test_run_training_cli_under_torchrun(tmp_path):
    """The real settings path (ATOM ResNet-18, EBM processing, fine-tuned backbone) with 2 gloo processes, one step.

    With ``--train-backbone`` DDP also checks that every trainable parameter gets a gradient (the unused
    layer4/fc must stay frozen)."""
    env = dict(os.environ, OMP_NUM_THREADS="1")
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
               "-m", "ltr.run_training", "bbreg", "atom_ebm_synthetic_only", "--workspace", str(tmp_path),
               "--epochs", "1", "--samples-per-epoch", "4", "--batch-size", "4", "--workers", "0", "--no-progress",
               "--train-backbone"]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=280)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "batch 2 x 2 processes" in result.stderr
    folder = tmp_path / "checkpoints" / "bbreg" / "atom_ebm_synthetic_only"
    assert sorted(p.name for p in folder.iterdir()) == ["ATOMnet_ep0001.pth.tar"]
    saved = torch.load(folder / "ATOMnet_ep0001.pth.tar", weights_only=True)
    from ltr.train_settings.bbreg.atom_ebm_synthetic_only import RECIPE

    assert saved["world_size"] == 2 and saved["history"][0]["lr/backbone"] == pytest.approx(RECIPE.backbone_lr)

"""Tiny stand-ins shared by the trainer / actor tests: a network with ATOMnet's call signature and a
deterministic per-(seed, epoch, index) data set with the training batch layout. No tests here."""
from __future__ import annotations

import math

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


class TinyBoxNet(nn.Module):
    """forward(train_images [B,3,H,W], test_images, train_boxes [B,4], proposals [B,P,4]) -> [B,P]."""

    iou_layers = ("layer2", "layer3")

    def __init__(self, head_batch_norm: bool = True) -> None:
        super().__init__()
        self.feature_extractor = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.BatchNorm2d(4), nn.ReLU())
        norm = nn.BatchNorm1d(16) if head_batch_norm else nn.Identity()
        self.bb_regressor = nn.Sequential(nn.Linear(12, 16), norm, nn.ReLU(), nn.Linear(16, 1))

    def forward(self, train_images, test_images, train_boxes, proposals):
        batch = train_images.shape[0]
        features = self.feature_extractor(torch.cat([train_images, test_images])).mean(dim=(2, 3))
        reference, test = features[:batch], features[batch:]
        count = proposals.shape[1]
        box_features = (proposals - train_boxes[:, None, :]) / 8.0
        inputs = torch.cat([reference[:, None].expand(-1, count, -1), test[:, None].expand(-1, count, -1),
                            box_features], dim=-1)
        return self.bb_regressor(inputs.reshape(batch * count, -1)).reshape(batch, count)


class TinyBoxDataset(Dataset):
    """EBM-layout samples whose content depends only on (seed, epoch, index)."""

    def __init__(self, length: int, seed: int = 0, proposals: int = 6, size: int = 16):
        self.length, self.seed, self.proposals, self.size = length, seed, proposals, size
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch * 10_007 + index)
        gt = torch.tensor([4.0, 4.0, 6.0, 6.0]) + torch.rand(4, generator=generator)
        noise = torch.randn(self.proposals, 4, generator=generator)
        boxes = gt + noise
        density = torch.exp(-0.5 * (noise**2).sum(dim=1)) / (2 * math.pi) ** 2
        return {
            "train_images": torch.rand(3, self.size, self.size, generator=generator),
            "test_images": torch.rand(3, self.size, self.size, generator=generator),
            "train_boxes": gt.clone(),
            "test_boxes": gt.clone(),
            "test_proposals": torch.cat([gt[None], boxes]),
            "proposal_density": torch.cat([torch.tensor([-1.0]), density]),
            "gt_density": torch.cat([torch.tensor([1.0]), torch.zeros(self.proposals)]),
        }


def tiny_loader(length: int = 8, batch_size: int = 4, seed: int = 0) -> DataLoader:
    return DataLoader(TinyBoxDataset(length, seed), batch_size=batch_size, shuffle=False, drop_last=True)


def reference_ebm_nll(scores: torch.Tensor, density: torch.Tensor) -> torch.Tensor:
    """Independent double-precision EBM NLL: mean_b[ logsumexp_k(s_k - log q_k) - log M - s_0 ]."""
    scores, density = scores.double(), density.double()
    samples = scores.shape[1] - 1
    per_row = []
    for row in range(scores.shape[0]):
        terms = [math.exp(float(scores[row, k]) - math.log(float(density[row, k]))) for k in range(1, samples + 1)]
        per_row.append(math.log(sum(terms)) - math.log(samples) - float(scores[row, 0]))
    return torch.tensor(sum(per_row) / len(per_row), dtype=torch.float64)

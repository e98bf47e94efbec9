"""Shared builder of the IoU-Net training runs: a ``BBRegRecipe`` (the paper's numbers) + ``TrainingOptions``.

Each settings module in ``ltr/train_settings/bbreg/`` defines a recipe and calls ``run_bbreg`` from its
``run(settings)``. Decisions documented here:

* Only the IoU-Net (``bb_regressor``) is trained by default; the frozen backbone runs in eval mode, so its
  BatchNorm layers use (and keep) their stored statistics. The reference runs them in train mode and saves
  drifted statistics; we do not. With ``--train-backbone`` the backbone stages that feed the IoU-Net
  (conv1 .. layer3 for ResNet-18) are fine-tuned with their own learning rate and their BatchNorm trains;
  the unused layer4/fc stay frozen.
* With ``feature_cache_pairs`` set (``--cache-pairs`` overrides it; 0 turns the cache off), the frozen backbone
  runs once over that many processed pairs and their layer2/layer3 features are cached on disk
  (``ltr.data.feature_cache``); training then reads the cache and draws fresh proposals each epoch. An epoch is
  ``samples_per_epoch`` (or ``--samples-per-epoch``) samples, and consecutive epochs walk on through the cache, so a
  cache larger than an epoch is validated more often.
* An ImageNet backbone comes from ``--backbone-weights FILE``, else ``$ATOM_EBM_BACKBONE_WEIGHTS``, else
  torchvision's download (``ltr.admin.paths.backbone_weights_file``).
* ``--batch-size`` and ``--samples-per-epoch`` count all processes together, so an epoch is the same data
  whatever the number of GPUs; each of N processes gets batch_size / N samples per step.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import nn

from ltr.actors import build_actor
from ltr.admin.checkpoint import list_checkpoints
from ltr.admin.loading import load_network, load_state_dict_into
from ltr.admin.paths import backbone_weights_file, checkpoint_dir, log_dir
from ltr.data.feature_cache import CachedPairDataset, build_feature_cache
from ltr.data.loader import build_loader
from ltr.data.processing import ATOMProcessing
from ltr.data.proposals import PAPER_SIGMAS
from ltr.data.sampler import ATOMSampler
from ltr.dataset.base import TrainingDataset
from ltr.models.backbone.resnet import state_dict_sha256
from ltr.models.input_spec import REFERENCE_INPUT_SPEC, InputSpec
from ltr.models.registry import build_model
from ltr.train_settings.options import TrainingOptions
from ltr.trainers.distributed import (
    DistributedContext,
    destroy_distributed,
    init_distributed,
    wrap_model,
)
from ltr.trainers.rng import seed_everything, set_deterministic
from ltr.trainers.trainer import Trainer, TrainerConfig
from ltr.utils.cpu import available_cores, has_bfloat16_units

logger = logging.getLogger(__name__)

#: (dataset, sampling weight) pairs built from the run options
DatasetList = list[tuple[TrainingDataset, float]]


@dataclass(frozen=True)
class BBRegRecipe:
    """Hyper-parameters of one IoU-Net training recipe (defaults: facts section c, ``atom_prob_ml``).

    Attributes:
        objective: ``"ebm"`` (EBM NLL), ``"iou"`` (IoU-MSE) or ``"kl"``.
        train_datasets: builds the training sets and their sampling weights from the options.
        val_datasets: builds the validation sets, or None for no validation.
        net_name: model-registry name of the network.
        backbone_pretrained: load ImageNet weights into the backbone (needs torchvision's download).
        output_sz: crop side in px (288 = 18 * 16; the tracker samples 288 px crops too).
        num_proposals: proposals per test frame (M).
        proposal_sigmas: GMM components (sigma centre, sigma log-size) of the proposal distribution.
        gt_sigma: (sigma centre, sigma log-size) of the label density (KL objective only).
        max_gap: largest frame distance between the train and the test frame.
        batch_size: sequences per step, all processes together.
        epochs: number of epochs.
        samples_per_epoch: training samples per epoch, all processes together.
        val_samples: validation samples per validation pass (at most 1/8 of ``samples_per_epoch``, at least
            one batch); they are the same held-out samples at every pass.
        val_interval: validate every this many epochs.
        workers: data-loading workers per process.
        lr: Adam learning rate of the IoU-Net.
        backbone_lr: Adam learning rate of the backbone with ``--train-backbone``.
        lr_step: StepLR step in epochs.
        lr_gamma: StepLR factor.
        flip_prob: probability that a pair's two crops are mirrored horizontally.
        feature_cache_pairs: cache the backbone features of this many training pairs (None: no cache, every
            sample runs the backbone); needs a frozen backbone.
        val_feature_cache_pairs: validation pairs to cache when ``feature_cache_pairs`` is set.
        channels_last_cuda: channels-last memory format on CUDA unless the options say otherwise
            (it is off on CPU by default).
    """

    objective: str
    train_datasets: Callable[[TrainingOptions], DatasetList]
    val_datasets: Callable[[TrainingOptions], DatasetList] | None = None
    net_name: str = "atom_resnet18"
    backbone_pretrained: bool = True
    output_sz: int = 288
    num_proposals: int = 128
    proposal_sigmas: tuple[tuple[float, float], ...] = PAPER_SIGMAS
    gt_sigma: tuple[float, float] = (0.05, 0.05)
    max_gap: int = 200
    batch_size: int = 64
    epochs: int = 50
    samples_per_epoch: int = 1000 * 64
    val_samples: int = 500 * 64
    val_interval: int = 5
    workers: int = 8
    lr: float = 1e-3
    backbone_lr: float = 1e-4
    lr_step: int = 15
    lr_gamma: float = 0.2
    flip_prob: float = 0.0
    feature_cache_pairs: int | None = None
    val_feature_cache_pairs: int = 256
    channels_last_cuda: bool = True

    def to_json(self) -> dict[str, Any]:
        """The numeric/string fields as JSON-able values (the data-set builders by name)."""
        values: dict[str, Any] = {}
        for name, value in vars(self).items():
            if callable(value):
                value = f"{value.__module__}.{value.__qualname__}"
            elif isinstance(value, tuple):
                value = [list(item) if isinstance(item, tuple) else item for item in value]
            values[name] = value
        return values


def backbone_stages(net: nn.Module) -> list[str]:
    """Top-level backbone modules that feed the IoU-Net: stem and ``layer1`` .. deepest of ``net.iou_layers``."""
    deepest = max(int(name.removeprefix("layer")) for name in net.iou_layers)
    return ["conv1", "bn1", *(f"layer{index}" for index in range(1, deepest + 1))]


def configure_trainable(net: nn.Module, train_backbone: bool) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """Set ``requires_grad`` and return (IoU-Net parameters, trained backbone parameters).

    The backbone is frozen unless ``train_backbone``; then only the stages that feed the IoU-Net train
    (the unused layer4/fc would get no gradient, which DistributedDataParallel rejects).
    """
    net.feature_extractor.requires_grad_(False)
    backbone: list[nn.Parameter] = []
    if train_backbone:
        stages = set(backbone_stages(net))
        for name, parameter in net.feature_extractor.named_parameters():
            if name.split(".")[0] in stages:
                parameter.requires_grad_(True)
                backbone.append(parameter)
    head = list(net.bb_regressor.parameters())
    for parameter in head:
        parameter.requires_grad_(True)
    return head, backbone


def input_spec(recipe: BBRegRecipe) -> InputSpec:
    """The crops the recipe trains on (the reference contract at the recipe's crop side); stored with the net."""
    return replace(REFERENCE_INPUT_SPEC, crop_size=recipe.output_sz)


def build_processing(recipe: BBRegRecipe) -> ATOMProcessing:
    """The crop/jitter/proposal processing of the recipe's objective (facts section c)."""
    spec = input_spec(recipe)
    return ATOMProcessing(
        output_sz=spec.crop_size,
        search_area_factor=spec.search_area_factor,
        center_jitter_factor={"train": 0.0, "test": 4.5},
        scale_jitter_factor={"train": 0.0, "test": 0.5},
        mode=recipe.objective,
        proposal_sigmas=recipe.proposal_sigmas,
        num_proposals=recipe.num_proposals,
        gt_sigma=recipe.gt_sigma if recipe.objective == "kl" else (0.0, 0.0),
        flip_prob=recipe.flip_prob,
    )


def _threads(options: TrainingOptions) -> int:
    if options.threads is not None:
        return options.threads
    local_processes = int(os.environ.get("LOCAL_WORLD_SIZE", "1") or 1)
    return max(1, available_cores() // local_processes)


def _per_process(total: int, what: str, context: DistributedContext) -> int:
    if total % context.world_size:
        raise ValueError(f"{what} {total} is not divisible by the number of processes ({context.world_size})")
    return total // context.world_size


def run_bbreg(options: TrainingOptions, recipe: BBRegRecipe) -> list[dict[str, Any]]:
    """Train the IoU-Net as ``recipe`` says, with the run ``options``; returns the per-epoch log rows.

    Raises:
        ValueError / FileNotFoundError: bad options, missing data, or checkpoints present without ``resume``.
        NonFiniteLossError: the loss became NaN/inf (the last good checkpoint is kept).
    """
    set_deterministic(options.deterministic)
    context = init_distributed(options.device)
    try:
        return _run(options, recipe, context)
    finally:
        destroy_distributed()


def _run(options: TrainingOptions, recipe: BBRegRecipe, context: DistributedContext) -> list[dict[str, Any]]:
    torch.set_num_threads(_threads(options))
    seed_everything(options.seed + context.rank)
    epochs = options.epochs or recipe.epochs
    batch_size = _per_process(options.batch_size or recipe.batch_size, "batch size", context)
    samples_per_epoch = options.samples_per_epoch or recipe.samples_per_epoch
    workers = recipe.workers if options.workers is None else options.workers
    channels_last = recipe.channels_last_cuda and context.device.type == "cuda"
    if options.channels_last is not None:
        channels_last = options.channels_last
    checkpoints = checkpoint_dir(options.workspace, options.module, options.name)
    if list_checkpoints(checkpoints, "ATOMnet") and not options.resume:
        raise ValueError(f"checkpoints already exist in {checkpoints}; pass --resume to continue or use another --workspace")

    cache_pairs = recipe.feature_cache_pairs if options.cache_pairs is None else options.cache_pairs or None
    if cache_pairs and options.train_backbone:
        raise ValueError(f"{options.settings_name} caches frozen-backbone features; it cannot --train-backbone "
                         "(add --cache-pairs 0)")
    constructor = {"name": recipe.net_name, "kwargs": {"backbone_pretrained": False}}
    processing = build_processing(recipe)
    cached = cache_pairs is not None
    train_sampler = build_sampler(recipe, recipe.train_datasets(options), processing,
                                  cache_pairs if cached else samples_per_epoch, options.seed)
    check_usable(train_sampler)
    val_sampler = None
    if recipe.val_datasets is not None:
        val_sampler = build_sampler(recipe, recipe.val_datasets(options), processing,
                                    recipe.val_feature_cache_pairs if cached else samples_per_epoch,
                                    options.seed + 1_000_003)
        check_usable(val_sampler)
    net = build_network(recipe, options)  # after the data checks: it may download ImageNet weights
    train_set, val_set = train_sampler, val_sampler
    if cached:
        train_set, val_set = cached_datasets(recipe, options, net, train_sampler, val_sampler, context, workers,
                                             cache_pairs)
        samples_per_epoch = len(train_set)
    loader = build_loader(train_set, batch_size=batch_size, workers=workers, seed=options.seed,
                          distributed=context.distributed)
    val_loader = None
    if val_set is not None:
        global_batch = batch_size * context.world_size
        val_limit = len(val_set.cache) if cached else min(recipe.val_samples, samples_per_epoch // 8)
        val_batches = max(1, val_limit // global_batch)
        val_set.samples_per_epoch = val_batches * global_batch
        val_loader = build_loader(val_set, batch_size=batch_size, workers=workers, seed=options.seed + 1,
                                  distributed=context.distributed)

    head_parameters, backbone_parameters = configure_trainable(net, options.train_backbone)
    net = net.to(context.device, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    actor = build_actor(recipe.objective, wrap_model(net, context), train_backbone=options.train_backbone)

    groups: list[dict[str, Any]] = [{"params": head_parameters, "name": "iou_net"}]
    if backbone_parameters:
        groups.append({"params": backbone_parameters, "lr": recipe.backbone_lr, "name": "backbone"})
    optimizer = torch.optim.Adam(groups, lr=recipe.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=recipe.lr_step, gamma=recipe.lr_gamma)

    cpu_bf16 = has_bfloat16_units() if options.cpu_bf16 is None else options.cpu_bf16
    config = TrainerConfig(
        epochs=epochs, checkpoint_dir=checkpoints, log_dir=log_dir(options.workspace, options.module, options.name),
        amp=options.amp, cpu_bf16=cpu_bf16, grad_clip_norm=options.grad_clip_norm, channels_last=channels_last,
        val_interval=recipe.val_interval, keep_checkpoints=options.keep_checkpoints, show_progress=options.progress,
        metadata={"settings": options.settings_name, "options": options.to_json(), "recipe": recipe.to_json(),
                  "net_constructor": constructor, "objective": recipe.objective, "world_size": context.world_size},
    )
    trainer = Trainer(actor, loader, optimizer, scheduler, config, context, val_loader=val_loader)
    if options.resume and not trainer.resume_latest():
        logger.warning("--resume: no checkpoint in %s yet; starting at epoch 1", checkpoints)
    logger.info("training %s: objective %s, epochs %d, %d samples/epoch, batch %d x %d processes, device %s%s, "
                "backbone %s", options.settings_name, recipe.objective, epochs, samples_per_epoch, batch_size,
                context.world_size, context.device, " (bfloat16 autocast)" if trainer.amp_enabled and
                context.device.type == "cpu" else "", "trained" if options.train_backbone else "frozen (eval-mode BN)")
    return trainer.train()


def build_sampler(recipe: BBRegRecipe, datasets: DatasetList, processing: ATOMProcessing, samples: int,
                  seed: int) -> ATOMSampler:
    """The recipe's frame-pair sampler over ``datasets`` ((data set, weight) pairs), ``samples`` items per epoch."""
    return ATOMSampler(*_unzip(datasets), samples_per_epoch=samples, max_gap=recipe.max_gap, processing=processing,
                       seed=seed)


def backbone_weights(recipe: BBRegRecipe, options: TrainingOptions) -> str | None:
    """The local ImageNet weights file to load (``ltr.admin.paths.backbone_weights_file``), or None: torchvision's
    download, a randomly initialised backbone, or a start from a checkpoint."""
    if not recipe.backbone_pretrained or options.init_checkpoint is not None:
        return None
    weights = backbone_weights_file(options.backbone_weights)
    return None if weights is None else str(weights)


def build_network(recipe: BBRegRecipe, options: TrainingOptions) -> nn.Module:
    """The recipe's network with its backbone: ImageNet (file or download), random, or ``--init-checkpoint``."""
    weights = backbone_weights(recipe, options)
    download = recipe.backbone_pretrained and weights is None and options.init_checkpoint is None
    net = build_model(recipe.net_name, backbone_pretrained=download, backbone_weights=weights)
    if options.init_checkpoint:
        load_state_dict_into(net, load_network(options.init_checkpoint).state_dict(), source=options.init_checkpoint)
    net.input_spec = input_spec(recipe)
    return net


def cached_datasets(recipe: BBRegRecipe, options: TrainingOptions, net: nn.Module, train_sampler: ATOMSampler,
                    val_sampler: ATOMSampler | None, context: DistributedContext, workers: int,
                    cache_pairs: int) -> tuple[CachedPairDataset, CachedPairDataset | None]:
    """Build (rank 0; the others wait) or open the feature caches of ``cache_pairs`` training pairs, and wrap them
    as training / validation sets."""
    root = Path(options.feature_cache) if options.feature_cache else Path(options.workspace) / "feature_cache"
    backbone = net.feature_extractor.to(context.device).eval()
    digest = state_dict_sha256(backbone)
    jobs = [("train", train_sampler, cache_pairs)]
    if val_sampler is not None:
        jobs.append(("val", val_sampler, recipe.val_feature_cache_pairs))
    caches = {}
    for turn in (0, 1):  # rank 0 builds, then every other rank opens the finished caches
        if (context.rank == 0) == (turn == 0):
            for split, sampler, pairs in jobs:
                caches[split] = build_feature_cache(root, split, sampler, backbone, digest, pairs,
                                                    layers=tuple(net.iou_layers), workers=workers,
                                                    progress=options.progress and context.rank == 0)
        if context.distributed:
            torch.distributed.barrier()
    processing = train_sampler.processing
    train = CachedPairDataset(caches["train"], processing,
                              samples_per_epoch=options.samples_per_epoch or recipe.samples_per_epoch, seed=options.seed)
    val = None
    if "val" in caches:
        val = CachedPairDataset(caches["val"], processing, seed=options.seed + 1_000_003, advance=False)
    return train, val


def check_usable(sampler: ATOMSampler) -> None:
    """Raise ``ValueError`` naming any data set of ``sampler`` without a single usable sequence.

    Run before training so that such a data set fails here with a clear message instead of inside a loader
    worker. Stops at the first usable sequence of each data set (usually the first one).
    """
    for dataset in sampler.datasets:
        for index in range(len(dataset)):
            info = dataset.sequence_info(index)
            if not dataset.is_video:
                usable = bool(info.valid[0])
            else:
                usable = len(info) >= sampler.min_sequence_length and int(info.valid.sum()) >= sampler.min_valid_frames
            if usable:
                break
        else:
            raise ValueError(f"data set '{dataset.name}' has no usable sequence (video sequences need >= "
                             f"{sampler.min_sequence_length} frames with >= {sampler.min_valid_frames} valid boxes)")


def _unzip(pairs: Sequence[tuple[TrainingDataset, float]]) -> tuple[list[TrainingDataset], list[float]]:
    if not pairs:
        raise ValueError("the settings define no training data set")
    return [dataset for dataset, _ in pairs], [float(weight) for _, weight in pairs]

"""run_training CLI and the bbreg settings: errors, paths, checkpoints, exact resume, and that the EBM loss falls."""
from __future__ import annotations

import copy
import csv
from dataclasses import replace
from pathlib import Path

import pytest
import torch
from helpers import SHARED

from ltr.admin.paths import checkpoint_dir, resolve_dataset_root, resolve_workspace
from ltr.run_training import list_settings, main
from ltr.train_settings.options import TrainingOptions

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
LOCAL_DATA = SHARED / "data"
needs_local_data = pytest.mark.skipif(not LOCAL_DATA.is_dir(), reason=f"local sequences not found at {LOCAL_DATA}")


@pytest.fixture(autouse=True)
def _restore_torch_state():
    threads = torch.get_num_threads()
    yield
    torch.use_deterministic_algorithms(False)
    torch.set_num_threads(threads)


def test_settings_are_found_by_path():
    assert {"atom_ebm", "atom_iou", "atom_ebm_synthetic", "atom_iou_synthetic", "atom_ebm_synthetic_only"} <= set(
        list_settings("bbreg"))


@needs_local_data
def test_synthetic_only_ablation_drops_just_the_real_sequences():
    from ltr.train_settings.bbreg import atom_ebm_synthetic, atom_ebm_synthetic_only

    options = TrainingOptions(module="bbreg", name="atom_ebm_synthetic_only", workspace=Path("unused"),
                              dataset_roots={"local": str(LOCAL_DATA)})
    with_real = [dataset.name for dataset, _ in atom_ebm_synthetic.RECIPE.train_datasets(options)]
    only = [(dataset.name, weight) for dataset, weight in atom_ebm_synthetic_only.RECIPE.train_datasets(options)]
    assert with_real == ["synthetic", "local"] and only == [("synthetic", 1.0)]
    assert replace(atom_ebm_synthetic_only.RECIPE, train_datasets=atom_ebm_synthetic.RECIPE.train_datasets) == atom_ebm_synthetic.RECIPE


def test_unknown_settings_is_one_line_error_listing_valid_names(capsys):
    assert main(["bbreg", "atom_nope"]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and "atom_nope" in lines[0] and "atom_ebm_synthetic" in lines[0], lines


def test_unknown_package_lists_valid_ones(capsys):
    assert main(["dimp", "dimp50"]) == 2
    assert "valid: bbreg" in capsys.readouterr().err


def test_help_names_every_settings_module_and_shows_the_checkpoint_pattern(capsys):
    assert main(["--help"], prog="atom-ebm train") == 0
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps lines
    on_disk = sorted(path.stem for path in (REPO / "ltr" / "train_settings" / "bbreg").glob("[!_]*.py"))
    assert len(on_disk) >= 5
    assert text.startswith("usage: atom-ebm train") and "--debug" in text
    assert all(name in text.split("settings name:")[1] for name in on_disk), (on_disk, text)
    assert "ATOMnet_ep%04d.pth.tar" in text and "%%" not in text


def test_missing_dataset_root_names_flag_and_env_var(tmp_path, monkeypatch, capsys):
    for var in ("LASOT_ROOT", "GOT10K_ROOT", "TRACKINGNET_ROOT"):
        monkeypatch.delenv(var, raising=False)
    assert main(["bbreg", "atom_ebm", "--workspace", str(tmp_path), "--device", "cpu"]) == 2
    error = capsys.readouterr().err.strip()
    assert error.count("\n") == 0 and "--lasot-root" in error and "LASOT_ROOT" in error


def test_empty_and_missing_roots_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="is empty"):
        resolve_dataset_root("got10k", tmp_path)
    monkeypatch.setenv("GOT10K_ROOT", str(tmp_path / "absent"))
    with pytest.raises(FileNotFoundError, match=r"\$GOT10K_ROOT does not exist"):
        resolve_dataset_root("got10k")
    with pytest.raises(ValueError, match="valid names"):
        resolve_dataset_root("imagenet")


def test_workspace_precedence(tmp_path, monkeypatch):
    monkeypatch.delenv("LTR_WORKSPACE", raising=False)
    assert resolve_workspace(None) == Path("workspace")
    monkeypatch.setenv("LTR_WORKSPACE", str(tmp_path / "env"))
    assert resolve_workspace(None) == tmp_path / "env"
    assert resolve_workspace(tmp_path / "flag") == tmp_path / "flag"
    assert checkpoint_dir(tmp_path, "bbreg", "atom_ebm") == tmp_path / "checkpoints" / "bbreg" / "atom_ebm"


def test_options_reject_bad_values():
    with pytest.raises(ValueError, match="batch_size"):
        TrainingOptions(module="bbreg", name="x", workspace=Path("w"), batch_size=0)
    with pytest.raises(ValueError, match="workers"):
        TrainingOptions(module="bbreg", name="x", workspace=Path("w"), workers=-1)


def _small_synthetic(seed: int):
    from ltr.dataset.synthetic import SyntheticDataset, SyntheticParams

    params = SyntheticParams(num_sequences=64, sequence_length=40, short_side=(96, 128), max_long_side=160)
    return SyntheticDataset(params, seed=seed, name=f"small_synthetic_{seed}")


def _small_recipe():
    """atom_ebm_synthetic with small procedural frames, 96 px crops and 16 proposals (fits the test budget)."""
    from ltr.train_settings.bbreg import atom_ebm_synthetic

    return replace(atom_ebm_synthetic.RECIPE, train_datasets=lambda options: [(_small_synthetic(0), 1.0)],
                   val_datasets=lambda options: [(_small_synthetic(99), 1.0)], output_sz=96, num_proposals=16)


def _save_initial(path: Path, seed: int) -> dict:
    from ltr.admin.checkpoint import save_checkpoint
    from ltr.models.registry import build_model

    torch.manual_seed(seed)
    initial = build_model("atom_resnet18")
    save_checkpoint(path, {"net": initial.state_dict(), "epoch": 0,
                           "net_constructor": {"name": "atom_resnet18", "kwargs": {}}})
    return initial


@pytest.mark.parametrize("flag, expected", [([], None), (["--cpu-bf16"], True), (["--no-cpu-bf16"], False)])
def test_cpu_bf16_defaults_to_the_hardware_and_obeys_the_flags(flag, expected, monkeypatch, tmp_path):
    """No flag: bfloat16 where the CPU has bfloat16 units (decided when the trainer is configured); the flags force it."""
    from ltr.run_training import build_parser, options_from_args
    from ltr.train_settings import bbreg_recipe

    options = options_from_args(build_parser().parse_args(["bbreg", "atom_ebm_synthetic", *flag]))
    assert options.cpu_bf16 is expected
    seen = []
    monkeypatch.setattr(bbreg_recipe, "Trainer", lambda *args, **kwargs: seen.append(args[4].cpu_bf16) or _Stop())
    for units in (False, True):
        monkeypatch.setattr(bbreg_recipe, "has_bfloat16_units", lambda units=units: units)
        with pytest.raises(_Stopped):
            bbreg_recipe.run_bbreg(replace(options, device="cpu", samples_per_epoch=2, batch_size=2, workers=0,
                                           progress=False, workspace=tmp_path / str(units)), _small_recipe())
    assert seen == ([False, True] if expected is None else [expected, expected])


class _Stopped(Exception):
    pass


class _Stop:
    """A stand-in trainer: the test only needs its configuration."""

    amp_enabled = False

    def resume_latest(self):
        raise _Stopped

    def train(self):
        raise _Stopped


def test_resume_is_exact_and_checkpoints_load(tmp_path):
    """2 epochs straight == 1 epoch + --resume 1 epoch (deterministic mode), through run_bbreg."""
    from ltr.admin.loading import load_network
    from ltr.train_settings.bbreg_recipe import run_bbreg

    initial = _save_initial(tmp_path / "init.pth.tar", seed=11).state_dict()
    recipe = _small_recipe()

    def run(workspace: Path, epochs: int, resume: bool = False):
        options = TrainingOptions(module="bbreg", name="atom_ebm_synthetic", workspace=workspace, epochs=epochs,
                                  samples_per_epoch=4, batch_size=2, workers=0, device="cpu", seed=3,
                                  deterministic=True, progress=False, resume=resume,
                                  init_checkpoint=str(tmp_path / "init.pth.tar"))
        return run_bbreg(options, recipe)

    run(tmp_path / "straight", 2)
    run(tmp_path / "split", 1)
    with pytest.raises(ValueError, match="--resume"):  # existing checkpoints without --resume
        run(tmp_path / "split", 1)
    run(tmp_path / "split", 2, resume=True)

    folder = "checkpoints/bbreg/atom_ebm_synthetic"
    straight = torch.load(tmp_path / "straight" / folder / "ATOMnet_ep0002.pth.tar", weights_only=True)
    split = torch.load(tmp_path / "split" / folder / "ATOMnet_ep0002.pth.tar", weights_only=True)
    first = torch.load(tmp_path / "split" / folder / "ATOMnet_ep0001.pth.tar", weights_only=True)
    for key, value in straight["net"].items():
        assert torch.equal(value, split["net"][key]), key
    assert any(not torch.equal(v, first["net"][k]) for k, v in split["net"].items() if k.startswith("bb_regressor"))
    assert any(not torch.equal(v, initial[k]) for k, v in first["net"].items() if k.startswith("bb_regressor"))
    # started from --init-checkpoint, and the frozen backbone (eval-mode BatchNorm) is untouched by training
    assert all(torch.equal(v, initial[k]) for k, v in split["net"].items() if k.startswith("feature_extractor"))
    assert split["settings"] == "bbreg/atom_ebm_synthetic" and split["epoch"] == 2
    assert split["options"]["batch_size"] == 2 and split["net_constructor"]["name"] == "atom_resnet18"

    net = load_network(tmp_path / "split" / folder)  # folder -> newest checkpoint, as the tracker's --checkpoint
    assert all(torch.equal(v, split["net"][k]) for k, v in net.state_dict().items())
    with open(tmp_path / "split" / "logs" / "bbreg" / "atom_ebm_synthetic" / "training_log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [row["epoch"] for row in rows] == ["1", "2"]
    assert float(rows[1]["train/Loss/bb_ce"]) == pytest.approx(straight["history"][1]["train/Loss/bb_ce"], rel=1e-5)
    assert rows[0]["val/Loss/bb_ce"] != ""


@pytest.mark.timeout(400)
def test_ebm_loss_on_held_out_batch_falls(tmp_path):
    """The real network, processing and trainer, at 96 px crops with 16 proposals to fit the test budget."""
    from ltr.actors import build_actor
    from ltr.admin.loading import load_network
    from ltr.data.loader import build_loader
    from ltr.data.sampler import ATOMSampler
    from ltr.train_settings.bbreg_recipe import build_processing, run_bbreg

    recipe = replace(_small_recipe(), val_datasets=None)
    held_out = ATOMSampler([_small_synthetic(99)], [1.0], samples_per_epoch=16, max_gap=recipe.max_gap,
                           processing=build_processing(recipe), seed=12345)
    batch = next(iter(build_loader(held_out, batch_size=16, workers=0, seed=0)))
    initial = _save_initial(tmp_path / "init.pth.tar", seed=0)

    def held_out_loss(net):
        actor = build_actor("ebm", copy.deepcopy(net))
        actor.train(True)  # batch statistics in the head, so the comparison does not depend on running averages
        with torch.no_grad():
            return float(actor(batch)[0])

    options = TrainingOptions(module="bbreg", name="atom_ebm_synthetic", workspace=tmp_path / "ws", epochs=1,
                              samples_per_epoch=64, batch_size=4, workers=0, device="cpu", progress=False,
                              init_checkpoint=str(tmp_path / "init.pth.tar"))
    history = run_bbreg(options, recipe)
    trained = load_network(tmp_path / "ws" / "checkpoints" / "bbreg" / "atom_ebm_synthetic")
    before, after = held_out_loss(initial), held_out_loss(trained)
    assert history[0]["train/Loss/bb_ce"] < before
    assert after < before - 0.2, (before, after)  # measured here: 4.01 -> 3.64


def test_data_set_without_usable_sequence_is_named():
    import numpy as np

    from ltr.data.sampler import ATOMSampler
    from ltr.dataset.base import SequenceInfo, TrainingDataset
    from ltr.train_settings.bbreg_recipe import check_usable

    class ShortClips(TrainingDataset):
        name, is_video = "short_clips", True

        def __len__(self):
            return 3

        def sequence_info(self, index):  # 10 frames: below the 20-frame minimum
            return SequenceInfo(f"clip{index}", np.ones((10, 4), np.float32), np.ones(10, bool))

        def frames(self, index, frame_ids):
            raise AssertionError("must not be read")

    sampler = ATOMSampler([ShortClips()], [1.0], samples_per_epoch=4, max_gap=5, processing=lambda *a: {}, seed=0)
    with pytest.raises(ValueError, match="'short_clips' has no usable sequence"):
        check_usable(sampler)


def test_local_training_sequences_exclude_held_out(tmp_path, monkeypatch):
    from ltr.train_settings import datasets

    names = {name for _, _, name in datasets.LOCAL_TRAINING_SEQUENCES}
    assert names == {"Crossing", "wakeboard7"} and not names & datasets.HELD_OUT_SEQUENCES
    monkeypatch.delenv("ATOM_EBM_LOCAL_DATA", raising=False)
    options = TrainingOptions(module="bbreg", name="x", workspace=tmp_path, dataset_roots={"local": str(tmp_path / "no")})
    with pytest.raises(FileNotFoundError, match="--local-data-root"):
        datasets.local_sequences(options)
    if LOCAL_DATA.is_dir():
        local = datasets.local_sequences(replace(options, dataset_roots={"local": str(LOCAL_DATA)}))
        assert sorted(local.sequence_info(i).name for i in range(len(local))) == ["Crossing", "wakeboard7"]


def test_cached_recipe_resumes_exactly_and_reuses_its_cache(tmp_path):
    """A feature-cache recipe: 2 epochs straight == 1 + --resume 1; the second run reuses the caches it finds."""
    from ltr.train_settings.bbreg_recipe import run_bbreg

    _save_initial(tmp_path / "init.pth.tar", seed=5)
    recipe = replace(_small_recipe(), feature_cache_pairs=6, val_feature_cache_pairs=4, samples_per_epoch=6, workers=0)

    def run(workspace: Path, epochs: int, resume: bool = False):
        options = TrainingOptions(module="bbreg", name="atom_ebm_synthetic", workspace=workspace, epochs=epochs,
                                  batch_size=2, workers=0, device="cpu", seed=3, deterministic=True, progress=False,
                                  resume=resume, init_checkpoint=str(tmp_path / "init.pth.tar"),
                                  feature_cache=str(tmp_path / "cache"))
        return run_bbreg(options, recipe)

    rows = run(tmp_path / "straight", 2)
    assert [row["epoch"] for row in rows] == [1, 2] and all("val/Loss/total" in row for row in rows)
    caches = sorted(path.name.split("-")[0] for path in (tmp_path / "cache").iterdir())
    assert caches == ["train", "val"]
    run(tmp_path / "split", 1)
    run(tmp_path / "split", 2, resume=True)
    assert len(list((tmp_path / "cache").iterdir())) == 2  # same inputs -> the same two caches
    folder = "checkpoints/bbreg/atom_ebm_synthetic"
    straight = torch.load(tmp_path / "straight" / folder / "ATOMnet_ep0002.pth.tar", weights_only=True)
    split = torch.load(tmp_path / "split" / folder / "ATOMnet_ep0002.pth.tar", weights_only=True)
    for key, value in straight["net"].items():
        assert torch.equal(value, split["net"][key]), key
    with pytest.raises(ValueError, match="cannot --train-backbone"):
        run_bbreg(TrainingOptions(module="bbreg", name="x", workspace=tmp_path / "tb", train_backbone=True), recipe)


def test_cache_pairs_zero_trains_a_caching_recipe_on_fresh_crops(tmp_path):
    """--cache-pairs 0: the caching recipe runs the backbone on every sample and writes no cache; negative is refused."""
    from ltr.run_training import build_parser, options_from_args
    from ltr.train_settings.bbreg_recipe import run_bbreg

    _save_initial(tmp_path / "init.pth.tar", seed=5)
    recipe = replace(_small_recipe(), feature_cache_pairs=6, val_feature_cache_pairs=4, samples_per_epoch=4, workers=0)
    args = build_parser().parse_args(["bbreg", "atom_ebm_synthetic", "--workspace", str(tmp_path / "ws"),
                                      "--cache-pairs", "0", "--feature-cache", str(tmp_path / "cache")])
    options = replace(options_from_args(args), epochs=1, batch_size=2, workers=0, device="cpu", progress=False,
                      init_checkpoint=str(tmp_path / "init.pth.tar"))
    assert options.cache_pairs == 0
    rows = run_bbreg(options, recipe)
    assert [row["epoch"] for row in rows] == [1] and "val/Loss/total" in rows[0]
    assert not (tmp_path / "cache").exists()
    with pytest.raises(ValueError, match="cache_pairs must be >= 0"):
        replace(options, cache_pairs=-1)


@needs_local_data
def test_real_training_data_excludes_evaluation_and_selection_sequences():
    from ltr.train_settings import datasets

    options = TrainingOptions(module="bbreg", name="x", workspace=Path("unused"), dataset_roots={"local": str(LOCAL_DATA)})
    (videos, video_weight), *stills = datasets.real_training(options)
    names = {videos.sequence_info(i).name for i in range(len(videos))}
    selection = {name for entries in datasets.SELECTION_SEQUENCES.values() for _, name in entries}
    # 76 training videos - 23 selection videos + Crossing; the multi-segment videos stay together in training
    assert len(names) == 54 and "Crossing" in names and not names & (datasets.HELD_OUT_SEQUENCES | selection)
    assert {"group1_1", "group1_3", "group1_4", "car16_1", "car16_2", "truck4_1", "truck4_2"} <= names
    assert sorted(s.name for s, _ in stills) == sorted(datasets.REAL_TRAINING_STILLS)
    assert sum(len(s) for s, _ in stills) == 1352 and not any(s.is_video for s, _ in stills)
    assert video_weight + sum(w for _, w in stills) == pytest.approx(1.0)
    # 1-based OTB ground truth becomes 0-based: the first Biker box is "262,94,16,26" in the file; DAVIS stays 0-based
    biker = next(i for i in range(len(videos)) if videos.sequence_info(i).name == "Biker")
    assert videos.sequence_info(biker).boxes[0].tolist() == [261.0, 93.0, 16.0, 26.0]
    goat = next(i for i in range(len(videos)) if videos.sequence_info(i).name == "goat")
    first_row = (LOCAL_DATA / "train/sequences/DAVIS2016/goat/groundtruth.txt").read_text().splitlines()[0]
    assert videos.sequence_info(goat).boxes[0].tolist() == [float(v) for v in first_row.split(",")]
    still, _ = stills[0]
    image = still.frames(0, [0])[0]
    box = still.sequence_info(0).boxes[0]
    assert image.ndim == 3 and 0 <= box[0] < image.shape[1] and 0 <= box[1] < image.shape[0]
    validation = datasets.real_validation(options)
    assert [d.name for d, _ in validation] == [f"selection_{domain}" for domain in datasets.VALIDATION_DOMAINS]
    validation_names = {d.sequence_info(i).name for d, _ in validation for i in range(len(d))}
    assert validation_names <= selection and not validation_names & names

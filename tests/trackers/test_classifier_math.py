"""ATOM-EBM classifier building blocks against hand formulas, explicit loops and finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from trackers.atom_ebm.classifier import (
    FactorizedConvLinearization,
    apply_filter,
    combine_feature_blocks,
    gaussian_label,
    mlu,
    normalize_features,
)
from trackers.atom_ebm.fourier import fourier_upsample
from trackers.atom_ebm.localization import (
    HARD_NEGATIVE,
    NOT_FOUND,
    UNCERTAIN,
    localize_target,
)
from trackers.atom_ebm.optimizer import conjugate_gradient, gauss_newton_cg
from trackers.atom_ebm.params import AtomEbmParams
from trackers.atom_ebm.sample_memory import SampleMemory, update_sample_weights


def test_mlu_hand_values():
    x = torch.tensor([2.0, 0.0, -0.05, -1.0])
    expected = [2.0, 0.0, 0.05 * (math.exp(-1.0) - 1.0), 0.05 * (math.exp(-20.0) - 1.0)]
    assert mlu(x, 0.05).tolist() == pytest.approx(expected, abs=1e-7)


def test_normalize_features_gives_unit_rms_per_sample():
    features = torch.tensor([[[[3.0, 4.0]]], [[[1.0, 1.0]]]])  # [2, 1, 1, 2]
    out = normalize_features(features)
    # sample 0: rms = sqrt((9 + 16) / 2) = sqrt(12.5); sample 1: rms = 1
    assert out[0].flatten().tolist() == pytest.approx([3 / math.sqrt(12.5), 4 / math.sqrt(12.5)], rel=1e-6)
    assert out[1].flatten().tolist() == pytest.approx([1.0, 1.0], rel=1e-6)


def test_apply_filter_matches_explicit_same_mode_loop():
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(2, 3, 7, 6, generator=gen, dtype=torch.float64)
    f = torch.randn(1, 3, 4, 4, generator=gen, dtype=torch.float64)
    out = apply_filter(x, f)
    assert out.shape == (2, 1, 7, 6)
    xn, fn = x.numpy(), f.numpy()[0]
    expected = np.zeros((2, 7, 6))
    for n in range(2):
        for i in range(7):
            for j in range(6):
                for t in range(4):
                    for s in range(4):
                        r, c = i - 2 + t, j - 2 + s  # padding 2, last row/column dropped
                        if 0 <= r < 7 and 0 <= c < 6:
                            expected[n, i, j] += (fn[:, t, s] * xn[n, :, r, c]).sum()
    np.testing.assert_allclose(out[:, 0].numpy(), expected, atol=1e-12)


def test_gaussian_label_hand_values():
    label = gaussian_label(torch.tensor([[0.5, -1.0]]), 4, 0.9)  # grid coordinates -1.5, -0.5, 0.5, 1.5
    assert label.shape == (1, 1, 4, 4)
    expected = math.exp(-((0.5 - 0.5) ** 2 + (-0.5 + 1.0) ** 2) / (2 * 0.81))
    assert float(label[0, 0, 2, 1]) == pytest.approx(expected, rel=1e-6)
    expected_corner = math.exp(-((-1.5 - 0.5) ** 2 + (1.5 + 1.0) ** 2) / (2 * 0.81))
    assert float(label[0, 0, 0, 3]) == pytest.approx(expected_corner, rel=1e-5)


@pytest.mark.parametrize("n, out", [(18, 288), (17, 51), (6, 6)])
def test_fourier_upsample_passes_through_samples(n, out):
    x = torch.randn(n, n, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    up = fourier_upsample(x, out)
    step = out // n
    np.testing.assert_allclose(up[::step, ::step].numpy(), x.numpy(), atol=1e-12)


def test_fourier_upsample_reproduces_band_limited_signal():
    n, out = 18, 288
    t = np.arange(n) / n
    fine = np.arange(out) / out
    signal = lambda u, v: np.cos(2 * np.pi * 3 * u)[:, None] * np.sin(2 * np.pi * 2 * v + 0.3)[None, :] + 0.5
    up = fourier_upsample(torch.from_numpy(signal(t, t)), out).numpy()
    np.testing.assert_allclose(up, signal(fine, fine), atol=1e-12)


def test_conjugate_gradient_solves_spd_system():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(5, 5))
    a = m @ m.T + 5 * np.eye(5)
    b = rng.normal(size=5)
    a_t = torch.from_numpy(a)
    x = conjugate_gradient(lambda p: [a_t @ p[0]], [torch.from_numpy(b)], num_iter=5)[0]
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), rtol=1e-8)


def _objective(filt: torch.Tensor, x: torch.Tensor, y: torch.Tensor, w: torch.Tensor, reg: float) -> torch.Tensor:
    """Independent implementation: explicit mlu formula and conv2d with manual cropping."""
    resp = torch.nn.functional.conv2d(x, filt, padding=1)[..., :-1, :-1]
    act = torch.where(resp >= 0, resp, 0.05 * (torch.exp(resp / 0.05) - 1))
    return (w.view(-1, 1, 1, 1) * (act - y) ** 2).sum() + reg * (filt**2).sum()


def test_gauss_newton_step_solves_linearised_normal_equations():
    """One GN step with as many CG iterations as unknowns = the exact regularised GN step, whose Jacobian is
    taken here by central finite differences of an independent residual implementation."""
    gen = torch.Generator().manual_seed(2)
    x = torch.randn(4, 3, 6, 6, generator=gen, dtype=torch.float64)
    y = gaussian_label(torch.zeros(4, 2, dtype=torch.float64), 6, 1.0)
    w = torch.full((4,), 0.25, dtype=torch.float64)
    filt0 = 0.05 * torch.randn(1, 3, 2, 2, generator=gen, dtype=torch.float64)
    reg = 0.1

    def independent_residuals(filt: torch.Tensor) -> np.ndarray:
        resp = torch.nn.functional.conv2d(x, filt, padding=1)[..., :-1, :-1]
        act = torch.where(resp >= 0, resp, 0.05 * (torch.exp(resp / 0.05) - 1))
        return (w.sqrt().view(-1, 1, 1, 1) * (act - y)).flatten().numpy()

    problem = lambda params: FactorizedConvLinearization(params[0], x, y, w, 0.05)  # noqa: E731
    (filt,) = gauss_newton_cg(problem, [filt0], [reg], num_gn_iter=1, num_cg_iter=filt0.numel())
    theta = filt0.flatten().numpy()
    eps = 1e-6
    jac = np.zeros((independent_residuals(filt0).size, theta.size))
    for k in range(theta.size):
        plus, minus = theta.copy(), theta.copy()
        plus[k] += eps
        minus[k] -= eps
        jac[:, k] = (independent_residuals(torch.from_numpy(plus).view_as(filt0))
                     - independent_residuals(torch.from_numpy(minus).view_as(filt0))) / (2 * eps)
    r0 = independent_residuals(filt0)
    step = np.linalg.solve(jac.T @ jac + reg * np.eye(theta.size), -(jac.T @ r0 + reg * theta))
    np.testing.assert_allclose(filt.flatten().numpy(), theta + step, rtol=1e-5, atol=1e-8)


def test_joint_linearization_matches_autograd_of_independent_residuals():
    gen = torch.Generator().manual_seed(4)
    x = torch.randn(3, 5, 6, 6, generator=gen, dtype=torch.float64)
    y = gaussian_label(torch.zeros(3, 2, dtype=torch.float64), 6, 1.0)
    w = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    filt = 0.3 * torch.randn(1, 4, 4, 4, generator=gen, dtype=torch.float64)
    proj = 0.3 * torch.randn(4, 5, 1, 1, generator=gen, dtype=torch.float64)

    def independent(f, p):
        z = torch.einsum("dc,nchw->ndhw", p[:, :, 0, 0], x)
        resp = torch.nn.functional.conv2d(z, f, padding=2)[..., :-1, :-1]
        act = torch.where(resp >= 0, resp, 0.05 * (torch.exp(resp / 0.05) - 1))
        return w.sqrt().view(-1, 1, 1, 1) * (act - y)

    lin = FactorizedConvLinearization(filt, x, y, w, 0.05, projection=proj)
    torch.testing.assert_close(lin.residuals, independent(filt, proj))
    df = torch.randn(filt.shape, generator=gen, dtype=torch.float64)
    dp = torch.randn(proj.shape, generator=gen, dtype=torch.float64)
    _, expected_jvp = torch.func.jvp(independent, (filt, proj), (df, dp))
    torch.testing.assert_close(lin.jvp([df, dp]), expected_jvp)
    v = torch.randn(lin.residuals.shape, generator=gen, dtype=torch.float64)
    _, vjp_fn = torch.func.vjp(independent, filt, proj)
    for got, expected in zip(lin.vjp(v), vjp_fn(v)):
        torch.testing.assert_close(got, expected)


def test_joint_gauss_newton_decreases_factorized_objective():
    from trackers.atom_ebm.classifier import FactorizedConvClassifier

    gen = torch.Generator().manual_seed(3)
    clf = FactorizedConvClassifier(8, 4, 4, mlu_alpha=0.05, filter_reg=0.1, projection_reg=1e-4, generator=gen)
    x = torch.randn(6, 8, 8, 8, generator=gen)
    y = gaussian_label(torch.zeros(6, 2), 8, 1.0)
    w = torch.full((6,), 1 / 6)

    def objective(f, p):
        proj = torch.einsum("dc,nchw->ndhw", p[:, :, 0, 0], x)
        return _objective_4(f, proj, y, w) + 1e-4 * (p**2).sum()

    before = objective(clf.filter, clf.projection)
    f, p = gauss_newton_cg(clf.joint_problem(x, y, w), [clf.filter, clf.projection], [0.1, 1e-4], 6, 10,
                           preconditioner=[0.1, 1e-4])
    after = objective(f, p)
    assert float(after) < 0.5 * float(before)


def _objective_4(filt, x, y, w):
    resp = torch.nn.functional.conv2d(x, filt, padding=2)[..., :-1, :-1]
    act = torch.where(resp >= 0, resp, 0.05 * (torch.exp(resp / 0.05) - 1))
    return (w.view(-1, 1, 1, 1) * (act - y) ** 2).sum() + 0.1 * (filt**2).sum()


def test_sample_weight_update_hand_computed():
    # capacity 4, 2 initial samples with weight 1/2, lr 0.2, no minimum initial weight
    w = torch.tensor([0.5, 0.5, 0.0, 0.0], dtype=torch.float64)
    i1 = update_sample_weights(w, 2, None, 2, 0.2, 0.0)
    # first update: 0.5/0.8 = 0.625 each, new = 0.2, sum = 1.45
    assert i1 == 2
    assert w.tolist() == pytest.approx([0.625 / 1.45, 0.625 / 1.45, 0.2 / 1.45, 0.0])
    i2 = update_sample_weights(w, 3, i1, 2, 0.2, 0.0)
    # second: new = (0.2/1.45)/0.8 = 0.25/1.45; sum = (1.25 + 0.2 + 0.25)/1.45 = 1.7/1.45
    assert i2 == 3
    assert w.tolist() == pytest.approx([0.625 / 1.7, 0.625 / 1.7, 0.2 / 1.7, 0.25 / 1.7])
    # full: replace the lowest weight among slots >= 2 (slot 2)
    i3 = update_sample_weights(w, 4, i2, 2, 0.2, 0.0)
    assert i3 == 2
    new = (0.25 / 1.7) / 0.8
    total = (1.25 + 0.25) / 1.7 + new
    assert w.tolist() == pytest.approx([0.625 / 1.7 / total, 0.625 / 1.7 / total, new / total, 0.25 / 1.7 / total])


def test_initial_samples_keep_minimum_weight():
    memory = SampleMemory(6, (1, 2, 2), learning_rate=0.5, init_min_weight=0.6, dtype=torch.float64)
    memory.initialize(torch.zeros(2, 1, 2, 2), torch.zeros(2, 1, 2, 2))
    memory.add(torch.ones(1, 2, 2), torch.ones(1, 2, 2))
    # 0.5/0.5 = 1 each, new 0.5 -> init share 2/2.5 = 0.8 >= 0.6: untouched
    assert memory.weights[:3].tolist() == pytest.approx([0.4, 0.4, 0.2])
    memory.add(torch.ones(1, 2, 2), torch.ones(1, 2, 2))
    # new = 0.2/0.5 = 0.4 -> [0.4, 0.4, 0.2, 0.4]/1.4: init share 0.571 < 0.6 -> 0.3 each, rest scaled to 0.4
    assert memory.weights[:4].tolist() == pytest.approx([0.3, 0.3, 0.4 * 0.2 / 0.6, 0.4 * 0.4 / 0.6])
    assert memory.num_stored == 4
    assert float(memory.samples[3].sum()) == 4.0


def _map_with_peaks(peaks):
    scores = torch.zeros(288, 288)
    for (row, col), value in peaks:
        scores[row, col] = value
    return scores


@pytest.mark.parametrize(
    "peaks, expected_flag, expected_disp",
    [
        ([((144, 154), 0.2)], NOT_FOUND, (10.0, 0.0)),
        ([((150, 140), 1.0)], None, (-4.0, 6.0)),
        ([((150, 140), 1.0), ((150, 240), 0.6)], HARD_NEGATIVE, (-4.0, 6.0)),  # 0.5 < ratio < 0.8
        ([((150, 140), 1.0), ((150, 280), 0.9)], HARD_NEGATIVE, (-4.0, 6.0)),  # distractor far, target near
        ([((20, 20), 1.0), ((150, 150), 0.9)], HARD_NEGATIVE, (6.0, 6.0)),  # jump to the near peak 2
        ([((150, 140), 1.0), ((150, 190), 0.9)], UNCERTAIN, (-4.0, 6.0)),  # both near
        ([((150, 140), 1.0), ((150, 150), 0.9)], None, (-4.0, 6.0)),  # peak 2 inside the suppressed window
    ],
)
def test_localize_target_flags(peaks, expected_flag, expected_disp):
    result = localize_target(_map_with_peaks(peaks), (20.0, 20.0), AtomEbmParams())
    assert result.flag == expected_flag
    assert result.displacement == expected_disp


def test_feature_blocks_carry_equal_energy():
    generator = torch.Generator().manual_seed(0)
    deep = 30.0 * torch.randn(2, 256, 5, 5, generator=generator)
    hog = 0.1 * torch.rand(2, 12, 5, 5, generator=generator)
    combined = combine_feature_blocks([deep, hog])
    assert combined.shape == (2, 268, 5, 5)
    total = combined.pow(2).sum(dim=(1, 2, 3))
    torch.testing.assert_close(total / (268 * 25), torch.ones(2))  # unit mean square per sample
    torch.testing.assert_close(combined[:, 256:].pow(2).sum(dim=(1, 2, 3)) / total, torch.full((2,), 0.5))
    # the direction within a block is kept
    def direction(x):
        return x / x.pow(2).sum(dim=(1, 2, 3), keepdim=True).sqrt()

    torch.testing.assert_close(direction(combined[:, 256:]), direction(hog))


def test_classifier_feature_names():
    assert AtomEbmParams(classifier_features="layer3+hog_color").classifier_parts == ("layer3", "hog_color")
    assert AtomEbmParams(classifier_features="layer2+hog_color", hog_cell_size=8).feature_stride == 8
    for bad, message in [("layer2+hog_color", "mix strides"), ("layer3+layer3", "distinct"), ("fc", "distinct")]:
        with pytest.raises(ValueError, match=message):
            AtomEbmParams(classifier_features=bad)

"""Algorithm S1 against an explicit per-row loop with analytic gradients; call budget; known maxima."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from trackers.refinement import fixed_step_ascent, gradient_ascent

CENTRE = np.array([1.0, -2.0, 0.5])
CURVATURE = np.array([1.0, 3.0, 0.5])


def torch_score(y: torch.Tensor) -> torch.Tensor:
    """A non-concave score: a quadratic bowl plus a ripple, so large steps overshoot and get rejected."""
    centre = torch.as_tensor(CENTRE, dtype=y.dtype)
    curvature = torch.as_tensor(CURVATURE, dtype=y.dtype)
    return -(curvature * (y - centre) ** 2).sum(dim=1) + 0.3 * torch.sin(3 * y[:, 0])


def numpy_score(y: np.ndarray) -> float:
    return float(-(CURVATURE * (y - CENTRE) ** 2).sum() + 0.3 * np.sin(3 * y[0]))


def numpy_grad(y: np.ndarray) -> np.ndarray:
    grad = -2 * CURVATURE * (y - CENTRE)
    grad[0] += 0.9 * np.cos(3 * y[0])
    return grad


def reference_s1(y0: np.ndarray, num_iter: int, step: np.ndarray, decay: float) -> tuple[np.ndarray, np.ndarray, int]:
    """Algorithm S1 one row at a time; returns boxes, scores and the number of rejected steps."""
    ys, scores, rejected = [], [], 0
    for row in y0:
        y, lam = row.copy(), step.copy()
        for _ in range(num_iter):
            candidate = y + lam * numpy_grad(y)
            if numpy_score(candidate) > numpy_score(y):
                y = candidate
            else:
                lam = decay * lam
                rejected += 1
        ys.append(y)
        scores.append(numpy_score(y))
    return np.array(ys), np.array(scores), rejected


Y0 = np.array([[0.0, 0.0, 0.0], [3.0, -5.0, 2.0], [1.0, -2.0, 0.5], [-2.0, 1.0, 4.0]])


@pytest.mark.parametrize("step", [0.2, 0.45, [0.3, 0.1, 0.9]])
def test_matches_per_row_reference_loop(step: float | list[float]) -> None:
    step_array = np.broadcast_to(np.asarray(step, dtype=np.float64), (3,)).copy()
    expected_y, expected_score, rejected = reference_s1(Y0, 12, step_array, 0.5)
    y, score = gradient_ascent(torch_score, torch.from_numpy(Y0), 12, torch.tensor(step, dtype=torch.float64), 0.5)
    np.testing.assert_allclose(y.numpy(), expected_y, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(score.numpy(), expected_score, rtol=1e-12, atol=1e-12)
    assert rejected > 0  # the comparison covers rejected steps
    torch.testing.assert_close(score, torch_score(y))  # returned scores belong to the returned boxes


def test_call_budget_one_forward_backward_per_iteration_and_one_final_forward() -> None:
    calls = {"grad": 0, "no_grad": 0}

    def counting(y: torch.Tensor) -> torch.Tensor:
        calls["grad" if torch.is_grad_enabled() and y.requires_grad else "no_grad"] += 1
        return torch_score(y)

    gradient_ascent(counting, torch.from_numpy(Y0), 7, 0.1, 0.5)
    assert calls == {"grad": 7, "no_grad": 1}  # candidates are scored with grad; only the last one without
    calls.update(grad=0, no_grad=0)
    fixed_step_ascent(counting, torch.from_numpy(Y0), 7, 0.1)
    assert calls == {"grad": 7, "no_grad": 1}


def test_concave_quadratic_reaches_known_maximum_under_no_grad() -> None:
    centre = torch.tensor([[2.0, -1.0, 0.5, 3.0]])

    def score(y: torch.Tensor) -> torch.Tensor:
        return -((y - centre) ** 2).sum(dim=1)

    y0 = torch.zeros(5, 4) + torch.arange(5.0)[:, None]
    with torch.no_grad():
        y, best = gradient_ascent(score, y0, 40, 0.8, 0.5)  # step 0.8 overshoots: every row needs decays
    torch.testing.assert_close(y, centre.expand(5, 4), atol=1e-4, rtol=0)
    assert (best > -1e-7).all()
    assert not y0.requires_grad and (y0[1] == 1).all()  # input untouched


def test_fixed_step_matches_closed_form_iteration() -> None:
    centre = torch.tensor([1.0, -1.0], dtype=torch.float64)

    def score(y: torch.Tensor) -> torch.Tensor:
        return -((y - centre) ** 2).sum(dim=1)

    y0 = torch.tensor([[0.0, 0.0], [4.0, 2.0]], dtype=torch.float64)
    step = torch.tensor([0.1, 0.3], dtype=torch.float64)
    with torch.no_grad():
        y, final = fixed_step_ascent(score, y0, 5, step)
    # y_{k+1} - c = (1 - 2 step) (y_k - c), applied unconditionally
    expected = centre + (1 - 2 * step) ** 5 * (y0 - centre)
    torch.testing.assert_close(y, expected, rtol=1e-12, atol=1e-12)
    torch.testing.assert_close(final, -((expected - centre) ** 2).sum(dim=1))


def test_works_inside_inference_mode() -> None:
    centre = torch.tensor([[1.0, 2.0]])
    with torch.inference_mode():
        y, _ = gradient_ascent(lambda v: -((v - centre) ** 2).sum(dim=1), torch.zeros(2, 2), 30, 0.25, 0.5)
    torch.testing.assert_close(y, centre.expand(2, 2), atol=1e-5, rtol=0)


def test_non_finite_gradient_rows_are_rejected_not_propagated() -> None:
    seen_finite = []

    def score(y: torch.Tensor) -> torch.Tensor:
        seen_finite.append(bool(torch.isfinite(y).all()))
        return torch.sqrt(y[:, 0]) - (y[:, 1] - 1.0) ** 2  # d/dy0 is infinite at y0 = 0

    y0 = torch.tensor([[0.0, 0.0], [1.0, 0.0]], dtype=torch.float64)
    y, best = gradient_ascent(score, y0, 3, 0.25, 0.5)
    assert all(seen_finite)
    assert y[0, 0].item() == 0.0 and y[0, 1].item() == 0.0  # every step of row 0 was rejected
    # row 1 follows the per-row loop by hand: grad (1/(2 sqrt(y0)), -2 (y1 - 1)), steps 0.25, all accepted
    expected = np.array([1.0, 0.0])
    for _ in range(3):
        expected = expected + 0.25 * np.array([0.5 / np.sqrt(expected[0]), -2 * (expected[1] - 1.0)])
    np.testing.assert_allclose(y[1].numpy(), expected, rtol=1e-12)
    assert torch.isfinite(best).all()


def test_zero_iterations_returns_input_and_its_score() -> None:
    y, score = gradient_ascent(torch_score, torch.from_numpy(Y0), 0, 0.1, 0.5)
    assert torch.equal(y, torch.from_numpy(Y0))
    np.testing.assert_allclose(score.numpy(), [numpy_score(row) for row in Y0], rtol=1e-12)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"y0": torch.zeros(3)}, r"\[N, D\]"),
        ({"y0": torch.zeros(2, 3, dtype=torch.long)}, "floating-point"),
        ({"y0": torch.tensor([[0.0, float("nan"), 0.0]])}, "non-finite"),
        ({"step_length": torch.tensor([0.1, 0.2])}, "step_length"),
        ({"step_length": -0.1}, "positive"),
        ({"decay": 0.0}, "decay"),
        ({"decay": 1.5}, "decay"),
        ({"num_iter": -1}, "num_iter"),
        ({"score_fn": lambda y: y.sum()}, "score_fn"),
    ],
)
def test_bad_input_raises(kwargs: dict, message: str) -> None:
    arguments = {"score_fn": torch_score, "y0": torch.zeros(2, 3), "num_iter": 2, "step_length": 0.1, "decay": 0.5, **kwargs}
    with pytest.raises(ValueError, match=message):
        gradient_ascent(**arguments)

"""Gauss-Newton with conjugate-gradient inner solves for regularised weighted least squares.

Problem: minimise ||r(theta)||^2 + sum_i lambda_i ||theta_i||^2 over a list of parameter tensors theta.
Each Gauss-Newton step solves (J^T J + Lambda) delta = -(J^T r + Lambda theta) with a few (preconditioned,
Polak-Ribiere) CG iterations. The residuals and the products J p, J^T v come from a ``Linearization``: the
classifier provides closed-form ones (a few convolutions each, much cheaper than double-backward autograd).
Nothing here synchronises with the host (no ``.item()``).
"""
from __future__ import annotations

from typing import Callable, Protocol, Sequence

import torch


def _dot(a: Sequence[torch.Tensor], b: Sequence[torch.Tensor]) -> torch.Tensor:
    return sum((x * y).sum() for x, y in zip(a, b))


def conjugate_gradient(apply_a: Callable[[list[torch.Tensor]], list[torch.Tensor]], b: list[torch.Tensor],
                       num_iter: int, preconditioner: Sequence[float] | None = None) -> list[torch.Tensor]:
    """Approximately solve A x = b (A symmetric positive semi-definite) from x = 0.

    Args:
        apply_a: maps a list of tensors p to A p (same shapes).
        b: right-hand side, list of tensors.
        num_iter: CG iterations (the state is not kept between calls).
        preconditioner: optional diagonal preconditioner, one positive scalar per tensor (z = r / m).

    Returns:
        x as a list of tensors shaped like ``b``.
    """
    x = [torch.zeros_like(t) for t in b]
    r = [t.clone() for t in b]
    p: list[torch.Tensor] | None = None
    r_prev: list[torch.Tensor] | None = None
    rho_prev = None
    for _ in range(num_iter):
        z = [ri / m for ri, m in zip(r, preconditioner)] if preconditioner is not None else r
        rho = _dot(r, z)
        if p is None:
            p = z
        else:
            beta = (rho - _dot(r_prev, z)) / rho_prev  # Polak-Ribiere
            beta = torch.where(torch.isfinite(beta), beta.clamp(min=0.0), torch.zeros_like(beta))
            p = [zi + beta * pi for zi, pi in zip(z, p)]
        q = apply_a(p)
        p_q = _dot(p, q)
        alpha = torch.where(p_q > 0, rho / p_q, torch.zeros_like(p_q))
        alpha = torch.where(torch.isfinite(alpha), alpha, torch.zeros_like(alpha))
        x = [xi + alpha * pi for xi, pi in zip(x, p)]
        r_prev = r
        r = [ri - alpha * qi for ri, qi in zip(r, q)]
        rho_prev = rho
    return x


class Linearization(Protocol):
    """Residuals r(theta) at a point with their Jacobian products (J p and J^T v)."""

    residuals: torch.Tensor

    def jvp(self, direction: list[torch.Tensor]) -> torch.Tensor:
        """J p for a parameter-shaped direction p (list of tensors)."""

    def vjp(self, vector: torch.Tensor) -> list[torch.Tensor]:
        """J^T v for a residual-shaped vector v."""


def gauss_newton_cg(linearize: Callable[[list[torch.Tensor]], Linearization], params: Sequence[torch.Tensor],
                    regularization: Sequence[float], num_gn_iter: int, num_cg_iter: int,
                    preconditioner: Sequence[float] | None = None) -> list[torch.Tensor]:
    """Run ``num_gn_iter`` Gauss-Newton steps, each with ``num_cg_iter`` CG iterations.

    Args:
        linearize: maps parameters to their ``Linearization`` (residuals, J p, J^T v), e.g.
            ``FactorizedConvClassifier.joint_problem(...)``.
        params: starting parameters (not modified).
        regularization: lambda_i per parameter tensor (residual sqrt(lambda_i) * theta_i).
        num_gn_iter, num_cg_iter: outer / inner iterations.
        preconditioner: optional diagonal CG preconditioner, one scalar per parameter tensor.

    Returns:
        The updated parameters.
    """
    theta = [t.detach().clone() for t in params]
    for _ in range(num_gn_iter):
        lin = linearize(theta)

        def normal_matrix(p: list[torch.Tensor]) -> list[torch.Tensor]:
            return [a + lam * pi for a, pi, lam in zip(lin.vjp(lin.jvp(p)), p, regularization)]

        gradient = lin.vjp(lin.residuals)
        rhs = [-(g + lam * t) for g, t, lam in zip(gradient, theta, regularization)]
        step = conjugate_gradient(normal_matrix, rhs, num_cg_iter, preconditioner)
        theta = [t + s for t, s in zip(theta, step)]
    return theta

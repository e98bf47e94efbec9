"""Gauss-Newton with conjugate-gradient inner solves for regularised weighted least squares.

Problem: minimise ||r(theta)||^2 + sum_i lambda_i ||theta_i||^2 over a list of parameter tensors theta.
Each Gauss-Newton step solves (J^T J + Lambda) delta = -(J^T r + Lambda theta) with a few (preconditioned,
Polak-Ribiere) CG iterations. J p and J^T v come from autograd: J^T u is built once per step with
``create_graph=True`` and differentiated w.r.t. the dummy u ("double-backward trick"), so one forward pass of
the residuals serves all CG iterations. Nothing here synchronises with the host (no ``.item()``).
"""
from __future__ import annotations

from typing import Callable, Sequence

import torch

ResidualFn = Callable[[list[torch.Tensor]], torch.Tensor]


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


def gauss_newton_cg(residual_fn: ResidualFn, params: Sequence[torch.Tensor], regularization: Sequence[float],
                    num_gn_iter: int, num_cg_iter: int,
                    preconditioner: Sequence[float] | None = None) -> list[torch.Tensor]:
    """Run ``num_gn_iter`` Gauss-Newton steps, each with ``num_cg_iter`` CG iterations.

    Args:
        residual_fn: maps the parameter list to the data residuals (any shape); must be twice differentiable.
        params: starting parameters (not modified).
        regularization: lambda_i per parameter tensor (residual sqrt(lambda_i) * theta_i).
        num_gn_iter, num_cg_iter: outer / inner iterations.
        preconditioner: optional diagonal CG preconditioner, one scalar per parameter tensor.

    Returns:
        The updated parameters (detached).
    """
    theta = [t.detach().clone() for t in params]
    with torch.enable_grad():
        for _ in range(num_gn_iter):
            theta = [t.detach().requires_grad_(True) for t in theta]
            residuals = residual_fn(theta)
            dummy = torch.zeros_like(residuals, requires_grad=True)
            jt_dummy = torch.autograd.grad(residuals, theta, dummy, create_graph=True)

            def normal_matrix(p: list[torch.Tensor]) -> list[torch.Tensor]:
                j_p = torch.autograd.grad(jt_dummy, dummy, p, retain_graph=True)[0]
                jt_j_p = torch.autograd.grad(residuals, theta, j_p, retain_graph=True)
                return [a.detach() + lam * pi for a, pi, lam in zip(jt_j_p, p, regularization)]

            gradient = torch.autograd.grad(residuals, theta, residuals.detach(), retain_graph=True)
            rhs = [-(g.detach() + lam * t.detach()) for g, t, lam in zip(gradient, theta, regularization)]
            step = conjugate_gradient(normal_matrix, rhs, num_cg_iter, preconditioner)
            theta = [t.detach() + s for t, s in zip(theta, step)]
    return [t.detach() for t in theta]

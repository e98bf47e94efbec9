"""One S1 iteration on the real IoU-Net score is a single graph: no host synchronisation, no graph break.

``compile_s1_step`` (``torch.compile(fullgraph=True)``) raises on any graph break (``.item()``, ``.tolist()``, a Python branch on a
tensor value, an untraceable call), so compiling succeeds only if the step and the IoU-Net scoring are free of
them; the ``aot_eager`` backend also traces the backward pass. The compiled step must then produce the eager
step's numbers, and the eager loop must match a per-row reference (``test_refinement``).
"""
from __future__ import annotations

import torch

from ltr.data.box_ops import rel_to_xywh, xywh_to_rel
from ltr.models.bbreg.atom_iou_net import AtomIoUNet
from ltr.models.bbreg.iou_predictor import IoUPredictor, PreparedFrame, score_proposals
from trackers.refinement import compile_s1_step, s1_start, s1_step


def _relative_score(z: torch.Tensor, size_norm: torch.Tensor, frame: PreparedFrame) -> torch.Tensor:
    return score_proposals(rel_to_xywh(z, size_norm)[None], frame)[0]


def _problem():
    torch.manual_seed(0)
    head = AtomIoUNet().eval()
    with torch.no_grad():
        reference = [torch.randn(1, 128, 24, 24), torch.randn(1, 256, 12, 12)]
        predictor = IoUPredictor(head, head.get_modulation(reference, torch.tensor([[70.0, 66.0, 52.0, 60.0]])))
        frame = predictor.prepare(head.get_iou_feat([torch.randn(1, 128, 24, 24), torch.randn(1, 256, 12, 12)]))
    boxes = torch.tensor([[70.0, 66.0, 52.0, 60.0]]) + torch.randn(10, 4) * torch.tensor([4.0, 4.0, 6.0, 6.0])
    size_norm = boxes[:, 2:].clone()
    steps = torch.tensor([2e-3, 2e-3, 1e-2, 1e-2]).expand(10, 4).clone() * 500  # large: most steps get rejected
    return xywh_to_rel(boxes, size_norm), size_norm, frame, steps


def test_s1_step_on_the_iou_net_compiles_without_graph_breaks_and_matches_eager():
    z0, size_norm, frame, steps = _problem()
    compiled = compile_s1_step(backend="aot_eager")  # fullgraph: any graph break raises
    with torch.no_grad():
        state = s1_start(_relative_score, z0, steps, (size_norm, frame))
        eager, graph = state, state
        for _ in range(4):
            eager = s1_step(_relative_score, eager, 0.5, (size_norm, frame))
            graph = compiled(_relative_score, graph, 0.5, (size_norm, frame))
    for name, value in eager._asdict().items():
        torch.testing.assert_close(getattr(graph, name), value, rtol=1e-5, atol=1e-6, msg=name)
    rejected = (eager.step < steps).any(dim=1)
    assert rejected.any() and not rejected.all()  # both branches of the mask were exercised
    assert (eager.score >= state.score).all()

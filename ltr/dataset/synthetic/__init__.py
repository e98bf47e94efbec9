"""Procedural tracking sequences with exact ground truth: training data and test fixtures.

Every sequence is a deterministic function of ``(seed, sequence index)``. A sequence shows a textured
target (a random polygon: ellipse, rectangle, convex polygon, star or blob, filled with a crop of a real
image or a procedural texture) that moves, scales, changes aspect ratio, optionally rotates and wobbles
(non-rigid vertex motion), in front of a real or procedural background seen by a panning/zooming camera,
among similar-looking distractors and behind passing occluders.

Only the trajectories are computed when a sequence is first touched (``sequence_info`` is cheap); frames are
rendered on request, one at a time, with cost proportional to the image area (a few ms per 640x480 frame).

Geometry convention: continuous 0-based pixel coordinates, pixel ``i`` covers ``[i, i + 1)``. The ground-truth
box of a frame is the axis-aligned bounding box of the target polygon (occluded parts included), so the
rasterised target mask has that bounding box up to pixel rounding.

Texture sources: the scikit-image sample images that ship inside its wheel (loaded offline, cached per
process), procedural noise / stripes / checkerboards / gradients, and optionally the images of user folders.
"""
from ltr.dataset.synthetic.cli import main
from ltr.dataset.synthetic.dataset import SyntheticDataset
from ltr.dataset.synthetic.params import SyntheticParams
from ltr.dataset.synthetic.textures import list_image_files

__all__ = ["SyntheticDataset", "SyntheticParams", "list_image_files", "main"]

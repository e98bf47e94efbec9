"""``python -m ltr.dataset.synthetic OUT_DIR``: write procedural sequences to disk in the folder layout."""
from __future__ import annotations

import logging
from typing import Sequence as SequenceType

from ltr.dataset.synthetic.dataset import SyntheticDataset
from ltr.dataset.synthetic.params import SyntheticParams

logger = logging.getLogger(__name__)


def main(argv: SequenceType[str] | None = None) -> int:
    """``python -m ltr.dataset.synthetic OUT_DIR [--num-sequences N] [--length L] [--seed S]``: write sequences to disk."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(
        prog="python -m ltr.dataset.synthetic",
        description="Write procedural tracking sequences in the folder layout (<out>/<seq>/img/0001.jpg + groundtruth.txt, "
        "0-based x,y,w,h; nan = invalid frame), readable with load_dataset('folder', root=<out>).",
    )
    parser.add_argument("out", help="output folder")
    parser.add_argument("--num-sequences", type=int, default=10)
    parser.add_argument("--length", type=int, default=100, help="frames per sequence")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--image-dir", action="append", default=[], help="extra texture/background image folder (repeatable)")
    parser.add_argument("--jpeg-quality", type=int, default=95)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        params = SyntheticParams(num_sequences=args.num_sequences, sequence_length=args.length)
        dataset = SyntheticDataset(params, seed=args.seed, image_dirs=args.image_dir)
        folders = dataset.write_folder(args.out, jpeg_quality=args.jpeg_quality)
    except (ValueError, FileNotFoundError, OSError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    logger.info("wrote %d sequences to %s", len(folders), args.out)
    return 0

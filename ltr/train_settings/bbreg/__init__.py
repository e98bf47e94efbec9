"""IoU-Net (bounding-box regression) training settings: atom_ebm (paper), atom_iou (ATOM*), synthetic variants."""

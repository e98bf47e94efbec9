"""ATOM-EBM tracker: online classifier (ATOM) + EBM-trained IoU-Net refined by Algorithm S1."""

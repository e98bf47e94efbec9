"""Bounding-box regression: the IoU-Net head and the ATOM network."""
from ltr.models.bbreg.atom import ATOMnet, atom_resnet18, atom_resnet50
from ltr.models.bbreg.atom_iou_net import AtomIoUNet

__all__ = ["ATOMnet", "AtomIoUNet", "atom_resnet18", "atom_resnet50"]

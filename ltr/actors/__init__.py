"""Actors: ``actor(batch) -> (loss, stats)``, one per training objective. The trainer knows no method."""
from ltr.actors.base import BaseActor
from ltr.actors.bbreg import (
    AtomEBMActor,
    AtomIoUActor,
    AtomKLActor,
    build_actor,
    list_actors,
)

__all__ = ["BaseActor", "AtomEBMActor", "AtomIoUActor", "AtomKLActor", "build_actor", "list_actors"]

"""Running a data set over many processes and machines started by ``torchrun``.

``torchrun`` starts one process (rank) per ``--nproc-per-node`` on every node and tells each its place through the
environment (``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK``, ``LOCAL_WORLD_SIZE``). Here:

* rank 0 lists the sequences still to run (finished ones are skipped, so a killed job resumes) and sends the list
  to all ranks, which split it the same way: longest first, each to the least-loaded rank (``split_longest_first``);
* each rank runs its share on ``cuda:LOCAL_RANK`` when CUDA is there, else on its share of the node's CPU cores,
  writing result files atomically into the shared results folder; a failing sequence is recorded, not fatal;
* all ranks wait for each other (a gloo barrier), every rank learns every failure, and rank 0 writes
  ``failures.txt``.

The process group uses gloo on CPU and on CUDA alike: ranks exchange only a few small CPU objects (the sequence
list, build errors, failures), and gloo works whether ranks share a GPU or have none.
"""
from __future__ import annotations

import contextlib
import datetime
import logging
import os
from dataclasses import dataclass
from typing import Callable, Iterator, Mapping

from ltr.dataset.benchmarks.sequence import Sequence
from ltr.utils.cli_errors import USER_ERRORS, one_line
from ltr.utils.cpu import available_cores
from pytracking.evaluation.runner import (
    RunSpec,
    describe_error,
    pending,
    result_dir,
    run_sequences,
    set_threads,
    write_failures,
)

logger = logging.getLogger(__name__)

#: How long ranks wait for each other in a collective. A rank that finished its share waits at the barrier for
#: the slowest one, which may take hours; a rank that dies makes torchrun stop all the others, so nothing hangs.
COLLECTIVE_TIMEOUT = datetime.timedelta(days=7)


@dataclass(frozen=True)
class RankInfo:
    """This process's place among torchrun's processes (a plain run is rank 0 of 1)."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0  #: index among the processes of this node
    local_world_size: int = 1  #: processes on this node

    @property
    def distributed(self) -> bool:
        """True when started by torchrun with more than one process."""
        return self.world_size > 1

    @property
    def num_nodes(self) -> int:
        """Nodes of the job (torchrun starts the same number of processes on each)."""
        return max(1, self.world_size // self.local_world_size)


_ENVIRONMENT = (("RANK", "rank"), ("WORLD_SIZE", "world_size"), ("LOCAL_RANK", "local_rank"),
                ("LOCAL_WORLD_SIZE", "local_world_size"))


def rank_info(environ: Mapping[str, str] | None = None) -> RankInfo:
    """Read torchrun's ``RANK``, ``WORLD_SIZE``, ``LOCAL_RANK`` and ``LOCAL_WORLD_SIZE`` (an absent one: a plain
    run's value, 0 or 1).

    Raises:
        ValueError: a variable that is not a non-negative integer, or ranks that do not fit the sizes.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, int] = {}
    for variable, field in _ENVIRONMENT:
        text = environ.get(variable)
        if text is None:
            continue
        if not text.strip().isdigit():
            raise ValueError(f"environment variable {variable}={text!r} is not a non-negative integer")
        values[field] = int(text)
    info = RankInfo(**values)
    if info.world_size < 1 or not 0 <= info.rank < info.world_size or not 0 <= info.local_rank < info.local_world_size:
        raise ValueError(f"inconsistent torchrun environment: RANK={info.rank} WORLD_SIZE={info.world_size} "
                         f"LOCAL_RANK={info.local_rank} LOCAL_WORLD_SIZE={info.local_world_size}")
    return info


def split_longest_first(lengths: Mapping[str, int], world_size: int) -> list[list[str]]:
    """Split sequences over ``world_size`` ranks so that each rank gets about the same number of frames.

    Longest-processing-time-first: sequences sorted by (-length, name) go one by one to the rank with the fewest
    frames so far (the lowest rank on a tie). The result depends only on the lengths and names, never on the
    order of ``lengths``, so every rank computes the same split; the most and least loaded ranks differ by at most
    one sequence's length.

    Returns:
        ``world_size`` lists of sequence names (rank k runs list k, in that order; a list may be empty).
    """
    if world_size < 1:
        raise ValueError(f"world size must be >= 1, got {world_size}")
    shares: list[list[str]] = [[] for _ in range(world_size)]
    loads = [0] * world_size
    for name in sorted(lengths, key=lambda n: (-lengths[n], n)):
        rank = min(range(world_size), key=lambda r: (loads[r], r))
        shares[rank].append(name)
        loads[rank] += lengths[name]
    return shares


def rank_device(requested: str | None, local_rank: int) -> str:
    """The device of a rank: ``cuda:LOCAL_RANK`` when CUDA is there (modulo the GPU count), else ``cpu``.

    ``requested`` ``cuda`` gives the same choice; ``cpu`` or ``cuda:N`` are kept as given.
    """
    if requested not in (None, "cuda"):
        return requested
    import torch  # here: listing and --help do not need it

    if torch.cuda.is_available():
        return f"cuda:{local_rank % torch.cuda.device_count()}"
    if requested == "cuda":
        raise ValueError("device 'cuda' requested but CUDA is not available; use --device cpu")
    return "cpu"


def rank_threads(local_world_size: int) -> int:
    """A rank's share of this node's cores (at least 1): the cores this process may use / processes on the node."""
    return max(1, available_cores() // local_world_size)


@contextlib.contextmanager
def process_group(info: RankInfo) -> Iterator[None]:
    """A gloo process group over torchrun's ranks for the duration of the block (torchrun's rendezvous address)."""
    import torch.distributed as dist

    dist.init_process_group("gloo", rank=info.rank, world_size=info.world_size, timeout=COLLECTIVE_TIMEOUT)
    try:
        yield
    finally:
        dist.destroy_process_group()


def barrier() -> None:
    """Wait until every rank of the process group gets here."""
    import torch.distributed as dist

    dist.barrier()


def _shared_from_rank0(value: object) -> object:
    """Rank 0's ``value``, on every rank."""
    import torch.distributed as dist

    box = [value]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def _from_every_rank(value: object) -> list[object]:
    """Each rank's ``value``, in rank order, on every rank (a collective: it waits for all ranks)."""
    import torch.distributed as dist

    values: list[object] = [None] * dist.get_world_size()
    dist.all_gather_object(values, value)
    return values


def run_dataset_distributed(
    spec: RunSpec,
    sequences: list[Sequence],
    results_dir: str | os.PathLike,
    info: RankInfo,
    *,
    threads: int,
    overwrite: bool = False,
    on_start: Callable[[], None] | None = None,
) -> dict[str, str]:
    """This rank's part of ``run_dataset``; call it on every rank inside ``process_group(info)``.

    Args:
        spec: tracker to build on each rank (``spec.device`` is this rank's device, see ``rank_device``).
        sequences: all sequences of the run (every rank loads the same list).
        results_dir: the shared results root; files go to ``<results_dir>/<tracker>/<param>/``.
        info: this rank's place (``rank_info``).
        threads: torch / OpenCV threads of this rank.
        overwrite: run finished sequences again.
        on_start: called on rank 0 once every rank's tracker has built, before any result is written.

    Returns:
        Failed sequence name -> one-line error, of all ranks (rank 0 also writes them to ``failures.txt``). All
        ranks get the same, so each can exit non-zero when any failed; let rank 0 report before any rank exits
        (``barrier``): torchrun stops the other ranks as soon as one exits with an error.

    Raises:
        ValueError / FileNotFoundError (on every rank): a tracker that does not build from ``spec`` because of a
        bad argument; nothing is written then. Another build error fails only that rank's sequences.
    """
    out_dir = result_dir(results_dir, spec.tracker_name, spec.param)
    mine = _my_share(sequences, out_dir, info, overwrite)
    tracker, build_error = None, None
    if mine:
        try:
            tracker = spec.build()
        except Exception as error:  # shared below: a bad argument stops every rank, anything else fails this share
            build_error = error
    user_errors = _from_every_rank(one_line(build_error) if isinstance(build_error, USER_ERRORS) else None)
    if any(message is not None for message in user_errors):
        raise ValueError(next(message for message in user_errors if message is not None))
    if info.rank == 0 and on_start is not None:
        on_start()

    if build_error is not None:
        message = f"building the tracker failed: {describe_error(build_error)}"
        logger.error("rank %d: %s", info.rank, message)
        failures = {sequence.name: message for sequence in mine}
    elif tracker is not None:
        set_threads(threads)
        failures = run_sequences(tracker, mine, out_dir, seed=spec.seed, desc=f"rank {info.rank}",
                                 position=info.local_rank, frame_progress=False)
    else:
        failures = {}
    barrier()  # every rank has finished its share
    every_failure: dict[str, str] = {}
    for rank_failures in _from_every_rank(failures):
        every_failure.update(rank_failures)  # type: ignore[arg-type]
    if info.rank == 0:
        write_failures(out_dir, every_failure)
    return every_failure


def _my_share(sequences: list[Sequence], out_dir: os.PathLike, info: RankInfo, overwrite: bool) -> list[Sequence]:
    """This rank's part of the sequences that rank 0 finds still to run, in the order to run them.

    Only rank 0 looks at the result files (ranks that looked at different moments could disagree); every rank
    splits its (name, length) list the same way.
    """
    todo = _shared_from_rank0([(s.name, len(s)) for s in pending(sequences, out_dir, overwrite)] if info.rank == 0 else None)
    share = split_longest_first(dict(todo), info.world_size)[info.rank]  # type: ignore[arg-type]
    by_name = {sequence.name: sequence for sequence in sequences}
    missing = [name for name in share if name not in by_name]
    if missing:
        raise RuntimeError(f"rank {info.rank} did not load sequence(s) {', '.join(missing)} that rank 0 has")
    mine = [by_name[name] for name in share]
    logger.info("rank %d of %d: %d of %d sequences to run (%d frames)", info.rank, info.world_size, len(mine),
                len(todo), sum(len(s) for s in mine))  # type: ignore[arg-type]
    return mine

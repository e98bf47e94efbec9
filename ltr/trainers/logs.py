"""Per-epoch training logs: a CSV file always, TensorBoard scalars when ``tensorboard`` is installed."""
from __future__ import annotations

import csv
import io
import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

from ltr.utils.files import atomic_write_text

logger = logging.getLogger(__name__)

CSV_NAME = "training_log.csv"


def format_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """Rows as CSV text; columns are the union of the rows' keys in first-seen order (empty where absent)."""
    columns: list[str] = []
    for row in rows:
        columns.extend(key for key in row if key not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, restval="", lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: _format_value(value) for key, value in row.items()})
    return buffer.getvalue()


def _format_value(value: Any) -> Any:
    return f"{value:.6g}" if isinstance(value, float) else value


class EpochLogger:
    """Writes ``<log_dir>/training_log.csv`` (one row per epoch, rewritten atomically) and TensorBoard scalars.

    Args:
        log_dir: output folder (created on first write).
        tensorboard: also write TensorBoard event files to ``<log_dir>/tensorboard`` when importable.
    """

    def __init__(self, log_dir: Path, *, tensorboard: bool = True):
        self.log_dir = Path(log_dir)
        self.csv_path = self.log_dir / CSV_NAME
        self._writer = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:
                logger.info("tensorboard is not installed; writing the CSV log only (%s)", self.csv_path)
            else:
                self._writer = SummaryWriter(log_dir=str(self.log_dir / "tensorboard"))

    def write(self, history: Sequence[Mapping[str, Any]]) -> None:
        """Rewrite the CSV with all of ``history`` and send the last row to TensorBoard."""
        atomic_write_text(self.csv_path, format_csv(history))
        if self._writer is not None and history:
            row = history[-1]
            for key, value in row.items():
                if key != "epoch" and isinstance(value, (int, float)):
                    self._writer.add_scalar(key, value, global_step=int(row["epoch"]))
            self._writer.flush()

    def close(self) -> None:
        """Close the TensorBoard writer."""
        if self._writer is not None:
            self._writer.close()
            self._writer = None

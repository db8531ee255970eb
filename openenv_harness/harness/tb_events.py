"""TensorBoard scalars written synchronously, with no writer thread.

``torch.utils.tensorboard.SummaryWriter`` hands every event to a background thread through a queue. When
Ctrl-C or SIGTERM raises ``KeyboardInterrupt`` in the main thread while it is inside that hand-off, closing the
writer can wait forever for the thread (seen here: 2 of 53 runs interrupted under load never exited).
A run must always shut down, so the harness writes its event files itself: each batch of scalars is framed
by tensorboard's own ``RecordWriter`` into memory and appended with one ``write`` + ``flush``. The files are
ordinary ``events.out.tfevents.*`` files that TensorBoard and :func:`~.records.read_scalars` read.
"""

from __future__ import annotations

import io
import itertools
import os
import socket
import time
from pathlib import Path

from tensorboard.compat.proto import event_pb2, summary_pb2
from tensorboard.summary.writer.record_writer import RecordWriter

_counter = itertools.count()


class ScalarEventWriter:
    """Append scalar events to a new event file in ``log_dir``.

    The interface is the subset of ``SummaryWriter`` the harness and
    :class:`~openenv_harness.rubric.RewardLogger` use: ``add_scalar``, ``flush``, ``close``.

    Args:
        log_dir: Directory of the event file (created if missing).
    """

    def __init__(self, log_dir: str | Path) -> None:
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # The usual name: TensorBoard finds event files by the "tfevents" part.
        name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}.{os.getpid()}.{next(_counter)}"
        self.path = self.log_dir / name
        self._file: io.BufferedWriter | None = open(self.path, "ab")  # noqa: SIM115 - closed by close()
        self._pending: list[event_pb2.Event] = [
            event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
        ]
        self.flush()

    def add_scalar(self, tag: str, value: float, step: int) -> None:
        """Queue one scalar; it is written at the next :meth:`flush`."""
        summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=tag, simple_value=float(value))])
        self._pending.append(event_pb2.Event(wall_time=time.time(), step=int(step), summary=summary))

    def flush(self) -> None:
        """Write every queued event with a single ``write`` and flush it to the OS."""
        if self._file is None or not self._pending:
            return
        buf = io.BytesIO()
        records = RecordWriter(buf)
        for event in self._pending:
            records.write(event.SerializeToString())
        self._pending = []
        self._file.write(buf.getvalue())
        self._file.flush()

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        if self._file is None:
            return
        try:
            self.flush()
        finally:
            self._file.close()
            self._file = None


__all__ = ["ScalarEventWriter"]

"""The embedded default's Celery broker: kombu's filesystem transport, made safe to share.

kombu's filesystem transport keeps one file per message in a folder. Several processes share that
folder in the embedded default (gunicorn and beat publish, the worker consumes), and the stock
transport is not safe for that (kombu issue #1551, and Reqflo issue "The quick start stays up"):

- ``_put`` creates the message file under its final name and only then writes it, so a consumer
  that lists the folder in between takes an empty message and the worker dies with
  ``JSONDecodeError`` ("Unrecoverable error").
- The exchange tables are rewritten in place (``open("wb")`` truncates before the lock is taken),
  so a publisher can read a half-written table.
- A consumed message is moved to the system's temporary folder, readable by other users.

This transport keeps the format and the folder layout and fixes the three: a message becomes
visible only whole (written under a name no consumer matches, then renamed, which POSIX makes
atomic), tables are replaced the same way under an exclusive lock, consumed files stay under the
broker folder, and every file is created ``0600``. Anything in the queue folder that is not a
readable broker message (a half-written file left by an older version, other JSON, a file this
user may not read, a FIFO or a folder) is moved to ``corrupt/`` with a log line instead of
blocking or killing the worker.

Celery's remote-control broadcasts (pidbox) are switched off for this transport in the settings:
on a polling transport they only add traffic, and nothing in Reqflo uses them; the worker
connection check goes through a task and the database (``reqflo.core.diagnostics``).
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kombu.exceptions import ChannelError
from kombu.transport import TRANSPORT_ALIASES, filesystem, virtual
from kombu.utils.json import dumps, loads

logger = logging.getLogger(__name__)

#: The URL scheme that selects this transport (``reqflo-fs://``).
SCHEME = "reqflo-fs"
FILE_MODE = 0o600
FOLDER_MODE = 0o700


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one.

    The temporary name starts with a dot and ends in ``.partial``, so no consumer takes it for a
    message (messages are matched on ``<name>.<queue>.msg``).
    """
    temporary = path.with_name(f".{uuid.uuid4().hex}.partial")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def _read_message(path: Path) -> tuple[Any, str]:
    """Return (the message, "") or (None, what is wrong with the file) — never raise.

    Only a regular file holding a JSON object shaped like a kombu message (``body`` and a
    ``properties`` object) is served: anything else in the queue folder (a FIFO, a folder, a
    file this user may not read, other JSON) would otherwise block or kill the worker.
    """
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode):
            return None, "is not a regular file"
        payload = path.read_bytes()
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror or exc})"
    try:
        message = loads(payload.decode())
    except (ValueError, UnicodeDecodeError):
        return None, f"({len(payload)} bytes) is not valid JSON"
    if (
        not isinstance(message, dict)
        or "body" not in message
        or not isinstance(message.get("properties"), dict)
    ):
        return None, f"({len(payload)} bytes) is JSON but not a broker message"
    return message, ""


class Channel(filesystem.Channel):
    """A filesystem channel whose messages and exchange tables are only ever seen whole."""

    # --- messages --------------------------------------------------------------------------

    # The stubs of kombu's two base classes disagree on these signatures; either one fails.
    def _put(self, queue: str, message: Any, **kwargs: Any) -> None:  # type: ignore[override]
        """Publish ``payload`` to ``queue``: write it aside, then rename it into the folder."""
        # Names sort in publishing order: zero-padded monotonic nanoseconds (one clock for every
        # process on the machine), then a random part for uniqueness.
        name = f"{time.monotonic_ns():020d}_{uuid.uuid4().hex}.{queue}.msg"
        try:
            _write_atomically(Path(self.data_folder_out) / name, dumps(message).encode())
        except OSError as exc:
            raise ChannelError(f"Cannot add a message to {self.data_folder_out}: {exc}") from exc

    def _get(self, queue: str, timeout: float | None = None) -> Any:
        """Take the oldest message of ``queue``; raise ``Empty`` when there is none."""
        suffix = f"{queue}.msg"
        folder = Path(self.data_folder_in)
        taken = Path(self.processed_folder)
        for name in sorted(os.listdir(folder)):
            if name.partition(".")[2] != suffix:
                continue
            claimed = taken / name
            try:
                # Same file system, so a rename: exactly one consumer wins each message.
                os.rename(folder / name, claimed)
            except FileNotFoundError:
                continue  # another consumer took it first
            except OSError as exc:
                raise ChannelError(f"Cannot take message {name} from {folder}: {exc}") from exc
            message, problem = _read_message(claimed)
            if problem:
                self._set_aside(claimed, problem)
                continue
            if not self.store_processed:
                claimed.unlink(missing_ok=True)
            return message
        raise virtual.Empty()

    def _set_aside(self, path: Path, problem: str) -> None:
        corrupt = Path(self.transport_options["corrupt_folder"])
        try:
            corrupt.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
            os.replace(path, corrupt / path.name)
            where = f"moved it to {corrupt}"
        except OSError as exc:
            where = f"could not move it to {corrupt} ({exc}); it stays in {path.parent}"
        logger.error("Broker message %s %s; %s and went on.", path.name, problem, where)

    # --- exchange tables -------------------------------------------------------------------

    @contextlib.contextmanager
    def _tables_locked(self) -> Iterator[None]:
        """Hold the exclusive lock that serialises every read-modify-write of a table."""
        self.control_folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        fd = os.open(self.control_folder / ".lock", os.O_RDWR | os.O_CREAT, FILE_MODE)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    def _exchange_path(self, exchange: str) -> Path:
        # The parent checks the name (no path tricks); the stubs do not know the method.
        path: Path = self._exchange_file(exchange)  # type: ignore[attr-defined]
        return path

    def _read_table(self, exchange: str) -> list[tuple[str, str, str]]:
        file = self._exchange_path(exchange)
        try:
            raw = file.read_bytes()
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise ChannelError(f"Cannot open {file}: {exc}") from exc
        try:
            return [filesystem.exchange_queue_t(*row) for row in loads(raw.decode())]
        except (ValueError, TypeError):
            # Only an older version could have left this; the next bind rewrites it whole.
            logger.error("Broker exchange table %s is unreadable; treating it as empty.", file)
            return []

    def _write_table(self, exchange: str, rows: list[tuple[str, str, str]]) -> None:
        file = self._exchange_path(exchange)
        try:
            _write_atomically(file, dumps([list(row) for row in rows]).encode())
        except OSError as exc:
            raise ChannelError(f"Cannot write {file}: {exc}") from exc

    def get_table(self, exchange: str) -> list[tuple[str, str, str]]:  # type: ignore[override]
        return self._read_table(exchange)

    def _queue_bind(
        self, exchange: str, routing_key: str | None, pattern: str | None, queue: str | None
    ) -> None:
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._tables_locked():
            rows = self._read_table(exchange)
            if row not in rows:
                self._write_table(exchange, [row, *rows])

    def _delete(
        self, queue: str, exchange: str, routing_key: str, pattern: str, *args: Any, **kwargs: Any
    ) -> None:
        virtual.Channel._delete(self, queue, exchange, routing_key, pattern, *args, **kwargs)
        row = filesystem.exchange_queue_t(routing_key or "", pattern or "", queue or "")
        with self._tables_locked():
            rows = self._read_table(exchange)
            if row in rows:
                self._write_table(exchange, [r for r in rows if r != row])


class Transport(filesystem.Transport):
    """kombu's filesystem transport with :class:`Channel`; select it with ``reqflo-fs://``."""

    Channel = Channel
    global_state = virtual.BrokerState()
    driver_type = SCHEME
    driver_name = SCHEME


def broker_folders(root: Path) -> dict[str, Any]:
    """Create the broker's folders under ``root`` (mode 0700) and return the transport options.

    Shape: the ``CELERY_BROKER_TRANSPORT_OPTIONS`` dict for this transport. Consumed messages are
    renamed into ``processed/`` (same file system as ``queue/``, so the rename is atomic) and
    deleted once read; unreadable ones go to ``corrupt/``.
    """
    folders = {name: root / name for name in ("queue", "processed", "control", "corrupt")}
    for folder in (root, *folders.values()):
        folder.mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)
        folder.chmod(FOLDER_MODE)
    return {
        "data_folder_in": str(folders["queue"]),
        "data_folder_out": str(folders["queue"]),
        "processed_folder": str(folders["processed"]),
        "control_folder": str(folders["control"]),
        "corrupt_folder": str(folders["corrupt"]),
        "store_processed": False,
    }


def register() -> None:
    """Make ``reqflo-fs://`` URLs select this transport (idempotent)."""
    TRANSPORT_ALIASES[SCHEME] = f"{__name__}:Transport"

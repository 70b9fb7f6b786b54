"""The embedded broker never serves a half-written message and keeps its files private.

Real processes publish while this one consumes, through kombu's own connection and queue API, as
gunicorn, beat and the Celery worker do in the embedded default (``reqflo/broker.py``).
"""

from __future__ import annotations

import json
import os
import stat
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from kombu import Connection

from bench.broker_race import RaceResult, connection, race
from reqflo import broker


def _connection(root: Path) -> Connection:
    return connection(broker.SCHEME, root)


@pytest.mark.parametrize("round_", range(3))
def test_a_consumer_gets_every_message_whole_once_while_processes_publish(
    tmp_path: Path, round_: int
) -> None:
    # The stock filesystem transport crashes the consumer in most rounds of this same race
    # (bench/broker_race.py; figures in docs/benchmarks.md).
    result = race(scheme=broker.SCHEME, root=tmp_path, publishers=3, messages=150)

    assert result == RaceResult(whole=450, cut_short=0, lost=0, duplicates=0, crash=None)


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _bytes(path: Path) -> None:
    path.write_bytes(b"\xff\xfe not json")


def _json(text: str) -> Callable[[Path], None]:
    return lambda path: path.write_text(text)


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _folder(path: Path) -> None:
    path.mkdir()


JUNK = {
    "empty": (_empty, "is not valid JSON"),
    "bytes": (_bytes, "is not valid JSON"),
    "object": (_json("{}"), "is JSON but not a broker message"),
    "null": (_json("null"), "is JSON but not a broker message"),
    "list": (_json("[1]"), "is JSON but not a broker message"),
    "no properties": (_json('{"body": "x"}'), "is JSON but not a broker message"),
    "fifo": (_fifo, "is not a regular file"),
    "folder": (_folder, "is not a regular file"),
}


@pytest.mark.parametrize("kind", JUNK)
def test_anything_but_a_broker_message_is_set_aside_and_the_next_one_served(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, kind: str
) -> None:
    # What could land in the queue folder: a half-written file from an older version, a stray
    # file, a FIFO that would block a reader, a folder (found by a review: some killed the worker).
    make, words = JUNK[kind]
    # A queue of its own: kombu keeps bindings per process, across broker folders.
    name = f"q{uuid.uuid4().hex}"
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue(name)
        make(tmp_path / "queue" / f"00000000000000000001_dead.{name}.msg")
        queue.put({"ok": True})
        message = queue.get(timeout=10)
        assert message.payload == {"ok": True}
        message.ack()
        queue.close()
    assert [p.name for p in (tmp_path / "corrupt").iterdir()] == [
        f"00000000000000000001_dead.{name}.msg"
    ]
    assert words in caplog.text
    assert "moved it to" in caplog.text


def test_exchange_tables_are_replaced_whole_and_survive_a_broken_one(tmp_path: Path) -> None:
    with _connection(tmp_path) as conn:
        channel = conn.default_channel
        table = tmp_path / "control" / "ex.exchange"
        table.write_text("[[")  # half-written by an older version
        channel.exchange_declare("ex", type="direct")
        for n in range(20):
            channel.queue_declare(f"q{n}")
            channel.queue_bind(f"q{n}", exchange="ex", routing_key=f"k{n}")
        rows = json.loads(table.read_text())
        assert sorted(row[2] for row in rows) == sorted(f"q{n}" for n in range(20))
        channel.queue_delete("q3")
        assert "q3" not in {row[2] for row in json.loads(table.read_text())}
    # No temporary file is left beside the tables.
    assert sorted(p.name for p in (tmp_path / "control").iterdir()) == [".lock", "ex.exchange"]


def test_the_broker_folders_and_messages_are_private(tmp_path: Path) -> None:
    with _connection(tmp_path) as conn:
        queue = conn.SimpleQueue("private")
        queue.put({"n": 1})
        files = list((tmp_path / "queue").iterdir())
        assert len(files) == 1
        assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
        queue.get(timeout=10).ack()
        queue.close()
    for folder in (tmp_path, *(p for p in tmp_path.iterdir() if p.is_dir())):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not list((tmp_path / "processed").iterdir())  # consumed messages are deleted
    assert os.listdir(tmp_path / "queue") == []

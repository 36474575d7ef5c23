"""The local stack's journal: what a crash at any byte leaves, and what it never loses."""

from __future__ import annotations

import threading
from pathlib import Path

from timer_service_local.journal import Journal, dumps, loads, read_journal, write_atomically


def test_records_come_back_in_order_with_bytes_and_sets(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j")
    journal.write({"n": 1, "blob": b"\x00\xff binary"})
    journal.write({"n": 2, "tags": {"a"}})
    journal.close()
    assert list(read_journal(tmp_path / "j")) == [
        {"n": 1, "blob": b"\x00\xff binary"},
        {"n": 2, "tags": ["a"]},
    ]


def test_a_torn_last_line_is_dropped_and_everything_before_it_kept(tmp_path: Path) -> None:
    path = tmp_path / "j"
    whole = dumps({"n": 1}) + dumps({"n": 2})
    torn = dumps({"n": 3, "item": "x" * 100})
    for cut in range(len(torn)):  # a crash at every byte of the last record
        path.write_bytes(whole + torn[:cut])
        assert [r["n"] for r in read_journal(path)] == [1, 2], cut
    path.write_bytes(whole + torn)
    assert [r["n"] for r in read_journal(path)] == [1, 2, 3]


def test_a_corrupt_line_ends_the_journal(tmp_path: Path) -> None:
    path = tmp_path / "j"
    path.write_bytes(dumps({"n": 1}) + b"{not json\n" + dumps({"n": 3}))
    assert [r["n"] for r in read_journal(path)] == [1]


def test_a_missing_journal_reads_as_empty(tmp_path: Path) -> None:
    assert list(read_journal(tmp_path / "none")) == []


def test_concurrent_writers_all_land_whole(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j")

    def write(writer: int) -> None:
        for n in range(200):
            journal.write({"w": writer, "n": n, "pad": "y" * (n % 50)})

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    journal.close()
    records = list(read_journal(tmp_path / "j"))
    assert len(records) == 800
    for writer in range(4):  # each writer's records in its order
        assert [r["n"] for r in records if r["w"] == writer] == list(range(200))


def test_replace_compacts_and_appends_continue_after_it(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "j")
    for n in range(10):
        journal.write({"n": n})
    journal.replace([{"snapshot": 10}])
    journal.write({"n": 10})
    journal.close()
    assert list(read_journal(tmp_path / "j")) == [{"snapshot": 10}, {"n": 10}]
    assert not (tmp_path / "j.partial").exists()


def test_write_atomically_leaves_the_old_file_or_the_new(tmp_path: Path) -> None:
    path = tmp_path / "state"
    write_atomically(path, b"old")
    (tmp_path / "state.partial").write_bytes(b"half of the ne")  # a crash mid-write
    assert path.read_bytes() == b"old"
    write_atomically(path, b"new")
    assert path.read_bytes() == b"new"


def test_loads_is_the_inverse_of_dumps() -> None:
    record = {"b": b"\x01", "nested": {"l": [b"\x02", 3, "s"]}}
    assert loads(dumps(record)) == record

"""A crash while a checkpoint or results.json is being written leaves the previous good file usable, and no
temporary file behind (`lightning_ffnn.atomic`)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from lightning_ffnn import atomic
from lightning_ffnn.atomic import AtomicCheckpointIO, atomic_write_text


class Crash(Exception):
    pass


def _leftovers(directory: Path, keep: str) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != keep)


def test_new_file_replaces_old(tmp_path):
    target = tmp_path / "results.json"
    atomic_write_text(target, '{"old": 1}')
    atomic_write_text(target, '{"new": 2}')
    assert target.read_text() == '{"new": 2}'
    assert _leftovers(tmp_path, "results.json") == []


def test_crash_at_the_rename_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    atomic_write_text(target, '{"good": true}')

    def crash(src, dst):
        raise Crash("power cut")

    monkeypatch.setattr(atomic.os, "replace", crash)
    with pytest.raises(Crash):
        atomic_write_text(target, '{"half": ')
    assert target.read_text() == '{"good": true}'
    assert _leftovers(tmp_path, "results.json") == []


def test_crash_in_the_middle_of_the_write_keeps_the_old_file(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    atomic_write_text(target, "good")

    def crash_before_sync(fd):  # the new bytes sit in the temporary file; the target is untouched so far
        raise Crash("killed mid-write")

    monkeypatch.setattr(atomic.os, "fsync", crash_before_sync)
    with pytest.raises(Crash):
        atomic_write_text(target, "x" * 100_000)
    monkeypatch.undo()
    assert target.read_text() == "good"
    assert _leftovers(tmp_path, "results.json") == []


def test_keyboard_interrupt_mid_write_also_cleans_up(tmp_path, monkeypatch):
    target = tmp_path / "results.json"
    atomic_write_text(target, "good")
    monkeypatch.setattr(atomic.os, "replace", lambda src, dst: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        atomic_write_text(target, "new")
    assert target.read_text() == "good"
    assert _leftovers(tmp_path, "results.json") == []


def test_checkpoint_io_crash_keeps_the_previous_checkpoint_loadable(tmp_path, monkeypatch):
    io = AtomicCheckpointIO()
    path = tmp_path / "checkpoints" / "last.ckpt"
    io.save_checkpoint({"epoch": 1, "state_dict": {"w": torch.ones(3)}}, path)
    monkeypatch.setattr(atomic.os, "replace", lambda src, dst: (_ for _ in ()).throw(Crash("disk full")))
    with pytest.raises(Crash):
        io.save_checkpoint({"epoch": 2, "state_dict": {"w": torch.zeros(3)}}, path)
    loaded = io.load_checkpoint(path)
    assert loaded["epoch"] == 1 and torch.equal(loaded["state_dict"]["w"], torch.ones(3))
    assert _leftovers(path.parent, "last.ckpt") == []


def test_write_creates_missing_directories(tmp_path):
    target = tmp_path / "a" / "b" / "results.json"
    atomic_write_text(target, "ok")
    assert target.read_text() == "ok"

"""The demo's command-centre token file is readable by its owner only, from its first byte."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from gridflow.demo import write_secret


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_token_file_is_0600_whatever_the_umask(tmp_path: Path) -> None:
    path = tmp_path / "home" / "demo-token.txt"
    old = os.umask(0)  # the widest umask: the mode must come from os.open, not from the umask
    try:
        write_secret(path, "secret-token\n")
    finally:
        os.umask(old)
    assert _mode(path) == 0o600
    assert path.read_text(encoding="utf-8") == "secret-token\n"


def test_an_older_world_readable_file_is_replaced_not_reused(tmp_path: Path) -> None:
    path = tmp_path / "demo-token.txt"
    path.write_text("old\n")
    path.chmod(0o644)  # as the demo wrote it before
    old_inode = path.stat().st_ino
    write_secret(path, "new\n")
    assert _mode(path) == 0o600
    assert path.read_text() == "new\n"
    assert path.stat().st_ino != old_inode  # a new file: nobody holding the old one open reads the new token
    assert [p.name for p in tmp_path.iterdir()] == ["demo-token.txt"]  # no temporary file left


def test_a_symlink_in_the_way_is_not_followed(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("untouched\n")
    path = tmp_path / "demo-token.txt"
    path.symlink_to(target)
    write_secret(path, "new\n")
    assert target.read_text() == "untouched\n"
    assert not path.is_symlink() and _mode(path) == 0o600

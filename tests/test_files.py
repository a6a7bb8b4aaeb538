"""Safe file I/O (spikec.ir.files): modes, symbolic links, bounded reads, located decode errors."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from spikec.errors import DslError, NetworkFileError
from spikec.ir.files import atomic_file, atomic_path, read_text_limited, write_text_atomic


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask():
    """Set the umask for one test and restore it."""
    old = os.umask(0o022)
    yield lambda mask: os.umask(mask)
    os.umask(old)


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_gets_the_umask_mode(tmp_path: Path, umask, mask: int, expected: int) -> None:
    umask(mask)
    out = tmp_path / "net.json"
    write_text_atomic(out, "{}")
    assert _mode(out) == expected  # what open(path, "w") gives: 0o666 & ~umask
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert _mode(plain) == expected


@pytest.mark.parametrize("existing", [0o644, 0o600, 0o640, 0o755])
def test_existing_file_keeps_its_mode(tmp_path: Path, umask, existing: int) -> None:
    umask(0o077)
    out = tmp_path / "net.json"
    out.write_text("old")
    out.chmod(existing)
    write_text_atomic(out, "new")
    assert out.read_text() == "new"
    assert _mode(out) == existing


def test_symlink_is_written_through(tmp_path: Path) -> None:
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    write_text_atomic(link, "new")
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text() == "new"
    # a link to a file that does not exist yet creates that file
    dangling = tmp_path / "later.json"
    (tmp_path / "to-later.json").symlink_to(dangling)
    write_text_atomic(tmp_path / "to-later.json", "made")
    assert dangling.read_text() == "made"


def test_interrupted_write_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "net.json"
    out.write_text("old")
    with pytest.raises(KeyboardInterrupt), atomic_file(out) as fh:
        fh.write(b"half")
        raise KeyboardInterrupt
    assert out.read_text() == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json"]
    with pytest.raises(RuntimeError), atomic_path(tmp_path / "new.h5") as tmp:
        tmp.write_bytes(b"x")
        raise RuntimeError("writer failed")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["net.json"]


def test_read_text_limited_refuses_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.spk"
    big.write_bytes(b"x" * 101)
    with pytest.raises(DslError, match=r"big\.spk: 101 bytes is more than the 100 bytes a source may hold"):
        read_text_limited(big, 100, what="source", error=DslError)
    assert read_text_limited(big, 101) == "x" * 101
    with pytest.raises(NetworkFileError, match="/dev/zero: not a regular file"):
        read_text_limited("/dev/zero", 10**9)
    with pytest.raises(NetworkFileError, match="is a directory"):
        read_text_limited(tmp_path, 10)
    with pytest.raises(NetworkFileError, match=r"nope\.json: no such file"):
        read_text_limited(tmp_path / "nope.json", 10)


def test_read_text_limited_locates_the_first_bad_byte(tmp_path: Path) -> None:
    bad = tmp_path / "bad.spk"
    bad.write_bytes("neuron a\nneuron é\xff".encode("utf-8", "surrogateescape")[:-2] + b"\xff rest")
    with pytest.raises(DslError) as info:
        read_text_limited(bad, 1000, what="source", error=DslError)
    loc = info.value.location
    assert (loc.line, loc.column) == (2, 9)  # 'neuron ' is 7 bytes, 'é' is 2: the byte after is column 9
    assert "0xff" in info.value.message
    bom = tmp_path / "bom.spk"
    bom.write_bytes(b"\xef\xbb\xbfneuron a\n")
    assert read_text_limited(bom, 100) == "neuron a\n"


def test_read_text_limited_refuses_a_fifo_without_waiting(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.spk"
    os.mkfifo(fifo)  # no writer: a blocking open would wait forever
    with pytest.raises(NetworkFileError, match="pipe.spk: not a regular file"):
        read_text_limited(fifo, 100)


def test_json_errors_echo_lines_of_json_files_only(tmp_path: Path) -> None:
    from spikec.ir.files import read_json

    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n")
    link = tmp_path / "net.json"
    link.symlink_to(secret)
    with pytest.raises(NetworkFileError) as info:
        read_json(link)
    assert info.value.location is not None and info.value.location.line == 1
    assert "root:x" not in str(info.value)
    plain = tmp_path / "bad.json"
    plain.write_text('{"a": oops}\n')
    with pytest.raises(NetworkFileError) as info:
        read_json(plain)
    assert '{"a": oops}' in str(info.value)  # a real .json file: the line and a caret

"""Writing output files without ever harming the archive or a previous output.

Every command that writes a file goes through here: the target is refused if it is the archive or one of the
files beside it (compared by identity, however the path is spelled), and it is written to a temporary file in
the target's folder that replaces the target only once complete, so a killed or failed write leaves the
previous file as it was.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, TextIO, cast

from newscrawl.archive import companion_paths

PARTIAL_SUFFIX = ".partial"
# One path component a fixture group or case may be named: no separator, no leading dot (so no "..").
SAFE_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")


class UnsafeTarget(ValueError):
    """An output path that would overwrite the archive, or leave the folder it must stay in."""


def _archive_files(db: str | Path) -> list[Path]:
    """Every spelling of the archive's files: as given and resolved (SQLite keeps -wal beside the real file)."""
    given = Path(db)
    return [*companion_paths(given), *companion_paths(given.resolve())]


def check_target(target: str | Path, db: str | Path | None) -> Path:
    """The resolved target, or UnsafeTarget if it is the archive db or one of its companion files (same path once
    resolved, or the same device and inode: a hard link). Also refuses a folder, or a folder that does not exist."""
    path = Path(target)
    resolved = path.resolve()
    if db is not None:
        for archive_file in _archive_files(db):
            if resolved == archive_file.resolve() or (
                    resolved.exists() and archive_file.exists() and os.path.samefile(resolved, archive_file)):
                raise UnsafeTarget(f"refusing to write to {path}: it is the archive {db}"
                                   + ("" if archive_file.name == Path(db).name else f" (its file {archive_file.name})"))
    if resolved.is_dir():
        raise UnsafeTarget(f"cannot write to {path}: it is a folder")
    if not resolved.parent.is_dir():
        raise UnsafeTarget(f"cannot write to {path}: folder {path.parent} does not exist")
    return resolved


def check_stream(stream: IO[Any], db: str | Path) -> None:
    """Refuse an already open output that is one of the archive's files (stdout appended to it: `>> news.db`)."""
    try:
        stat = os.fstat(stream.fileno())
    except (OSError, ValueError):  # not backed by a file descriptor (captured in tests, say): nothing to harm
        return
    for archive_file in _archive_files(db):
        try:
            if os.path.samestat(stat, archive_file.stat()):
                raise UnsafeTarget(f"refusing to write to standard output: it is the archive {db}")
        except FileNotFoundError:
            continue


def atomic_text(target: str | Path, *, db: str | Path | None = None) -> AbstractContextManager[TextIO]:
    """atomic_output for text (UTF-8, newlines as written)."""
    return cast(AbstractContextManager[TextIO], atomic_output(target, db=db))


def atomic_binary(target: str | Path, *, db: str | Path | None = None) -> AbstractContextManager[BinaryIO]:
    """atomic_output for bytes."""
    return cast(AbstractContextManager[BinaryIO], atomic_output(target, db=db, binary=True))


@contextmanager
def atomic_output(target: str | Path, *, db: str | Path | None = None, binary: bool = False) -> Iterator[IO[Any]]:
    """An open file that becomes `target` only when the block finishes without error.

    The data goes to a temporary file beside the target (same filesystem, so the final rename is atomic) that
    is removed if the block raises; a target that is not a regular file (/dev/null, a pipe) is written directly.
    """
    path = check_target(target, db)
    text_options: dict[str, Any] = {} if binary else {"encoding": "utf-8", "newline": ""}
    mode = "wb" if binary else "w"
    if path.exists() and not path.is_file():
        with open(path, mode, **text_options) as direct:
            yield direct
        return
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=PARTIAL_SUFFIX)
    try:
        with os.fdopen(fd, mode, **text_options) as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def safe_name(value: str, what: str = "name") -> str:
    """A single path component (letters, digits, '_', '.', '-'; not starting with '.'), else UnsafeTarget."""
    if not SAFE_NAME.fullmatch(value):
        raise UnsafeTarget(f"{what} {value!r} must be one plain name (letters, digits, _ . -, not starting with "
                           "a dot), so it stays inside its folder")
    return value


def inside(root: str | Path, *names: str) -> Path:
    """root/names..., refusing a result that resolves outside root (e.g. through a symlinked subfolder)."""
    base = Path(root).resolve()
    path = base.joinpath(*names).resolve()
    if not path.is_relative_to(base):
        raise UnsafeTarget(f"refusing to write to {path}: it is outside {base}")
    return path

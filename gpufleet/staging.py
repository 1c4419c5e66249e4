"""Write outputs whole or not at all, and leave nothing behind when killed.

A result directory is written into a hidden sibling (`.NAME.XXXX.staging`) and then
swapped in. Where the system can (Linux's `renameat2` with RENAME_EXCHANGE), an existing
output and the new one trade places in one atomic step: a process killed at any instant
leaves the old output or the new one under the name, complete. Elsewhere the old output
is first moved into a hidden `.NAME.XXXX.old/run` and the new one renamed in; a kill
between the two renames leaves the name empty for a moment, and the next write to that
name moves the old output back first.

Each hidden sibling is locked (`flock`) by the process that made it for as long as it
works in it, and the kernel drops the lock when the process dies, however it dies. So a
sibling whose lock can be taken is provably abandoned, and the next write to the same
name removes it (siblings still locked belong to a live writer and are left alone).
Single files go the same way: `.NAME.XXXX.tmp`, then one `os.replace`.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from gpufleet.errors import InputError, Problem

STAGING, RETIRED, TEMPORARY = ".staging", ".old", ".tmp"
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@contextmanager
def staged_directory(out_dir: str | Path) -> Iterator[Path]:
    """Yield an empty hidden sibling of `out_dir` to write into; on success it replaces
    `out_dir` (atomically where the system allows), on any error it is removed and
    `out_dir` stays as it was.

    Raises:
        InputError: when the output cannot be written (permissions, a full disk, ...).
    """
    out_dir = Path(out_dir)
    try:
        out_dir.parent.mkdir(parents=True, exist_ok=True)
        clean_abandoned(out_dir)
        staging, lock = _locked_directory(out_dir, STAGING)
    except OSError as exc:
        raise InputError([Problem(f"cannot write: {exc.strerror}", file=str(out_dir))]) from None
    try:
        os.chmod(staging, 0o755)
        yield staging
        if not exchange(staging, out_dir):
            _replace_in_two_renames(staging, out_dir)
        shutil.rmtree(staging, ignore_errors=True)  # the old output, after an exchange
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise InputError([Problem(f"cannot write: {exc.strerror or exc}", file=str(out_dir))]) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        os.close(lock)


def write_whole(path: str | Path, text: str) -> None:
    """Write `text` to `path` whole or not at all (a locked hidden sibling, then one rename).

    Raises:
        InputError: when the file cannot be written.
    """
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        clean_abandoned(path)
        handle, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMPORARY, dir=path.parent)
    except OSError as exc:
        raise InputError([Problem(f"cannot write: {exc.strerror}", file=str(path))]) from None
    temporary = Path(name)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise InputError([Problem(f"cannot write: {exc.strerror}", file=str(path))]) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def exchange(new: Path, old: Path) -> bool:
    """Swap `new` into `old`'s place in one atomic step (`new` then holds what `old` held),
    or rename `new` to `old` when there is no `old`. False when the system cannot exchange."""
    if not old.exists():
        os.rename(new, old)
        return True
    renameat2 = getattr(_libc(), "renameat2", None)
    if renameat2 is None:
        return False
    if renameat2(_AT_FDCWD, os.fsencode(new), _AT_FDCWD, os.fsencode(old), _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(old))


def clean_abandoned(out: str | Path) -> list[Path]:
    """Remove the hidden siblings of `out` left by writers that died; first, if `out` is
    missing and a dead writer had moved the old output aside, put it back. Returns what
    was removed."""
    out = Path(out)
    prefix = f".{out.name}."
    try:
        names = sorted(name for name in os.listdir(out.parent)
                       if name.startswith(prefix) and name.endswith((STAGING, RETIRED, TEMPORARY)))
    except OSError:
        return []
    removed: list[Path] = []
    for sibling in (out.parent / name for name in names):
        lock = _try_lock(sibling)
        if lock is None:
            continue  # a live writer's
        try:
            if sibling.name.endswith(RETIRED) and not out.exists() and (sibling / "run").is_dir():
                os.rename(sibling / "run", out)
            if sibling.is_dir():
                shutil.rmtree(sibling, ignore_errors=True)
            else:
                sibling.unlink(missing_ok=True)
            removed.append(sibling)
        finally:
            os.close(lock)
    return removed


def _replace_in_two_renames(staging: Path, out_dir: Path) -> None:
    retired, lock = _locked_directory(out_dir, RETIRED)
    try:
        os.rename(out_dir, retired / "run")
        try:
            os.rename(staging, out_dir)
        except OSError:
            os.rename(retired / "run", out_dir)
            raise
        shutil.rmtree(retired, ignore_errors=True)
    finally:
        os.close(lock)


def _locked_directory(out: Path, suffix: str) -> tuple[Path, int]:
    """A new hidden sibling directory of `out`, locked by this process (fd returned)."""
    while True:
        folder = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=suffix, dir=out.parent))
        lock = os.open(folder, os.O_RDONLY)
        fcntl.flock(lock, fcntl.LOCK_EX)
        if os.fstat(lock).st_nlink > 0:
            return folder, lock
        # Another writer's cleaning took it for abandoned in the instant before the lock.
        os.close(lock)


def _try_lock(path: Path) -> int | None:
    try:
        lock = os.open(path, os.O_RDONLY)
    except OSError:
        return None
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(lock)
        return None
    if os.fstat(lock).st_nlink == 0:  # removed by another cleaner meanwhile
        os.close(lock)
        return None
    return lock


_LIBC: ctypes.CDLL | None = None


def _libc() -> ctypes.CDLL:
    global _LIBC
    if _LIBC is None:
        _LIBC = ctypes.CDLL(None, use_errno=True)
    return _LIBC

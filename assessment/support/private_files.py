"""Files and folders only the account running the app may open: the instance folder, the secret
key, the database with its -wal and -shm files, and backups. They hold every answer, account and
password hash, so their modes are set here explicitly rather than left to the umask (SQLite alone
creates a database readable by every local user)."""

from __future__ import annotations

import os
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def make_folder(path: str | Path) -> None:
    """Create the folder (and any missing parents) if needed; the folder itself owner-only."""
    Path(path).mkdir(mode=FOLDER_MODE, parents=True, exist_ok=True)


def create_file(path: str | Path) -> int:
    """Create a new, empty owner-only file and return its open descriptor for writing;
    FileExistsError when anything is there already."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)


def tighten(path: str | Path) -> None:
    """Make an existing file or folder owner-only (an install made before this rule); a path
    that does not exist is left alone."""
    path = Path(path)
    if path.is_dir():
        path.chmod(FOLDER_MODE)
    elif path.exists():
        path.chmod(FILE_MODE)

"""Where the history lives, and its error; no database library is imported here.

The audit stores every run, so this module and :mod:`pathsec.store.save` stay light:
SQLAlchemy (:mod:`pathsec.store.db`) is imported only for other databases, a SQLite file
with only some of the tables, and reading the history.
"""

from __future__ import annotations

import os
from pathlib import Path

from pathsec.atomic import make_private_dirs
from pathsec.errors import PathsecError

ENV_DB = "PATHSEC_DB"


class StoreError(PathsecError):
    """The history database could not be reached or used (exit code 3)."""


def default_db_url() -> str:
    """``$PATHSEC_DB``, else SQLite in the user data directory (created when missing)."""
    env = os.environ.get(ENV_DB)
    if env:
        return env
    import platformdirs

    base = Path(platformdirs.user_data_dir("pathsec", appauthor=False))
    make_private_dirs(base)  # 0700: the history holds every finding of every run
    return f"sqlite:///{base / 'history.sqlite3'}"


def sqlite_file(url: str) -> str | None:
    """The file of a plain ``sqlite:///PATH`` URL (as SQLAlchemy reads it), else None.

    None for anything else: other databases, drivers or options (``sqlite+pysqlite://``,
    ``?mode=ro``), in-memory and ``file:`` URI databases, and escaped characters; those
    go through SQLAlchemy.
    """
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix) :]
    if not path or path == ":memory:" or path.startswith("file:") or any(c in path for c in "?%#"):
        return None
    return path

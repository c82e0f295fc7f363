"""Where the binder lives: home, database URL and file store, resolved in one place.

Order for the home: `--home`, then `CAREBINDER_HOME`, then the platform's user data dir.
Order for the database: `--db`, then `CAREBINDER_DATABASE_URL`, then `binder.db` in the home.
Order for the file store: `--store`, then `CAREBINDER_STORE`, then `files/` in the home.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

HOME_ENV = "CAREBINDER_HOME"
DATABASE_ENV = "CAREBINDER_DATABASE_URL"
STORE_ENV = "CAREBINDER_STORE"
PATIENT_ENV = "CAREBINDER_PATIENT"
# Every variable carebinder reads to find the binder.
ENVIRONMENT = (HOME_ENV, DATABASE_ENV, STORE_ENV, PATIENT_ENV)
DATABASE_FILE = "binder.db"
STORE_DIR = "files"
STATE_FILE = "state.json"

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    # The store chosen with --store or CAREBINDER_STORE; None: `files/` in the home.
    store: Path | None = None

    @property
    def store_dir(self) -> Path:
        return self.home / STORE_DIR if self.store is None else self.store

    @property
    def store_is_own(self) -> bool:
        """True when the store is the `files/` folder of a SQLite binder in its home: part
        of that binder, made again if it goes missing. Any other store (chosen, or beside a
        server database) is used only where it is, so an unmounted share is never replaced
        by an empty local folder."""
        return self.store is None and self.uses_default_database

    @property
    def state_file(self) -> Path:
        """Per-user choices such as the patient picked with `patient use`."""
        return self.home / STATE_FILE

    @property
    def sqlite_path(self) -> Path | None:
        """The database file when the binder is SQLite on disk, else None."""
        return sqlite_path(self.database_url)

    @property
    def uses_default_database(self) -> bool:
        return self.sqlite_path == self.home / DATABASE_FILE


def default_home() -> Path:
    from platformdirs import user_data_path

    return user_data_path("carebinder", appauthor=False)


def resolve(
    home: Path | None = None,
    database_url: str | None = None,
    environ: Mapping[str, str] | None = None,
    store: Path | None = None,
) -> Settings:
    """Settings from explicit options, then the environment, then the defaults."""
    env = os.environ if environ is None else environ
    if home is None:
        home = Path(env[HOME_ENV]) if env.get(HOME_ENV) else default_home()
    home = home.expanduser().absolute()
    url = database_url or env.get(DATABASE_ENV) or f"sqlite:///{home / DATABASE_FILE}"
    if store is None and env.get(STORE_ENV):
        store = Path(env[STORE_ENV])
    if store is not None:
        store = store.expanduser().absolute()
    return Settings(home=home, database_url=url, store=store)


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (`sqlite:///x.db`, `sqlite+pysqlite:///x.db`), else None."""
    scheme, separator, rest = url.partition(":///")
    if not separator or scheme.split("+", 1)[0] != "sqlite":
        return None
    rest = rest.split("?", 1)[0]
    if rest in ("", ":memory:"):
        return None
    return Path(rest)


def make_private_dir(path: Path) -> None:
    """Create `path` (and parents) and make it owner-only."""
    path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    if (path.stat().st_mode & 0o777) != PRIVATE_DIR:
        path.chmod(PRIVATE_DIR)


def make_private_file(path: Path) -> None:
    """Create `path` if missing, owner-only, without truncating it.

    An existing file is never opened, only chmod-ed: closing any descriptor of a SQLite
    database releases every POSIX lock this process holds on it, which would let another
    process checkpoint and reset the WAL under a connection still using it.
    """
    if not path.exists():
        with contextlib.suppress(FileExistsError):
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE_FILE))
    if (path.stat().st_mode & 0o777) != PRIVATE_FILE:
        path.chmod(PRIVATE_FILE)


# --- the patient chosen with `patient use` (kept per user, per database) -------------------


def _state_key(settings: Settings) -> str:
    return hashlib.sha256(settings.database_url.encode()).hexdigest()[:16]


def remembered_patient(settings: Settings) -> int | None:
    """The patient chosen for this database, or None."""
    try:
        data = json.loads(settings.state_file.read_text(encoding="utf-8"))
        value = data.get("current_patient", {}).get(_state_key(settings))
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, int) else None


def remember_patient(settings: Settings, patient_id: int | None) -> None:
    """Choose `patient_id` for this database (None: forget the choice). The state file is
    written whole to a temporary name, then renamed over the old one: never half written."""
    try:
        data = json.loads(settings.state_file.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    current = data.setdefault("current_patient", {})
    if patient_id is None:
        current.pop(_state_key(settings), None)
    else:
        current[_state_key(settings)] = patient_id
    make_private_dir(settings.home)
    tmp = settings.state_file.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, indent=2)
    tmp.replace(settings.state_file)

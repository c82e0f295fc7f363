"""config: where the binder lives, and owner-only files and folders."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs
import pytest

from carebinder import config
from tests.conftest import mode

# --- home -----------------------------------------------------------------------------------


def test_explicit_home_beats_the_environment(tmp_path: Path) -> None:
    settings = config.resolve(
        home=tmp_path / "explicit", environ={config.HOME_ENV: str(tmp_path / "from-env")}
    )
    assert settings.home == tmp_path / "explicit"


def test_environment_home_beats_the_default(tmp_path: Path) -> None:
    settings = config.resolve(environ={config.HOME_ENV: str(tmp_path / "from-env")})
    assert settings.home == tmp_path / "from-env"


def test_default_home_is_the_platform_user_data_dir() -> None:
    settings = config.resolve(environ={})
    expected = platformdirs.user_data_path("carebinder", appauthor=False).absolute()
    assert settings.home == expected
    assert settings.home == config.default_home().absolute()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="XDG layout is Linux's")
def test_default_home_follows_xdg_data_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert config.resolve(environ={}).home == tmp_path / "xdg" / "carebinder"


def test_an_empty_home_variable_means_the_default() -> None:
    settings = config.resolve(environ={config.HOME_ENV: ""})
    assert settings.home == config.default_home().absolute()


def test_resolve_reads_the_process_environment_by_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(config.HOME_ENV, str(tmp_path / "process-env"))
    monkeypatch.setenv(config.DATABASE_ENV, "sqlite:////srv/binders/x.db")

    settings = config.resolve()

    assert settings.home == tmp_path / "process-env"
    assert settings.database_url == "sqlite:////srv/binders/x.db"


def test_home_is_made_absolute_and_user_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    monkeypatch.chdir(tmp_path)

    assert config.resolve(home=Path("~/binder"), environ={}).home == tmp_path / "user" / "binder"
    assert config.resolve(home=Path("relative"), environ={}).home == tmp_path / "relative"
    assert config.resolve(environ={config.HOME_ENV: "rel-env"}).home == tmp_path / "rel-env"


def test_derived_paths(tmp_path: Path) -> None:
    settings = config.resolve(home=tmp_path / "h", environ={})
    assert settings.store_dir == tmp_path / "h" / "files"
    assert settings.state_file == tmp_path / "h" / "state.json"


# --- database URL ---------------------------------------------------------------------------


def test_explicit_database_url_beats_the_environment(tmp_path: Path) -> None:
    settings = config.resolve(
        home=tmp_path,
        database_url="sqlite:////explicit/a.db",
        environ={config.DATABASE_ENV: "sqlite:////env/b.db"},
    )
    assert settings.database_url == "sqlite:////explicit/a.db"
    assert settings.sqlite_path == Path("/explicit/a.db")
    assert not settings.uses_default_database


def test_environment_database_url_beats_the_default(tmp_path: Path) -> None:
    settings = config.resolve(
        home=tmp_path, environ={config.DATABASE_ENV: "postgresql://carebinder@db.example/binder"}
    )
    assert settings.database_url == "postgresql://carebinder@db.example/binder"
    assert settings.sqlite_path is None
    assert not settings.uses_default_database


def test_default_database_is_binder_db_in_the_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    settings = config.resolve(home=home, environ={})
    assert settings.database_url == f"sqlite:///{home / 'binder.db'}"
    assert settings.sqlite_path == home / "binder.db"
    assert settings.uses_default_database


def test_default_database_follows_the_environment_home(tmp_path: Path) -> None:
    settings = config.resolve(environ={config.HOME_ENV: str(tmp_path / "env-home")})
    assert settings.sqlite_path == tmp_path / "env-home" / "binder.db"
    assert settings.uses_default_database


def test_database_url_pointing_at_the_home_counts_as_default(tmp_path: Path) -> None:
    settings = config.resolve(
        home=tmp_path, database_url=f"sqlite:///{tmp_path / 'binder.db'}", environ={}
    )
    assert settings.uses_default_database


def test_odd_home_names_round_trip_through_the_url(tmp_path: Path) -> None:
    home = tmp_path / "Application Support" / "Øyvind Nguyễn's binder"
    settings = config.resolve(home=home, environ={})
    assert settings.sqlite_path == home / "binder.db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:////var/lib/binder.db", Path("/var/lib/binder.db")),
        ("sqlite:///relative/binder.db", Path("relative/binder.db")),
        ("sqlite:////tmp/binder.db?timeout=20", Path("/tmp/binder.db")),
        ("sqlite:////tmp/My Binder/binder.db", Path("/tmp/My Binder/binder.db")),
        ("sqlite://", None),
        ("sqlite:///", None),
        ("sqlite:///:memory:", None),
        ("sqlite:///:memory:?cache=shared", None),
        ("postgresql://u:p@localhost/binder", None),
        ("postgresql+psycopg://u@localhost:5432/binder", None),
        ("mysql://u@localhost/sqlite", None),
    ],
)
def test_sqlite_path(url: str, expected: Path | None) -> None:
    assert config.sqlite_path(url) == expected


def test_sqlite_path_with_an_explicit_driver() -> None:
    assert config.sqlite_path("sqlite+pysqlite:////var/lib/binder.db") == Path("/var/lib/binder.db")


# --- private files and folders --------------------------------------------------------------


def test_make_private_dir_creates_owner_only_folders(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "home"
    config.make_private_dir(target)
    assert target.is_dir()
    assert mode(target) == 0o700


def test_make_private_dir_tightens_an_existing_folder(tmp_path: Path) -> None:
    target = tmp_path / "home"
    target.mkdir()
    target.chmod(0o755)
    (target / "kept.txt").write_text("kept")

    config.make_private_dir(target)

    assert mode(target) == 0o700
    assert (target / "kept.txt").read_text() == "kept"


def test_make_private_dir_tightens_group_only_access(tmp_path: Path) -> None:
    target = tmp_path / "home"
    target.mkdir()
    target.chmod(0o770)
    config.make_private_dir(target)
    assert mode(target) == 0o700


def test_make_private_dir_leaves_a_private_folder_alone(tmp_path: Path) -> None:
    target = tmp_path / "home"
    target.mkdir(mode=0o700)
    target.chmod(0o700)
    before = target.stat().st_ctime_ns
    config.make_private_dir(target)
    assert mode(target) == 0o700
    assert target.stat().st_ctime_ns == before  # no needless chmod


def test_make_private_file_creates_an_empty_owner_only_file(tmp_path: Path) -> None:
    target = tmp_path / "binder.db"
    config.make_private_file(target)
    assert target.is_file()
    assert target.read_bytes() == b""
    assert mode(target) == 0o600


@pytest.mark.parametrize("loose", [0o644, 0o666, 0o640, 0o604])
def test_make_private_file_tightens_without_truncating(tmp_path: Path, loose: int) -> None:
    target = tmp_path / "binder.db"
    target.write_bytes(b"SQLite format 3\x00 patient data")
    target.chmod(loose)

    config.make_private_file(target)

    assert mode(target) == 0o600
    assert target.read_bytes() == b"SQLite format 3\x00 patient data"


def test_make_private_file_keeps_a_private_file_as_it_is(tmp_path: Path) -> None:
    target = tmp_path / "binder.db"
    target.write_bytes(b"content")
    target.chmod(0o600)
    config.make_private_file(target)
    assert mode(target) == 0o600
    assert target.read_bytes() == b"content"


# --- the file store ---------------------------------------------------------------------------


def test_the_store_is_files_in_the_home_by_default(tmp_path: Path) -> None:
    settings = config.resolve(home=tmp_path / "home", environ={})
    assert settings.store is None
    assert settings.store_dir == tmp_path / "home" / "files"
    assert settings.store_is_own


def test_store_option_beats_the_environment_which_beats_the_default(tmp_path: Path) -> None:
    env = {config.STORE_ENV: str(tmp_path / "from-env")}
    chosen = config.resolve(home=tmp_path / "h", environ=env, store=tmp_path / "explicit")
    assert chosen.store_dir == tmp_path / "explicit"
    from_env = config.resolve(home=tmp_path / "h", environ=env)
    assert from_env.store_dir == tmp_path / "from-env"
    assert not from_env.store_is_own


def test_an_empty_store_variable_means_the_default(tmp_path: Path) -> None:
    settings = config.resolve(home=tmp_path / "h", environ={config.STORE_ENV: ""})
    assert settings.store_dir == tmp_path / "h" / "files"


def test_a_relative_store_is_made_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = config.resolve(home=tmp_path / "h", environ={}, store=Path("team/files"))
    assert settings.store_dir == tmp_path / "team" / "files"


def test_a_server_database_has_no_store_of_its_own(tmp_path: Path) -> None:
    """Beside a server database, even files/ in the home is a store like a chosen one:
    never made again by ordinary commands."""
    settings = config.resolve(
        home=tmp_path / "h", database_url="postgresql+psycopg://u@/db", environ={}
    )
    assert settings.store_dir == tmp_path / "h" / "files"
    assert not settings.store_is_own

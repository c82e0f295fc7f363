"""The everyday commands load only what they need: start-up time is the first thing a
person notices. Each command runs in a fresh interpreter and reports its `sys.modules`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Cli

# Libraries that only some commands need (packet, import/export, calendar, backup, db).
HEAVY = frozenset(
    {
        "reportlab",
        "pikepdf",
        "PIL",
        "pypdf",
        "fhir",
        "fhir_core",
        "pydantic",
        "icalendar",
        "cryptography",
        "alembic",
        "rich",
        # The web face's: only `serve` loads them.
        "starlette",
        "jinja2",
        "uvicorn",
        "multipart",
        "python_multipart",
        "anyio",
    }
)

PROBE = """
import gc, json, sys
sys.argv = ["carebinder", *sys.argv[1:]]
from carebinder.cli import main
code = 0
try:
    main()
except SystemExit as exit:
    code = exit.code or 0
sys.stdout.flush()
names = sorted({m.split(".")[0] for m in sys.modules})
collector = {"enabled": gc.isenabled(), "frozen": gc.get_freeze_count()}
cli = sorted(m for m in sys.modules if m.startswith("carebinder.cli."))
report = {"exit": code, "modules": names, "cli": cli, "gc": collector}
sys.__stderr__.write("MODULES " + json.dumps(report))
"""


def probe(home: Path, *args: str) -> dict[str, Any]:
    """Run `carebinder ARGS` as the console script does, in a fresh interpreter."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "CAREBINDER_HOME": str(home)},
        check=False,
    )
    report: dict[str, Any] = json.loads(result.stderr.rpartition("MODULES ")[2])
    assert report["exit"] == 0, result.stderr  # the command itself worked
    return report


def loaded_by(home: Path, *args: str) -> set[str]:
    return set(probe(home, *args)["modules"])


@pytest.mark.parametrize(
    "args",
    [
        ("--help",),
        ("--version",),
        ("doctor", "list"),
        ("record", "list"),
        ("import", "--help"),
        ("serve", "--help"),
    ],
)
def test_everyday_commands_load_no_heavy_library(
    binder: Cli, home: Path, args: tuple[str, ...]
) -> None:
    loaded = loaded_by(home, *args)
    assert not loaded & HEAVY, f"{' '.join(args)} loaded {sorted(loaded & HEAVY)}"


def test_a_command_loads_its_own_module_only(binder: Cli, home: Path) -> None:
    loaded = probe(home, "doctor", "list")["cli"]
    # cli.common and cli.options are what every command module shares.
    assert loaded == ["carebinder.cli.common", "carebinder.cli.doctors", "carebinder.cli.options"]


def test_the_command_table_names_what_each_module_registers() -> None:
    # app_for() finds a command's module by this table, without importing the others.
    import carebinder.cli
    from carebinder.cli import COMMANDS, App, register

    for names, module_name in COMMANDS:
        probe_app = App()
        register(probe_app, names, module_name)
        registered = [c.name for c in probe_app.registered_commands]
        registered += [g.name for g in probe_app.registered_groups]
        assert tuple(registered) == names, module_name
    listed = {module_name for _, module_name in COMMANDS}
    on_disk = {
        p.stem
        for p in Path(carebinder.cli.__file__).parent.glob("*.py")
        if p.stem not in {"__init__", "common", "options", "reading", "tables"}  # helpers
    }
    assert listed == on_disk  # a new command module must be listed to be reachable


def test_help_does_not_load_the_database_layer(binder: Cli, home: Path) -> None:
    assert "sqlalchemy" not in loaded_by(home, "--help")


def test_the_probe_sees_a_heavy_import(binder: Cli, home: Path, tmp_path: Path) -> None:
    # The check above could pass by never seeing anything: `export --format fhir` must load
    # the FHIR models, and the probe must say so.
    target = tmp_path / "out.json"
    loaded = loaded_by(home, "export", "--format", "fhir", "-o", str(target))
    assert target.exists()
    assert {"fhir", "pydantic"} <= loaded


def test_serve_loads_the_web_face_and_no_other_commands_libraries(binder: Cli, home: Path) -> None:
    """A port taken by another program stops `serve` once its imports are done: what it
    loaded by then is the web face's, and none of the packet's, the import's or backup's."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = str(taken.getsockname()[1])
        result = subprocess.run(
            [sys.executable, "-c", PROBE, "serve", "--no-browser", "--port", port],
            capture_output=True,
            text=True,
            env={**os.environ, "CAREBINDER_HOME": str(home)},
            check=False,
        )
    report = json.loads(result.stderr.rpartition("MODULES ")[2])
    assert report["exit"] == 1
    assert "cannot listen on port" in result.stderr
    loaded = set(report["modules"])
    assert {"starlette", "jinja2", "uvicorn"} <= loaded
    assert not loaded & {"reportlab", "pikepdf", "fhir", "icalendar", "cryptography", "alembic"}


@pytest.mark.parametrize(
    "args",
    [
        ("doctor", "list"),
        ("record", "add", "lab", "CBC"),
        ("db", "status"),
        ("verify",),
        ("export", "-o", "{tmp}/binder.json"),
        ("audit",),
        ("demo", "--out", "{tmp}/sample.pdf"),
    ],
)
def test_garbage_collection_resumes_once_a_command_has_started(
    binder: Cli, home: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    # The console script turns the collector off while the command's imports run; a
    # command that never turned it back on would keep every reference cycle it made.
    report = probe(home, *(a.format(tmp=tmp_path) for a in args))
    assert report["gc"]["enabled"]
    assert report["gc"]["frozen"] > 10_000  # the imports' objects, out of the collector's way


@pytest.mark.parametrize(
    ("argv", "command"),
    [
        (["doctor", "list"], "doctor"),
        (["--home", "/x", "--patient", "2", "record", "list"], "record"),
        (["--db=sqlite:///x.db", "packet", "1"], "packet"),
        (["--store", "/mnt/team/files", "record", "add"], "record"),
        (["--help"], None),
        (["--version"], None),
        ([], None),
        (["--patient"], None),
    ],
)
def test_the_command_is_found_after_the_global_options(
    argv: list[str], command: str | None
) -> None:
    from carebinder.cli import requested_command

    assert requested_command(argv) == command


def test_a_command_runs_in_a_program_of_its_own_and_a_typo_in_the_whole(binder: Cli) -> None:
    from carebinder.cli import app, app_for

    slim = app_for("doctor")
    assert slim is not app
    assert [g.name for g in slim.registered_groups] == ["doctor"]
    assert app_for("backup").registered_commands[0].name == "backup"
    assert app_for("docter") is app  # so the user hears "Did you mean 'doctor'?"
    assert app_for(None) is app


def test_the_console_script_runs_a_command_as_the_whole_program_does(
    binder: Cli, home: Path
) -> None:
    env = {**os.environ, "CAREBINDER_HOME": str(home)}
    program = str(Path(sys.executable).with_name("carebinder"))
    listed = subprocess.run(
        [program, "patient", "list", "--json"], capture_output=True, text=True, env=env
    )
    assert listed.returncode == 0, listed.stderr
    assert json.loads(listed.stdout) == json.loads(binder.ok("patient", "list", "--json").stdout)
    typo = subprocess.run([program, "docter", "list"], capture_output=True, text=True, env=env)
    assert typo.returncode == 2
    assert "Did you mean 'doctor'?" in typo.stderr

"""The architecture's rules (DESIGN.md), checked on the source itself.

Each rule is read off the code's syntax trees, so a change that breaks one fails here with
the file and line, before anyone has to notice it in review:

- only `db.session_scope` commits: services and faces never do;
- the faces (`cli/`, and `web/` once it exists) build no queries: they call services;
- services know nothing of a face (no Typer, Click or Starlette, no `cli`/`web` import);
- the packet's render side (and every module it imports) needs no database;
- no module imports another module's `_private` names;
- every exception class is defined in `errors.py`;
- no module is over 500 lines.
"""

from __future__ import annotations

import ast
import builtins
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "carebinder"
FACES = ("cli", "web")
QUERY_CONSTRUCTS = frozenset({"select", "insert", "update", "delete", "text", "func"})
FACE_LIBRARIES = ("typer", "click", "starlette", "uvicorn", "carebinder.cli", "carebinder.web")
DATABASE = ("sqlalchemy", "alembic", "carebinder.db", "carebinder.models", "carebinder.services")
# The packet's render side: plain data in, PDF out. `gather.py` is the one half that reads.
RENDER_SIDE = (
    "carebinder.packet.assemble",
    "carebinder.packet.build",
    "carebinder.packet.data",
    "carebinder.packet.images",
    "carebinder.packet.layout",
    "carebinder.packet.record_pages",
    "carebinder.packet.render",
    "carebinder.packet.rtl",
    "carebinder.packet.styles",
    "carebinder.packet.timeline",
    "carebinder.packet.triage",
)
MAX_LINES = 500


@dataclass(frozen=True)
class Module:
    name: str  # carebinder.packet.render
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]

    def where(self, node: ast.AST) -> str:
        return f"{self.path.relative_to(SRC)}:{getattr(node, 'lineno', 0)}"


@functools.cache
def modules() -> dict[str, Module]:
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(SRC).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = Module(name, path, ast.parse(path.read_text(encoding="utf-8"), str(path)))
    return found


def in_package(*packages: str) -> list[Module]:
    prefixes = tuple(f"carebinder.{p}" for p in packages)
    return [m for n, m in modules().items() if n in prefixes or n.startswith(prefixes)]


def _type_checking_only(tree: ast.Module) -> set[int]:
    """The ids of the nodes under `if TYPE_CHECKING:`: imported for annotations only."""
    hidden: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                hidden.update(id(n) for n in ast.walk(child))
    return hidden


@dataclass(frozen=True)
class Import:
    module: str  # absolute: carebinder.services.patients, sqlalchemy.orm
    names: tuple[str, ...]  # what `from module import …` took; () for `import module`
    node: ast.AST
    for_annotations: bool


def imports(module: Module) -> Iterator[Import]:
    """Every import in the module, at any depth (a function's lazy imports too)."""
    hidden = _type_checking_only(module.tree)
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield Import(alias.name, (), node, id(node) in hidden)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.package.split(".")
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, *([base] if base else [])])
            yield Import(base, tuple(a.name for a in node.names), node, id(node) in hidden)


def is_within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


# --- the rules: each returns what breaks it, as "file:line what" ------------------------------


def commits(mods: list[Module]) -> list[str]:
    found = []
    for module in mods:
        allowed: set[int] = set()
        if module.name == "carebinder.db":
            for node in module.tree.body:
                if isinstance(node, ast.FunctionDef) and node.name == "session_scope":
                    allowed = {id(n) for n in ast.walk(node)}
        for node in ast.walk(module.tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "commit"
                and id(node) not in allowed
            ):
                found.append(module.where(node))
    return found


def queries(mods: list[Module]) -> list[str]:
    found = []
    for module in mods:
        for imported in imports(module):
            if is_within(imported.module, ("sqlalchemy",)):
                taken = sorted(QUERY_CONSTRUCTS.intersection(imported.names))
                if taken or (not imported.names and not imported.for_annotations):
                    found.append(f"{module.where(imported.node)} {imported.module} {taken}")
        for node in ast.walk(module.tree):  # sqlalchemy.select(...) through a module name
            if (
                isinstance(node, ast.Attribute)
                and node.attr in QUERY_CONSTRUCTS
                and ast.unparse(node.value).split(".")[0] in {"sqlalchemy", "sa"}
            ):
                found.append(f"{module.where(node)} {ast.unparse(node)}")
    return found


def faces(mods: list[Module]) -> list[str]:
    return [
        f"{module.where(imported.node)} {imported.module}"
        for module in mods
        for imported in imports(module)
        if is_within(imported.module, FACE_LIBRARIES)
    ]


def database_needs(name: str, known: dict[str, Module]) -> dict[str, str]:
    """The database modules `name` imports, at any depth and through every carebinder
    module it reaches (annotation-only imports aside): import → where."""
    needs: dict[str, str] = {}
    todo, seen = [name], set()
    while todo:
        current = todo.pop()
        if current in seen or current not in known:
            continue
        seen.add(current)
        module = known[current]
        for imported in imports(module):
            if imported.for_annotations:
                continue
            # `from carebinder.packet import data` imports the module carebinder.packet.data
            for target in [imported.module, *(f"{imported.module}.{n}" for n in imported.names)]:
                if is_within(target, DATABASE):
                    needs.setdefault(target, module.where(imported.node))
                todo.append(target)
    return needs


def private_imports(mods: list[Module], known: dict[str, Module]) -> list[str]:
    found = []
    for module in mods:
        aliases: dict[str, str] = {}  # local name → the carebinder module it stands for
        for imported in imports(module):
            if not is_within(imported.module, ("carebinder",)):
                continue
            private = [n for n in imported.names if _private(n)]
            if private and imported.module != module.name:
                found.append(f"{module.where(imported.node)} {imported.module} {private}")
            node = imported.node
            assert isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names:
                full = f"{imported.module}.{alias.name}" if imported.names else alias.name
                if full in known:
                    local = alias.asname or (alias.name if imported.names else full)
                    aliases[local] = full
        for node in ast.walk(module.tree):
            if (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and ast.unparse(node.value) in aliases
                and aliases[ast.unparse(node.value)] != module.name
            ):
                found.append(f"{module.where(node)} {aliases[ast.unparse(node.value)]}.{node.attr}")
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def exception_names() -> set[str]:
    """Builtin exception names, and the classes `errors.py` defines."""
    names = {
        n for n, v in vars(builtins).items() if isinstance(v, type) and issubclass(v, BaseException)
    }
    errors = modules()["carebinder.errors"].tree
    return names | {n.name for n in ast.walk(errors) if isinstance(n, ast.ClassDef)}


def error_classes(mods: list[Module]) -> list[str]:
    exceptions = exception_names()
    found = []
    for module in mods:
        if module.name == "carebinder.errors":
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.ClassDef):
                bases = {ast.unparse(b).rpartition(".")[2] for b in node.bases}
                if bases & exceptions or any(
                    b.endswith(("Error", "Exception", "Warning")) for b in bases
                ):
                    found.append(f"{module.where(node)} class {node.name}")
    return found


# --- on the code -------------------------------------------------------------------------------


def test_only_session_scope_commits() -> None:
    """Services and faces leave the transaction to `db.session_scope`: one command or one
    request is one transaction, saved whole or not at all."""
    assert commits(list(modules().values())) == []


def test_the_faces_build_no_queries() -> None:
    """`cli/` (and `web/`) parse, call one service, and print: a query in a face would be
    an operation the other face cannot share."""
    assert queries(in_package(*FACES)) == []


def test_services_know_no_face() -> None:
    """A service serves both faces: it raises carebinder's errors, never a face's own."""
    assert faces(in_package("services", "packet", "fhir", "backup", "verify", "search")) == []


@pytest.mark.parametrize("name", RENDER_SIDE)
def test_the_packets_render_side_needs_no_database(name: str) -> None:
    """Render takes plain data: it can be tested, and run in another process, without a
    binder. Only `packet/gather.py` reads the database."""
    assert database_needs(name, modules()) == {}


def test_no_module_imports_anothers_private_names() -> None:
    """A `_name` is its module's own business: what two modules share gets a public name."""
    assert private_imports(list(modules().values()), modules()) == []


def test_error_classes_are_defined_in_errors_py() -> None:
    """One error family in one place: each face turns it into its own words."""
    assert error_classes(list(modules().values())) == []


def test_no_module_is_over_500_lines() -> None:
    """A module a newcomer can read in one sitting: past that, split it by concept."""
    sizes = {
        str(m.path.relative_to(SRC)): len(m.path.read_text(encoding="utf-8").splitlines())
        for m in modules().values()
    }
    assert {path: n for path, n in sizes.items() if n > MAX_LINES} == {}


# --- the rules catch what they look for --------------------------------------------------------

SAMPLE = """\
import sqlalchemy as sa
from sqlalchemy import select
from carebinder.cli.common import _hidden
import carebinder.packet.gather as g
from carebinder import db


class Lost(ValueError):
    pass


def f(session):
    session.commit()
    db._engine_for()
    return sa.func.count(), g._private, _hidden
"""


def sample(name: str, source: str) -> Module:
    parts = name.split(".")[1:]
    return Module(name, PACKAGE.joinpath(*parts[:-1], parts[-1] + ".py"), ast.parse(source))


def test_each_rule_finds_what_breaks_it() -> None:
    """A rule that can find nothing cannot fail: each one catches a sample that breaks it."""
    bad = sample("carebinder.cli.sample", SAMPLE)
    assert commits([bad]) == ["carebinder/cli/sample.py:13"]
    assert queries([bad]) == [
        "carebinder/cli/sample.py:1 sqlalchemy []",
        "carebinder/cli/sample.py:2 sqlalchemy ['select']",
        "carebinder/cli/sample.py:15 sa.func",
    ]
    assert private_imports([bad], modules()) == [
        "carebinder/cli/sample.py:3 carebinder.cli.common ['_hidden']",
        "carebinder/cli/sample.py:14 carebinder.db._engine_for",
        "carebinder/cli/sample.py:15 carebinder.packet.gather._private",
    ]
    assert error_classes([bad]) == ["carebinder/cli/sample.py:8 class Lost"]
    service = sample("carebinder.services.sample", "import typer\nfrom ..cli import common\n")
    assert faces([service]) == [
        "carebinder/services/sample.py:1 typer",
        "carebinder/services/sample.py:2 carebinder.cli",
    ]
    render = sample("carebinder.packet.sample", "from . import gather\n")
    known = {**modules(), render.name: render}
    needs = database_needs(render.name, known)
    assert needs["sqlalchemy"].startswith("carebinder/packet/gather.py:")  # through gather

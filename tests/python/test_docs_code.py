"""The Python code blocks of the guides (README.md, docs/*.md) cannot drift from the API.

Every ```python block is compiled (top-level ``await`` allowed, as the asyncio
examples use it) and checked against the installed package: each
``import dragonboat...`` / ``from dragonboat... import X`` and each
``dragonboat.X.Y`` resolves, each call of a dragonboat function or class binds
to its signature (argument count and keyword names), and each method or
attribute used on a variable of a known dragonboat type (``nh``, a
``Session``, a ``RequestState``, ... as far as simple assignments tell) exists.

Then the blocks RUN, a document's blocks in order in one namespace, in a
subprocess of their own (a hung or leaking block cannot take pytest with it).
The namespace starts with what the guides take as given (PRELUDE below):
``import dragonboat``, ``from dragonboat import *``, a ``KV`` state machine
(also named ``MyStateMachine``) and, when a block uses it, ``nh``: a NodeHost on
a free loopback port in a temporary directory running group 100 as its only
member, node 3, with a leader.

Markers, an HTML comment on the line before the block (invisible on GitHub and
on the site):

* ``<!-- skip-test: why -->``: checked as above, not run (a fragment);
* ``<!-- test-setup: code -->``: ``code`` runs first, in the same namespace.

docs/docs-site.md describes this for writers of the guides.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import json
import re
import subprocess
import sys
import types
import typing
from pathlib import Path
from typing import Any

import pytest

import dragonboat

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`]*)$")
_MARKER = re.compile(r"^\s*<!--\s*(?P<kind>skip-test|test-setup)\s*(?::\s*(?P<arg>.*?))?\s*-->\s*$")


@dataclasses.dataclass
class Block:
    path: Path
    line: int  # of the opening fence, 1-based
    source: str
    skip: str | None = None  # the reason, when marked skip-test
    setup: str = ""

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(ROOT)}:{self.line}"


def python_blocks(path: Path) -> list[Block]:
    """The ```python blocks of a Markdown file, with their markers."""
    lines = path.read_text().splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        m = _FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, indent = m["fence"], len(m["indent"])
        end = i + 1
        while end < len(lines) and not re.match(
                rf"^ {{0,3}}{re.escape(fence[0])}{{{len(fence)},}}\s*$", lines[end]):
            end += 1
        info = m["info"].split()
        if info and info[0] in ("python", "py", "python3"):
            # CommonMark: the fence's indentation is removed from each line (at most that much).
            body = "\n".join(line[min(indent, len(line) - len(line.lstrip(" "))):]
                             for line in lines[i + 1:end])
            block = Block(path, i + 1, body + "\n")
            j = i - 1
            while j >= 0 and (marker := _MARKER.match(lines[j])):
                if marker["kind"] == "skip-test":
                    block.skip = marker["arg"] or "marked skip-test"
                else:
                    block.setup = (marker["arg"] or "") + "\n" + block.setup
                j -= 1
            blocks.append(block)
        i = end + 1
    return blocks


ALL_BLOCKS = [b for doc in DOCUMENTS for b in python_blocks(doc)]


def compile_block(source: str, where: str) -> types.CodeType:
    code: types.CodeType = compile(source, where, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                                   dont_inherit=True)
    return code


# ---- the static check ---------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Instance:
    """A value known to be an instance of ``cls``."""

    cls: type


def _instance_of(annotation: object) -> Instance | None:
    """The class of a return annotation: ``C``, ``C | None`` -> C; anything else None."""
    if isinstance(annotation, type) and annotation is not type(None):
        return Instance(annotation)
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and len(args) == 1:
        return _instance_of(args[0])
    return None


def _returns(fn: Any) -> Instance | None:
    """What calling ``fn`` gives, as far as its annotations say."""
    if isinstance(fn, type):
        return Instance(fn)
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # pybind11 functions, unresolvable forward references
        return None
    return _instance_of(hints.get("return"))


def _has_attribute(cls: type, name: str) -> bool:
    if hasattr(cls, name):
        return True
    if dataclasses.is_dataclass(cls) and name in {f.name for f in dataclasses.fields(cls)}:
        return True
    return any(name in getattr(c, "__slots__", ()) or name in getattr(c, "__annotations__", {})
               for c in cls.__mro__)


class Checker(ast.NodeVisitor):
    """Resolves every dragonboat name a block uses; collects what does not resolve."""

    def __init__(self, path: str, first_line: int, known: dict[str, object]) -> None:
        self.path = path
        self.first_line = first_line  # the file's line of the code's line 1
        self.known = known  # variable -> module / object / Instance
        self.problems: list[str] = []

    def problem(self, node: ast.AST, text: str) -> None:
        line = self.first_line + getattr(node, "lineno", 1) - 1
        self.problems.append(f"{self.path}:{line}: {text}")

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] != "dragonboat":
                continue
            try:
                importlib.import_module(alias.name)
            except ImportError as e:
                self.problem(node, f"import {alias.name}: {e}")
                continue
            self.known[alias.asname or "dragonboat"] = importlib.import_module(
                alias.name if alias.asname else "dragonboat")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if not node.module or node.module.split(".")[0] != "dragonboat":
            return
        try:
            module = importlib.import_module(node.module)
        except ImportError as e:
            self.problem(node, f"from {node.module} import ...: {e}")
            return
        for alias in node.names:
            if alias.name == "*":
                continue
            try:
                obj = getattr(module, alias.name)
            except AttributeError:
                try:
                    obj = importlib.import_module(f"{node.module}.{alias.name}")
                except ImportError:
                    self.problem(node, f"from {node.module} import {alias.name}: no such name")
                    continue
            self.known[alias.asname or alias.name] = obj

    def resolve(self, node: ast.expr) -> object | None:
        """The object or Instance an expression denotes, if known; reports a missing attribute."""
        if isinstance(node, ast.Name):
            return self.known.get(node.id)
        if isinstance(node, ast.Attribute):
            base = self.resolve(node.value)
            if base is None:
                return None
            if isinstance(base, Instance):
                if not _has_attribute(base.cls, node.attr):
                    self.problem(node, f"{base.cls.__qualname__} has no attribute {node.attr!r}")
                    return None
                static = inspect.getattr_static(base.cls, node.attr, None)
                member = getattr(base.cls, node.attr, None)
                if isinstance(static, property):
                    return _returns(static.fget)
                if callable(member) and not isinstance(static, (staticmethod, classmethod)):
                    return types.MethodType(member, base)  # bound: its signature has no self
                return member if callable(member) else None
            if not hasattr(base, node.attr):
                self.problem(node, f"{getattr(base, '__name__', base)} has no attribute "
                                   f"{node.attr!r}")
                return None
            value: object = getattr(base, node.attr)
            return value
        if isinstance(node, ast.Call):
            fn = self.resolve(node.func)
            if fn is None or isinstance(fn, Instance):
                return None
            self.check_call(node, fn)
            return _returns(fn)
        return None

    def check_call(self, node: ast.Call, fn: object) -> None:
        if any(isinstance(a, ast.Starred) for a in node.args) or any(
                k.arg is None for k in node.keywords):
            return
        try:
            sig = inspect.signature(fn)  # type: ignore[arg-type]
        except (TypeError, ValueError):  # a pybind11 function: no signature to bind
            return
        try:
            sig.bind(*node.args, **{k.arg: k.value for k in node.keywords if k.arg})
        except TypeError as e:
            self.problem(node, f"{ast.unparse(node.func)}(...): {e}")

    def visit_Assign(self, node: ast.Assign) -> None:
        value = self.resolve(node.value)
        self.generic_visit_children(node.value)
        for target in node.targets:
            if isinstance(target, ast.Name):
                if isinstance(value, Instance):
                    self.known[target.id] = value
                else:
                    self.known.pop(target.id, None)

    def visit_With(self, node: ast.With) -> None:
        for item in node.items:
            value = self.resolve(item.context_expr)
            self.generic_visit_children(item.context_expr)
            if isinstance(item.optional_vars, ast.Name):
                if isinstance(value, Instance):
                    enter = getattr(value.cls, "__enter__", None)
                    value = _returns(enter) if enter is not None else None
                if isinstance(value, Instance):
                    self.known[item.optional_vars.id] = value
        for stmt in node.body:
            self.visit(stmt)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        self.resolve(node)
        self.generic_visit_children(node.value)

    def visit_Call(self, node: ast.Call) -> None:
        self.resolve(node)
        self.generic_visit_children(node.func)
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            self.visit(arg)

    def generic_visit_children(self, node: ast.expr) -> None:
        """Visits what is inside ``node`` without resolving ``node`` itself again."""
        if isinstance(node, ast.Attribute):
            self.generic_visit_children(node.value)
        elif isinstance(node, ast.Call):
            self.generic_visit_children(node.func)
            for arg in [*node.args, *(k.value for k in node.keywords)]:
                self.visit(arg)
        elif not isinstance(node, ast.Name):
            self.visit(node)


def given_names() -> dict[str, object]:
    """What PRELUDE defines, for the static check."""
    known: dict[str, object] = {"dragonboat": dragonboat}
    known.update({name: getattr(dragonboat, name) for name in dragonboat.__all__})
    known["nh"] = Instance(dragonboat.NodeHost)
    return known


def check_document(path: Path) -> dict[int, list[str]]:
    """The problems of each block of a document (by the line of its fence), its blocks
    checked in order: a name an earlier block bound is known to the later ones."""
    known = given_names()
    problems: dict[int, list[str]] = {}
    for block in python_blocks(path):
        problems[block.line] = []
        shown = str(block.path.relative_to(ROOT))
        # The setup is on the marker's line (before the fence), the code after it.
        for source, first_line in ((block.setup, block.line - 1), (block.source, block.line + 1)):
            try:
                tree = ast.parse(source, block.where)
            except SyntaxError as e:
                problems[block.line].append(f"{block.where}: {e}")
                continue
            checker = Checker(shown, first_line, known)
            checker.visit(tree)
            problems[block.line] += checker.problems
    return problems


@pytest.mark.parametrize("block", ALL_BLOCKS, ids=[b.where for b in ALL_BLOCKS])
def test_block_compiles_and_uses_only_existing_api(block: Block) -> None:
    compile_block(block.setup, f"setup of {block.where}")
    compile_block(block.source, block.where)  # what ast.parse does not check (await, ...)
    assert check_document(block.path)[block.line] == []


def test_markdown_has_python_blocks() -> None:
    """The extraction works: the guides' known blocks are found."""
    names = {b.path.name for b in ALL_BLOCKS}
    assert {"README.md", "python.md"} <= names
    assert sum(1 for b in ALL_BLOCKS if b.skip) <= max(3, len(ALL_BLOCKS) // 4), \
        "most blocks must run: mark only fragments skip-test"


# ---- running them -------------------------------------------------------------------------

PRELUDE = '''
import socket, time
import dragonboat
from dragonboat import *


class KV(dragonboat.StateMachine):
    """b"key=value" sets a key; a query is a key."""

    def __init__(self):
        self.data = {}

    def update(self, data):
        key, _, value = data.decode().partition("=")
        self.data[key] = value
        return len(self.data)

    def lookup(self, query):
        return self.data.get(query)

    def save_snapshot(self, writer):
        writer.write("\\n".join(f"{k}={v}" for k, v in self.data.items()).encode())

    def recover_from_snapshot(self, reader):
        text = reader.read().decode()
        self.data = dict(line.split("=", 1) for line in text.splitlines() if line)


MyStateMachine = KV


def _start_nh(tmp):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{s.getsockname()[1]}"
    nh = NodeHost(NodeHostConfig(node_host_dir=f"{tmp}/nh", raft_address=address,
                                 rtt_millisecond=10))
    nh.start_cluster({3: address}, False, lambda c, n: KV(),
                     Config(node_id=3, cluster_id=100, election_rtt=10))
    deadline = time.monotonic() + 30
    while not nh.get_leader_id(100)[1]:
        if time.monotonic() > deadline:
            raise RuntimeError("group 100 elected no leader in 30 s")
        time.sleep(0.01)
    return nh
'''

RUNNER = '''
import ast, asyncio, inspect, json, sys, traceback
spec = json.load(sys.stdin)
ns = {"__name__": "__docs__"}
exec(compile(spec["prelude"], "<prelude>", "exec"), ns)
if spec["needs_nh"]:
    ns["nh"] = ns["_start_nh"](spec["tmp"])
try:
    for block in spec["blocks"]:
        for what, source in (("setup of " + block["where"], block["setup"]),
                             (block["where"], block["source"])):
            code = compile(source, what, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
                           dont_inherit=True)
            try:
                result = eval(code, ns)
                if inspect.iscoroutine(result):
                    asyncio.run(result)
            except BaseException:
                print(f"FAILED: {what}", file=sys.stderr)
                traceback.print_exc()
                sys.exit(1)
finally:
    if "nh" in ns and hasattr(ns["nh"], "stop"):
        ns["nh"].stop()
'''


def _uses_name(source: str, name: str) -> bool:
    return any(isinstance(n, ast.Name) and n.id == name for n in ast.walk(ast.parse(source)))


RUNNABLE = {doc: [b for b in python_blocks(doc) if not b.skip] for doc in DOCUMENTS}


@pytest.mark.parametrize("doc", [d for d in DOCUMENTS if RUNNABLE[d]],
                         ids=[d.name for d in DOCUMENTS if RUNNABLE[d]])
def test_blocks_run(doc: Path, tmp_path: Path) -> None:
    blocks = RUNNABLE[doc]
    spec = {
        "prelude": PRELUDE,
        "tmp": str(tmp_path),
        "needs_nh": any(_uses_name(b.setup + b.source, "nh") for b in blocks),
        "blocks": [{"where": b.where, "setup": b.setup, "source": b.source} for b in blocks],
    }
    try:
        proc = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps(spec),
                              capture_output=True, text=True, timeout=120, cwd=tmp_path)
    except subprocess.TimeoutExpired as e:  # run() killed the child
        pytest.fail(f"{doc.name}: the blocks did not finish in 120 s\n{e.stderr!r}")
    assert proc.returncode == 0, f"{doc.name}:\n{proc.stderr[-4000:]}"

"""Types from ``dragonboat/_core.pyi`` for the parts of the API that are the
pybind11 extension itself (``Session``, ``RequestResult``, ``CompressionType``,
the event structs, ``dragonboat.plugins``).

autodoc documents runtime objects. The pure-Python wrappers (``NodeHost``,
``RequestState``, the config dataclasses, ...) carry real annotations, which
autodoc reads. The extension's classes only have pybind11's docstring
signatures, which name C++-side types (``typing.SupportsInt |
typing.SupportsIndex`` for an int, ``dragonboat._core.Session`` for the public
``dragonboat.Session``, ``object`` for a ``Result``), and their properties have
no type at all. The stub is what mypy checks user code against, so it is the
contract to show; this extension puts it on the page:

* ``autodoc-process-signature``: the stub's signature replaces pybind11's for a
  method, function or class of the extension;
* the ``py:property`` directive is extended to take its ``:type:`` from the
  stub when autodoc gave none (autodoc reads a property's type from its
  getter's signature, which a pybind11 getter does not expose).

Stub names are rewritten to the public names the objects are documented
under (``Session`` -> ``dragonboat.Session``, ``LeaderInfo`` ->
``dragonboat.events.LeaderInfo``), so every type in a signature is a link.
"""

from __future__ import annotations

import ast
import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

from sphinx.application import Sphinx
from sphinx.domains.python import PyProperty
from sphinx.util import logging
from sphinx.util.typing import ExtensionMetadata

LOGGER = logging.getLogger(__name__)

# The modules whose names are the public API, first the one a name is
# preferably documented under.
PUBLIC_MODULES = ("dragonboat", "dragonboat.events", "dragonboat.plugins")
# Names the stub takes from typing / collections.abc.
TYPING_NAMES = {"Callable": "collections.abc.Callable", "Any": "typing.Any"}


@dataclass
class Stub:
    """What the stub says, keyed by stub names (``Session.is_noop``)."""

    signatures: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    attribute_types: dict[str, str] = field(default_factory=dict)
    # public full name (``dragonboat.Session``) -> stub name (``Session``)
    public_to_stub: dict[str, str] = field(default_factory=dict)

    def key(self, full_name: str) -> str | None:
        """The stub name of a documented object or member, if the extension defines it."""
        if full_name in self.public_to_stub:
            return self.public_to_stub[full_name]
        owner, _, member = full_name.rpartition(".")
        if owner in self.public_to_stub:
            return f"{self.public_to_stub[owner]}.{member}"
        return None


def _public_names(core: ModuleType) -> dict[int, str]:
    """id(object) -> its public full name, for every public object."""
    names: dict[int, str] = {}
    for modname in PUBLIC_MODULES:
        module = importlib.import_module(modname)
        for attr in getattr(module, "__all__", None) or dir(module):
            if attr.startswith("_"):
                continue
            obj = getattr(module, attr)
            names.setdefault(id(obj), f"{modname}.{attr}")
    return names


class _Qualify(ast.NodeTransformer):
    """Rewrites the names in an annotation to public full names; drops ``Final[...]``."""

    def __init__(self, names: dict[str, str]) -> None:
        self.names = names

    def visit_Name(self, node: ast.Name) -> ast.AST:
        return ast.Name(id=self.names.get(node.id, node.id), ctx=node.ctx)

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        if isinstance(node.value, ast.Name) and node.value.id == "Final":
            inner: ast.AST = self.visit(node.slice)
            return inner
        return self.generic_visit(node)


def load_stub(path: Path) -> Stub:
    import dragonboat._core as core

    tree = ast.parse(path.read_text(), str(path))
    public = _public_names(core)
    stub = Stub()
    # stub name -> the public name of the same runtime object
    names: dict[str, str] = dict(TYPING_NAMES)
    for node in tree.body:
        if isinstance(node, ast.ImportFrom) and node.module:
            module = importlib.import_module(node.module)
            for alias in node.names:
                obj = getattr(module, alias.name, None)
                if obj is not None and id(obj) in public:
                    names[alias.asname or alias.name] = public[id(obj)]
        elif isinstance(node, (ast.ClassDef, ast.FunctionDef)):
            obj = getattr(core, node.name, None)
            if obj is not None and id(obj) in public:
                names[node.name] = public[id(obj)]
                stub.public_to_stub[public[id(obj)]] = node.name
    qualify = _Qualify(names)

    def annotation(expr: ast.expr | None) -> str | None:
        return None if expr is None else ast.unparse(qualify.visit(expr))

    def signature(fn: ast.FunctionDef, method: bool) -> tuple[str, str | None]:
        args = fn.args
        static = any(isinstance(d, ast.Name) and d.id == "staticmethod"
                     for d in fn.decorator_list)
        if method and not static:  # drop self
            if args.posonlyargs:
                args.posonlyargs = args.posonlyargs[1:]
            elif args.args:
                args.args = args.args[1:]
        for a in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
            if a is not None and a.annotation is not None:
                a.annotation = qualify.visit(a.annotation)
        return f"({ast.unparse(args)})", annotation(fn.returns)

    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            stub.signatures[node.name] = signature(node, method=False)
        elif isinstance(node, ast.ClassDef):
            if any(ast.unparse(b) in ("enum.Enum", "Enum") for b in node.bases):
                stub.attribute_types[f"{node.name}.name"] = "str"
                stub.attribute_types[f"{node.name}.value"] = "int"
            for item in node.body:
                key = f"{node.name}.{getattr(item, 'name', '')}"
                if isinstance(item, ast.FunctionDef):
                    if any(isinstance(d, ast.Name) and d.id == "property"
                           for d in item.decorator_list):
                        stub.attribute_types[key] = annotation(item.returns) or ""
                    else:
                        stub.signatures[key] = signature(item, method=True)
                elif isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    stub.attribute_types[f"{node.name}.{item.target.id}"] = (
                        annotation(item.annotation) or "")
    return stub


_STUB: Stub | None = None


def _stub() -> Stub:
    global _STUB
    if _STUB is None:
        import dragonboat._core as core

        _STUB = load_stub(Path(core.__file__).with_name("_core.pyi"))
    return _STUB


def process_signature(app: Sphinx, what: str, name: str, obj: Any, options: Any,
                      signature: str | None, return_annotation: str | None
                      ) -> tuple[str, str | None] | None:
    stub = _stub()
    key = stub.key(name)
    if key is None or signature is None:
        # Not the extension's, or nothing to replace: autodoc found no signature
        # (a class without a constructor, made by the library: Session.new,
        # InProcessNetwork.transport_factory, ...).
        return None
    if what in ("property", "attribute"):
        # pybind11's getter signature ("name(self: object, /) -> str") is no header
        # for a property: its type comes from the stub (StubTypedProperty).
        return "", None
    if what in ("class", "exception"):
        # The stub's constructor; none there (an enum): no signature either.
        init = stub.signatures.get(f"{key}.__init__")
        replacement = ("" if init is None else init[0]), None
    else:
        replacement = stub.signatures.get(key)
    if replacement is not None and replacement[0]:
        _check_names(name, signature, replacement[0])
    return replacement


def _parameter_names(args: str) -> list[str] | None:
    """The parameter names of a signature's "(...)" (None if it is not Python)."""
    try:
        fn = ast.parse(f"def f{args}: pass").body[0]
    except SyntaxError:  # pybind11 shows some defaults as reprs: "<CompressionType.LZ4: 2>"
        return None
    assert isinstance(fn, ast.FunctionDef)
    a = fn.args
    names = [p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs]]
    return [n for n in names if n != "self"]


def _check_names(name: str, runtime: str, stub: str) -> None:
    """The stub must describe the extension as it is: a parameter renamed in the C++
    binding but not in _core.pyi is a warning (an error under -W)."""
    have, want = _parameter_names(runtime), _parameter_names(stub)
    if have is not None and want is not None and have != want:
        LOGGER.warning("pyi_types: %s takes (%s) in the extension, but _core.pyi says (%s)",
                       name, ", ".join(have), ", ".join(want))


class StubTypedProperty(PyProperty):
    """``py:property`` that takes ``:type:`` from the stub when none was given."""

    def handle_signature(self, sig: str, signode: Any) -> tuple[str, str]:
        if not self.options.get("type"):
            modname = self.options.get("module", self.env.ref_context.get("py:module"))
            classname = self.env.ref_context.get("py:class")
            name = sig.strip()
            # As PyObject.handle_signature: the class may be named in the signature too.
            if classname and not (name.startswith(f"{classname}.")):
                name = f"{classname}.{name}"
            key = _stub().key(f"{modname}.{name}" if modname else name)
            typ = _stub().attribute_types.get(key) if key else None
            if typ:
                self.options["type"] = typ
        return super().handle_signature(sig, signode)


def setup(app: Sphinx) -> ExtensionMetadata:
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-signature", process_signature)
    app.add_directive_to_domain("py", "property", StubTypedProperty, override=True)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

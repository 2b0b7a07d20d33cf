"""Sphinx configuration of the documentation site (docs/docs-site.md).

Build: ``scripts/dev.sh docs``, or
``build/venv/bin/python -m sphinx -W --keep-going -n -b html docs build/docs/html``.
The API reference documents the INSTALLED ``dragonboat`` package (autodoc
imports it, extension included), so install it first (``pip install .``).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import dragonboat
from dragonboat import errors

if TYPE_CHECKING:
    from docutils.nodes import Element
    from sphinx.addnodes import pending_xref
    from sphinx.application import Sphinx
    from sphinx.environment import BuildEnvironment

sys.path.insert(0, str(Path(__file__).parent / "_ext"))

project = "dragonboat"
author = "The dragonboat (C++/Python) developers"
copyright = "The dragonboat (C++/Python) developers, Apache-2.0"  # noqa: A001 - Sphinx's name
release = version = dragonboat.__version__

extensions = [
    # The user guides are Markdown (docs/*.md, also read on GitHub): MyST parses
    # them as they are, links between them and to their headings included.
    "myst_parser",
    # The API reference: imports the installed package, the compiled extension
    # included, and reads docstrings and type hints from the runtime objects.
    "sphinx.ext.autodoc",
    # Ours (docs/_ext/pyi_types.py): the extension's classes typed from _core.pyi.
    "pyi_types",
]
# Nothing else: no intersphinx (no network where the site is built, and the
# links would go to other sites), no napoleon (the docstrings are plain reST),
# no doctest (the guides' code blocks are run by tests/python/test_docs_code.py,
# with the NodeHost and ports such blocks need), default theme (alabaster, a
# Sphinx dependency: no extra package to install).

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", ".DS_Store"]

# Every reference must resolve (the same as `sphinx -n`): a renamed class or
# method shows up as a build error, not as a dead link.
nitpicky = True
nitpick_ignore = [
    # Standard-library types in signatures: no intersphinx inventory (no network),
    # so they cannot link; builtins and typing.* are exempt already.
    ("py:class", "collections.abc.Callable"),
    ("py:class", "collections.abc.Mapping"),
    ("py:class", "_asyncio.Future"),  # asyncio.Future's __module__
    ("py:class", "os.PathLike"),
    # Type variables of generic functions (retry's T): not API objects.
    ("py:class", "dragonboat.retry.T"),
]
nitpick_ignore_regex = [
    # The same for every collections.abc type (Iterator, Mapping[str, str] in
    # dragonboat.metrics' signatures, which Sphinx splits at the comma).
    ("py:class", r"collections\.abc\..*"),
    # prometheus_client's own classes (dragonboat.metrics): no inventory either.
    ("py:class", r"prometheus_client\..*"),
]

# ---- MyST ----------------------------------------------------------------------------------
# GitHub-style anchors for headings, so `python.md#which-failures-mean-not-applied`
# works on the site as on GitHub.
myst_heading_anchors = 4
# Fenced blocks without a language are program output and diagrams: no highlighting.
highlight_language = "none"

# ---- autodoc ------------------------------------------------------------------------------
# How the types get on the page: the API users call is mostly pure Python
# (NodeHost, RequestState, the config dataclasses, the state machine bases,
# retry, tools), whose annotations autodoc reads from the runtime objects; those
# are documented as they are. The classes that ARE the pybind11 extension
# (Session, RequestResult, CompressionType, the event structs, plugins) have
# only pybind11's docstring signatures (C++-side types: `typing.SupportsInt |
# typing.SupportsIndex`, `dragonboat._core.Session`, `object`) and untyped
# properties; docs/_ext/pyi_types.py replaces those with _core.pyi's, the types
# mypy checks user code against. Types stay in the signature
# (autodoc_typehints="signature", the default): "description" would take them
# from the runtime signature again, which the extension's objects do not have.
autodoc_typehints = "signature"
autodoc_typehints_format = "short"
python_use_unqualified_type_names = True
autodoc_member_order = "bysource"
# The class docstring and the constructor's: a pybind11 class's constructor
# signature is on the first line of its __init__ docstring, where autodoc finds
# it (and pyi_types replaces it with the stub's).
autoclass_content = "both"
autodoc_default_options = {"undoc-members": True}
# Long signatures (Config, NodeHostConfig, import_snapshot) one parameter a line.
python_maximum_signature_line_length = 100

# ---- HTML ---------------------------------------------------------------------------------
html_theme = "alabaster"
html_title = f"dragonboat {release}"
html_theme_options = {"description": "Multi-group Raft: a C++17 engine with a Python API"}
html_show_sourcelink = False



# ---- hooks ----------------------------------------------------------------------------------
# Private types in public signatures, as a reader should see them: retry's
# Protocol of what it needs of a session is, to a caller, a Session.
# (autodoc_type_aliases would do it, but Sphinx 9 renders an alias inside a
# union as "TypeAliasForwardRef('...')".)
PUBLIC_TYPES = {"dragonboat.retry._Session": "dragonboat.Session"}
# Classes only the library makes, shown without their constructor's signature:
# RequestState(raw, cluster_id) wraps the engine's request (NodeHost.propose,
# ...); the snapshot streams are Protocols the engine's objects implement.
LIBRARY_MADE = {"dragonboat.RequestState", "dragonboat.SnapshotWriter",
                "dragonboat.SnapshotReader", "dragonboat.SnapshotFileCollection"}


def _public_types(app: Sphinx, what: str, name: str, obj: object, options: object,
                  signature: str | None, return_annotation: str | None
                  ) -> tuple[str | None, str | None] | None:
    if what == "class" and name in LIBRARY_MADE:
        return "", None
    if not any(p in (signature or "") + (return_annotation or "") for p in PUBLIC_TYPES):
        return None
    for private, public in PUBLIC_TYPES.items():
        signature = signature.replace(private, public) if signature else signature
        if return_annotation:
            return_annotation = return_annotation.replace(private, public)
    return signature, return_annotation


def _errors_by_short_name(app: Sphinx, env: BuildEnvironment, node: pending_xref,
                          contnode: Element) -> Element | None:
    """The package's docstrings name an error by its class name alone
    (``:class:`InvalidClusterSettingsError```, as help() readers see it): such a
    reference links to dragonboat.errors when that module has the name."""
    target = node.get("reftarget", "")
    if node.get("refdomain") != "py" or "." in target or not hasattr(errors, target):
        return None
    py = env.get_domain("py")
    return py.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                           f"dragonboat.errors.{target}", node, contnode)


def setup(app: Sphinx) -> None:
    app.connect("autodoc-process-signature", _public_types)
    app.connect("missing-reference", _errors_by_short_name)

"""Every public name of the package, and every public method or property of
its classes, has a docstring (help() and IDEs are the first documentation a
user reads)."""

from __future__ import annotations

import inspect
from types import ModuleType

import dragonboat
from dragonboat import errors, events, metrics, tools


def _undocumented(module: ModuleType) -> list[str]:
    names = getattr(module, "__all__", [n for n in dir(module) if not n.startswith("_")])
    missing = []
    for name in names:
        obj = getattr(module, name)
        if not (inspect.isclass(obj) or inspect.isroutine(obj)):
            continue
        if not getattr(obj, "__module__", "").startswith("dragonboat"):
            continue  # imported from elsewhere (typing, collections.abc, ...)
        if not (obj.__doc__ or "").strip():
            missing.append(f"{module.__name__}.{name}")
        if not inspect.isclass(obj):
            continue
        for attr, value in vars(obj).items():
            if attr.startswith("_") or not (callable(value) or isinstance(value, property)
                                            or inspect.isdatadescriptor(value)):
                continue
            doc = getattr(value, "__doc__", None)
            slots = getattr(obj, "__slots__", None)
            if inspect.ismemberdescriptor(value) and isinstance(slots, dict):
                doc = slots.get(attr)  # documented slots (help() shows them)
            if not (doc or "").strip():
                missing.append(f"{module.__name__}.{name}.{attr}")
    return missing


def test_public_names_have_docstrings() -> None:
    modules = (dragonboat, errors, events, metrics, tools)
    missing = [m for mod in modules for m in _undocumented(mod)]
    assert missing == []

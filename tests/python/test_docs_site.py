"""The documentation site (docs/, Sphinx; docs/docs-site.md): it builds with every
warning an error and every reference resolved, its API reference covers the whole
public API, its internal links resolve, and in a real headless browser its pages
render and its search finds things.

The site is built once per run into a temporary directory (about 10 s). The
browser checks need Debian's ``chromium`` (scripts/dev.sh deps installs it) and
are skipped without it.
"""

from __future__ import annotations

import html.parser
import inspect
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from urllib.parse import unquote, urlsplit

import pytest

import dragonboat
from dragonboat import errors, events, plugins, tools

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
API_MODULES: tuple[ModuleType, ...] = (dragonboat, errors, events, plugins, tools)


@dataclass
class Build:
    out: Path
    returncode: int
    warnings: str


@pytest.fixture(scope="module")
def build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """sphinx-build -W -n (warnings are errors, every reference must resolve) into a temp dir."""
    for module in ("sphinx", "myst_parser"):
        try:
            __import__(module)
        except ImportError:
            pytest.fail(f"{module} is not installed: scripts/dev.sh deps installs the "
                        "documentation tools (pip install 'sphinx>=9,<10' 'myst-parser>=5,<6')")
    tmp = tmp_path_factory.mktemp("docs")
    out = tmp / "html"
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-n", "-q", "-b", "html",
         "-d", str(tmp / "doctrees"), str(DOCS), str(out)],
        capture_output=True, text=True, timeout=600, cwd=ROOT)
    return Build(out, proc.returncode, proc.stderr + proc.stdout)


@pytest.fixture(scope="module")
def site(build: Build) -> Path:
    """The built site (the other tests fail at once when it did not build)."""
    if build.returncode != 0:
        pytest.fail("the site did not build (see test_site_builds_without_warnings)")
    return build.out


def test_site_builds_without_warnings(build: Build) -> None:
    assert build.returncode == 0, f"sphinx-build -W -n failed:\n{build.warnings}"
    assert build.warnings.strip() == ""
    assert (build.out / "index.html").is_file()


# ---- the HTML, parsed -----------------------------------------------------------------------


@dataclass
class Page:
    ids: set[str] = field(default_factory=set)
    links: list[str] = field(default_factory=list)  # href / src values
    headings: list[str] = field(default_factory=list)  # h1-h3 text
    text: list[str] = field(default_factory=list)


class _PageParser(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.page = Page()
        self._heading: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        for key in ("id", "name") if tag == "a" else ("id",):
            if a.get(key):
                self.page.ids.add(str(a[key]))
        for key in ("href", "src"):
            if a.get(key) and tag in ("a", "link", "script", "img"):
                self.page.links.append(str(a[key]))
        if tag in ("h1", "h2", "h3"):
            self._heading = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("h1", "h2", "h3") and self._heading is not None:
            self.page.headings.append("".join(self._heading).strip().rstrip("¶").strip())
            self._heading = None

    def handle_data(self, data: str) -> None:
        self.page.text.append(data)
        if self._heading is not None:
            self._heading.append(data)


def parse(text: str) -> Page:
    parser = _PageParser()
    parser.feed(text)
    parser.close()
    return parser.page


def pages(site: Path) -> dict[Path, Page]:
    return {p: parse(p.read_text(encoding="utf-8")) for p in sorted(site.rglob("*.html"))}


def api_ids(site: Path) -> set[str]:
    return {i for p in (site / "api").glob("*.html") for i in parse(p.read_text()).ids}


# ---- (2) the API reference covers the public API --------------------------------------------


def _documented_as(name: str, obj: object) -> set[str]:
    """The anchors under which ``dragonboat.<name>`` may be documented: its own, or
    that of a submodule it is re-exported from (``dragonboat.errors.DragonboatError``)."""
    if inspect.ismodule(obj):
        return {f"module-{obj.__name__}"}
    return {f"{m.__name__}.{name}" for m in API_MODULES if getattr(m, name, None) is obj}


def test_api_documents_every_public_name(site: Path) -> None:
    ids = api_ids(site)
    missing = [name for name in dragonboat.__all__
               if not _documented_as(name, getattr(dragonboat, name)) & ids]
    assert missing == [], f"dragonboat.__all__ names not in docs/api/: {missing}"


def test_api_documents_every_nodehost_method(site: Path) -> None:
    ids = api_ids(site)
    methods = [name for name, _ in inspect.getmembers(dragonboat.NodeHost)
               if not name.startswith("_")]
    assert len(methods) > 30
    missing = [m for m in methods if f"dragonboat.NodeHost.{m}" not in ids]
    assert missing == [], f"NodeHost methods not in the API reference: {missing}"


def _public_members(cls: type) -> list[str]:
    names = [n for n in vars(cls) if not n.startswith("_")]
    if hasattr(cls, "__dataclass_fields__"):
        names += [n for n in cls.__dataclass_fields__ if n not in names]
    return names


def test_api_documents_every_member_of_every_public_class(site: Path) -> None:
    """Every method, property, field and constant of the classes the modules
    export: each one with its own anchor, under the name it is documented by."""
    ids = api_ids(site)
    missing = []
    for module in API_MODULES:
        names = getattr(module, "__all__", None) or [n for n in vars(module) if n[0] != "_"]
        for name in names:
            obj = getattr(module, name)
            if not inspect.isclass(obj) or not obj.__module__.startswith("dragonboat"):
                continue
            anchors = _documented_as(name, obj) & ids
            if not anchors:
                missing.append(f"{module.__name__}.{name}")
                continue
            owner = min(anchors)
            missing += [f"{owner}.{m}" for m in _public_members(obj) if f"{owner}.{m}" not in ids]
    assert missing == []


def test_extension_classes_are_typed_from_the_stub(site: Path) -> None:
    """The pybind11 classes show _core.pyi's types (docs/_ext/pyi_types.py), not
    pybind11's C++-side names, and their properties have types."""
    shown = "".join(t for name in ("dragonboat", "events", "plugins")
                    for t in parse((site / "api" / f"{name}.html").read_text()).text)
    for cxx_side in ("SupportsInt", "_core.", "self:", "-> object"):
        assert cxx_side not in shown
    for typed in ("property cluster_id: int", "property code: str",
                  "get_result() → Result", "memory_logdb() → LogDBFactory",
                  "LeaderInfo(cluster_id: int, node_id: int, term: int, leader_id: int)"):
        assert typed in " ".join(shown.split())


# ---- (3) links, and the site in a real browser ----------------------------------------------


def test_internal_links_resolve(site: Path) -> None:
    """Every relative href/src names an existing file, and its #fragment an existing anchor."""
    parsed = pages(site)
    broken = []
    for path, page in parsed.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith("//"):
                continue  # external: not this site's business
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if not target.exists():
                broken.append(f"{path.relative_to(site)}: {link} (no such file)")
                continue
            if parts.fragment and target.suffix == ".html":
                anchors = parsed[target].ids if target in parsed else set()
                if unquote(parts.fragment) not in anchors:
                    broken.append(f"{path.relative_to(site)}: {link} (no such anchor)")
    assert broken == []


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture
def chromium(tmp_path: Path) -> Iterator[list[str]]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (Debian's chromium package; scripts/dev.sh deps "
                    "installs it): the headless-browser checks of the site need it")
    profile = tmp_path / "chromium-profile"
    yield [CHROMIUM, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
           "--disable-extensions", "--disable-dev-shm-usage", f"--user-data-dir={profile}"]


def dump_dom(chromium: list[str], url: str, budget_ms: int = 2000) -> str:
    """The DOM of ``url`` after ``budget_ms`` of (virtual) time for its scripts.

    Chromium runs in a process group of its own, killed afterwards whatever
    happened, so that no renderer or zygote outlives the test."""
    proc = subprocess.Popen([*chromium, f"--virtual-time-budget={budget_ms}", "--dump-dom", url],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        pytest.fail(f"chromium did not finish loading {url} in 60 s")
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the helpers it started, if any remain
        except ProcessLookupError:
            pass
    assert proc.returncode == 0, f"chromium failed on {url}:\n{err[-2000:]}"
    return out


def test_pages_render_in_a_browser(site: Path, chromium: list[str]) -> None:
    index = parse(dump_dom(chromium, (site / "index.html").as_uri()))
    assert "dragonboat (C++ core, Python API)" in index.headings
    assert "Quickstart (Python)" in index.headings
    hrefs = set(index.links)
    assert {"python.html", "api/index.html"} <= hrefs, "the navigation lists the guides and API"

    api = parse(dump_dom(chromium, (site / "api" / "dragonboat.html").as_uri()))
    assert "The dragonboat package" in api.headings
    assert {"dragonboat.NodeHost", "dragonboat.NodeHost.propose", "dragonboat.Session"} <= api.ids

    guide = parse(dump_dom(chromium, (site / "python.html").as_uri()))
    assert "Using dragonboat from Python" in guide.headings
    assert "which-failures-mean-not-applied" in guide.ids


def test_search_finds_the_api(site: Path, chromium: list[str]) -> None:
    """Sphinx's search is JavaScript over searchindex.js: it must list results."""
    dom = dump_dom(chromium, (site / "search.html").as_uri() + "?q=propose", budget_ms=5000)
    results = parse(dom)
    assert "api/dragonboat.html#dragonboat.NodeHost.propose" in results.links, \
        "searching 'propose' did not list NodeHost.propose"
    assert "python.html" in results.links, "searching 'propose' did not list the Python guide"

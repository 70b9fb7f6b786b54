"""Imports point one way: engine < core < journeys < secrets < runs < runners < schedules < api.

Every module under ``reqflo/`` is read with ``ast`` (imports inside functions and
``TYPE_CHECKING`` blocks included) and each import of the project is checked against its
layer: an app imports the engine, core and the apps below it, never one above. The engine and
the CLI import no Django app and no Django at all; the CLI reaches the server over its API. A
higher app extends a lower one through hooks it registers in ``AppConfig.ready``
(``reqflo.journeys.hooks``, ``reqflo.core.navigation``), and nothing imports a view but a
URLconf. A new package under ``reqflo/`` must be placed here before it can import anything.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "reqflo"

# Django apps from the bottom up; each may import those before it, none after it.
APP_LAYERS = ("core", "journeys", "secrets", "runs", "runners", "schedules", "api")
# The project package itself: settings, root URLconf, the Celery app and its embedded broker,
# WSGI and its gunicorn hooks. Apps may import the package root (``__version__``), the Celery
# app and the broker (for diagnostics); the rest is wiring that may import anything.
PROJECT_MODULES = {"reqflo", "reqflo.__version__", "reqflo.celery", "reqflo.broker"}
WIRING = {
    "settings",
    "test_settings",
    "urls",
    "wsgi",
    "gunicorn_conf",
    "celery",
    "broker",
    "__init__",
}
# Stands alone: the demo shop target (mounted by the root URLconf, imports no app).
STANDALONE = {"demo"}
# Packages the engine and the CLI must not import: they run where no Django is configured.
SERVER_ONLY = (
    "django",
    "django_htmx",
    "partials",
    "template_partials",
    "django_cryptography",
    "django_stubs_ext",
    "axes",
    "csp",
    "whitenoise",
    "celery",
    "kombu",
    "honcho",
    "gunicorn",
    "psycopg",
)


def _modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if "migrations" in parts:
            continue  # frozen history; may read the engine to back-fill data
        if parts[-1] == "__init__":
            parts.pop()
        yield ".".join(parts), path


def _imports(module: str, path: Path) -> Iterator[tuple[int, str]]:
    """Yield (line, imported module) for every import in the file, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield node.lineno, target
            # ``from reqflo.journeys import views`` imports a module, not a name.
            for alias in node.names:
                yield node.lineno, f"{target}.{alias.name}"


def _part(module: str) -> str:
    """Return the project part a module belongs to: an app, "engine", "cli", or a wiring name."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _is_view(module: str) -> bool:
    parts = module.split(".")
    return len(parts) > 2 and parts[2] == "views"


def _allowed(source: str, target: str) -> str | None:
    """Return why ``source`` may not import ``target``, or None when it may."""
    top = target.split(".")[0]
    part = _part(source)
    if part in ("engine", "cli"):
        if top in SERVER_ONLY:
            return f"the {part} runs without Django; {top} is server-only"
        if top != "reqflo" or (part == "cli" and target in ("reqflo", "reqflo.__version__")):
            return None
        allowed = ("engine",) if part == "engine" else ("cli", "engine")
        if _part(target) not in allowed:
            return f"the {part} imports nothing of the project but {' and '.join(allowed)}"
        return None
    if top != "reqflo" or part in WIRING:
        return None
    if _is_view(target) and not (source.endswith("urls") or _is_view(source)):
        return "nothing imports a view but a URLconf"
    if target in PROJECT_MODULES or target.startswith("reqflo.celery."):
        return None
    wanted = _part(target)
    if part in STANDALONE:
        return None if wanted == part else f"reqflo.{part} stands alone"
    if part not in APP_LAYERS:
        return f"reqflo.{part} has no place in tests/test_layers.py: add it to a layer"
    if wanted in ("engine", part):
        return None
    if wanted not in APP_LAYERS:
        return f"an app does not import reqflo.{wanted}"
    if APP_LAYERS.index(wanted) > APP_LAYERS.index(part):
        return f"{part} sits below {wanted} (engine < {' < '.join(APP_LAYERS)})"
    return None


def test_every_import_points_down_the_layers() -> None:
    broken = []
    for module, path in _modules():
        for line, target in _imports(module, path):
            reason = _allowed(module, target)
            if reason is not None:
                broken.append(f"{path.relative_to(ROOT)}:{line} imports {target}: {reason}")
    assert not broken, "imports against the layer order:\n" + "\n".join(sorted(set(broken)))


def test_no_two_apps_import_each_other() -> None:
    # Implied by the layer order, and stated on its own: the runs app holds the rows, the
    # runners app (above it) owns their lifecycle, and the runs app never reaches back up.
    imports: dict[str, set[str]] = {}
    for module, path in _modules():
        for _, target in _imports(module, path):
            if target.startswith("reqflo.") and _part(target) != _part(module):
                imports.setdefault(_part(module), set()).add(_part(target))
    both_ways = sorted(
        f"{a} <-> {b}"
        for a, targets in imports.items()
        for b in targets
        if a < b and a in imports.get(b, set())
    )
    assert not both_ways, f"apps importing each other: {both_ways}"
    assert "runs" in imports["runners"]
    assert "runners" not in imports.get("runs", set())


@pytest.mark.parametrize(
    ("source", "target", "allowed"),
    [
        ("reqflo.runs.selectors", "reqflo.journeys.models", True),
        ("reqflo.journeys.selectors", "reqflo.runs.models", False),
        ("reqflo.secrets.selectors", "reqflo.journeys.selectors", True),
        ("reqflo.journeys.services", "reqflo.secrets.services", False),
        ("reqflo.runs.services", "reqflo.runners.admission", False),
        ("reqflo.runs.models", "reqflo.runners.leases", False),
        ("reqflo.runs.selectors", "reqflo.runners.services", False),
        ("reqflo.runners.leases", "reqflo.runs.models", True),
        ("reqflo.core.navigation", "reqflo.journeys.urls", False),
        ("reqflo.engine.runner", "django.conf", False),
        ("reqflo.engine.runner", "reqflo.core.models", False),
        ("reqflo.cli.run", "reqflo.engine.report", True),
        ("reqflo.cli.run", "reqflo.journeys.documents", False),
        ("reqflo.cli.run", "reqflo", True),
        ("reqflo.journeys.services", "reqflo.journeys.views.editor", False),
        ("reqflo.journeys.urls", "reqflo.journeys.views.editor", True),
        ("reqflo.newapp.models", "reqflo.core.models", False),
    ],
)
def test_the_rule_itself(source: str, target: str, allowed: bool) -> None:
    assert (_allowed(source, target) is None) is allowed

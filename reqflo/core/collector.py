"""Python's garbage collector tuned for a server process (issue 15: the editor's edit actions).

A request of the editor on a 1,500-step journey allocates some 100,000 container objects, most
of them alive until the answer is written. With the default thresholds (700, 10, 10) the
young collections run while they are alive, promote them, and about every other request then
pays a full collection of the whole heap: every module, template and URL pattern Django
loaded (125,000 objects, 70 to 85 ms, more under load). Two changes, measured in
``docs/benchmarks.md`` ("Journeys editor"):

- ``gc.freeze()`` once the app is loaded and warmed up (URL patterns built, the project's
  templates compiled, as the first requests would): what start-up made lives as long as the
  process, so it moves to the permanent generation that no collection walks;
- a first threshold of 100,000: the young collections run about 140 times less often, so a
  request's objects are mostly freed by reference counting before one runs, instead of being
  walked and promoted while alive. Cycles are still collected (within 100,000 net
  allocations, a few MB), so memory stays bounded. 20,000 measured 231 ms of CPU per Move
  step where 100,000 measured 166 ms (700, the default, with the freeze: 295 ms).

``gunicorn_conf.post_worker_init`` calls ``tune_for_serving`` in each web worker, and the
editor benchmark does the same at the same point (after the app is loaded, before the first
request), so its figures are the server's.
"""

from __future__ import annotations

import gc
from pathlib import Path

# Allocations (net of deallocations) of container objects between young collections.
GEN0_THRESHOLD = 100_000


def warm_up() -> None:
    """Load what the first requests would: the URL patterns and the project's templates.

    Loaded before the freeze, they are frozen with the rest of start-up instead of being walked
    by every collection (the editor's page alone compiles a few thousand template nodes).
    """
    from django.conf import settings
    from django.template import TemplateDoesNotExist, TemplateSyntaxError, loader
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 — imports every view module, builds the patterns
    directories = settings.TEMPLATES[0]["DIRS"]
    assert isinstance(directories, list | tuple), directories
    for directory in directories:
        root = Path(directory)
        for path in sorted(root.rglob("*.html")):
            try:
                loader.get_template(path.relative_to(root).as_posix())
            except (TemplateDoesNotExist, TemplateSyntaxError):
                continue  # a fragment that only compiles inside its page: it loads on use


def tune_for_serving() -> None:
    """Warm up, collect once, freeze what is alive now, and raise the young threshold."""
    warm_up()
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)

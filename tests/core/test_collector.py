"""The web worker's collector settings come from the Procfile's gunicorn line (issue 15)."""

from __future__ import annotations

import json
import subprocess
import sys

from reqflo.core.collector import GEN0_THRESHOLD
from tests.live_app import ROOT, procfile_web_options

# gunicorn reads the Procfile's options (its --config module included) as it would at start,
# then runs the worker hook; the answer is the interpreter's collector state afterwards.
_PROBE = """
import gc, json, sys
from gunicorn.app.wsgiapp import WSGIApplication
sys.argv = ["gunicorn", "reqflo.wsgi", "--bind", "127.0.0.1:1", *json.loads(sys.argv[1])]
app = WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]")
app.wsgi()  # the worker loads the app, then runs the hook
before = gc.get_freeze_count(), "reqflo.journeys.views.editor" in sys.modules
app.cfg.post_worker_init(None)
after = gc.get_freeze_count(), "reqflo.journeys.views.editor" in sys.modules
print(json.dumps([before, after, gc.get_threshold()[0]]))
"""


def test_a_web_worker_freezes_what_start_up_made_and_collects_young_objects_less_often() -> None:
    options = json.dumps(procfile_web_options())
    answer = subprocess.run(
        [sys.executable, "-c", _PROBE, options],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert answer.returncode == 0, answer.stderr[-3000:]
    before, after, threshold = json.loads(answer.stdout.strip().splitlines()[-1])
    assert before == [0, False]
    # Warmed up (the URL patterns import every view), then frozen: Django, the app and its
    # templates are never walked by a collection again.
    assert after[1]
    assert after[0] > 100_000
    assert threshold == GEN0_THRESHOLD

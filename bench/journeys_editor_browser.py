"""Benchmark the journey editor in real Chromium: click to visible, at 3 and 1,500 steps.

Issue 15 item 6: "any edit action under 300 ms at 1,500 steps", as the user sees it. The
server side is bench/journeys_editor_large.py; this measures in the browser (headless Debian
Chromium, ``/usr/bin/chromium``, through Playwright) against the app served on loopback by
Django's threaded live server (pytest-django's ``LiveServer``) on a throwaway PostgreSQL
database (``bench.common.bench_database``).

For each journey (3 steps, and 1,500 from ``large_document``) it loads the editor, then
presses each edit button ``--repeat`` times (and Save, each time after typing a new
description: a save is answered in place like a button) and reports the median and slowest,
per action, of:

- visible: from the click to the first frame after htmx swapped the answer in (the new step
  form and the step list's changed items are on screen);
- settled: from the click to the first frame after htmx settled it (20 ms later by htmx's
  settle delay, plus the editor's after-settle work: field notes, focus);

and the answer's size. The page load is the time to the ``load`` event of the editor page.
Run from the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.journeys_editor_browser [--repeat 5] [--steps 1500] \\
        [--many-problems] [--chained]

``--many-problems`` leaves the login step out of each journey, so every other step names an
unknown step (1,499 Run check errors at 1,500: what removing "login" leaves, issue 15).
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import bench_database  # noqa: E402 — after the path is set
from bench.journeys_editor_large import large_document  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PASSWORD = "bench-password-1"

# Press an editor button (a real one on the page, or one the page's script would press, such
# as a step picked in the list) and resolve with the times to the swap's and the settle's next
# frame, and the answer's size. Listeners are added after editor.js's, so the step list is
# already patched when the "visible" frame is awaited.
PRESS = """
async ([selector, op]) => {
  const ANSWERS = ["editor", "step-details"];  // the whole editor, or the step's form
  const frame = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  const form = document.getElementById("editor-form");
  let button = selector ? document.querySelector(selector) : null;
  if (!button) {
    button = document.createElement("button");
    button.type = "submit"; button.name = "op"; button.value = op; button.hidden = true;
    form.appendChild(button);
  }
  const result = {};
  const sent = (event) => {
    document.removeEventListener("htmx:beforeSend", sent);
    result.sent = performance.now() - start;
  };
  document.addEventListener("htmx:beforeSend", sent);
  const answered = (event) => {
    document.removeEventListener("htmx:beforeOnLoad", answered);
    result.answered = performance.now() - start;
  };
  document.addEventListener("htmx:beforeOnLoad", answered);
  const swapped = new Promise((done) => {
    const on = (event) => {
      if (!event.detail.target || !ANSWERS.includes(event.detail.target.id)) { return; }
      document.removeEventListener("htmx:afterSwap", on);
      frame().then(() => { result.visible = performance.now() - start; done(); });
    };
    document.addEventListener("htmx:afterSwap", on);
  });
  const settled = new Promise((done) => {
    const on = (event) => {
      if (!event.detail.elt || !ANSWERS.includes(event.detail.elt.id)) { return; }
      document.removeEventListener("htmx:afterSettle", on);
      result.size = event.detail.xhr.responseText.length;
      frame().then(() => { result.settled = performance.now() - start; done(); });
    };
    document.addEventListener("htmx:afterSettle", on);
  });
  const start = performance.now();
  button.click();
  const late = new Promise((_, fail) => setTimeout(() => fail(new Error("no answer")), 20000));
  await Promise.race([Promise.all([swapped, settled]), late]);
  return result;
}
"""


def _actions(steps: int) -> list[tuple[str, str | None, str]]:
    """(what, a CSS selector of the button to click or None, the op to press without one)."""
    far = min(999, steps - 1)
    to = min(699, steps - 1)
    shown = "#step-{i} "  # filled with the shown step's index at press time
    return [
        ("Add step", "#add-step", "add_step"),
        ("Add assertion (shown step)", shown + "button[value^='add_assertion:']", ""),
        (
            "Move the shown step (↑; ↓ at the top)",
            shown
            + "button[value^='move_up:']:not([disabled]), "
            + shown
            + "button[value^='move_down:']:not([disabled])",
            "",
        ),
        ("Duplicate the shown step", shown + "button[value^='duplicate_step:']", ""),
        ("Remove the shown step", shown + "button[value^='remove_step:']", ""),
        (f"Pick step {far + 1} in the list", None, f"select_step:{far}"),
        ("Pick step 2 in the list", None, "select_step:1"),
        (f"Drag step 2 to {to + 1}", None, f"move_step:1:{to}"),
        ("Refresh (Enter in a field)", None, "refresh"),
        # The description typed first (a new value each press), then Save: answered in place.
        ("Save (one field changed)", "#save-button", "save"),
    ]


# What, answer size, and per press (ms): sent, answered, visible, settled.
Row = tuple[str, str, list[float], list[float], list[float], list[float]]


def _measure(page: Any, url: str, steps: int, repeat: int) -> list[Row]:
    loads = []
    for _ in range(repeat):
        start = time.perf_counter()
        page.goto(url, wait_until="load")
        loads.append((time.perf_counter() - start) * 1000)
        page.wait_for_selector("details.step")
    size = page.evaluate("document.documentElement.outerHTML.length")
    load = ("Editor page load (to the load event)", f"{size / 1024:.0f} KB", [], [], loads, loads)
    rows: list[Row] = [load]
    for what, selector, op in _actions(steps):
        if what.startswith("Save"):
            # Save what the journey is (the buttons above left steps with no URL, which a
            # save refuses): drop the unsaved edits (the page's own signal) and open it again.
            page.evaluate("document.dispatchEvent(new Event('reqflo:saved'))")
            page.goto(url, wait_until="load")
            page.wait_for_selector("details.step")
        sent: list[float] = []
        answered: list[float] = []
        visible: list[float] = []
        settled: list[float] = []
        sizes: list[int] = []
        for _ in range(repeat):
            shown = page.eval_on_selector("details.step", "d => d.id.slice(5)")
            if what.startswith("Save"):
                page.locator("#journey-description").fill(f"Saved by the bench {len(sent)}")
            result = page.evaluate(PRESS, [(selector or "").replace("{i}", shown), op or selector])
            if what.startswith("Save"):
                assert page.locator("#messages .message-success").count(), "the save was refused"
            sent.append(result["sent"])
            answered.append(result["answered"])
            visible.append(result["visible"])
            settled.append(result["settled"])
            sizes.append(result["size"])
        size = f"{statistics.median(sizes) / 1024:.0f} KB"
        rows.append((what, size, sent, answered, visible, settled))
    rows.extend(_views(page, repeat))
    return rows


def _views(page: Any, repeat: int) -> list[Row]:
    """The YAML view and back to the form, pressed in turn ``repeat`` times each."""
    found: dict[str, tuple[list[float], list[float], list[float], list[float], list[int]]] = {
        op: ([], [], [], [], []) for op in ("view_yaml", "view_form")
    }
    for _ in range(repeat):
        for op, (sent, answered, visible, settled, sizes) in found.items():
            result = page.evaluate(PRESS, [f"button[value='{op}']", op])
            sent.append(result["sent"])
            answered.append(result["answered"])
            visible.append(result["visible"])
            settled.append(result["settled"])
            sizes.append(result["size"])
    names = {"view_yaml": "YAML view", "view_form": "Back to the form (YAML as shown)"}
    return [
        (names[op], f"{statistics.median(sizes) / 1024:.0f} KB", sent, answered, visible, settled)
        for op, (sent, answered, visible, settled, sizes) in found.items()
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="presses per action")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument(
        "--collector",
        choices=("server", "default"),
        default="server",
        help="server (the default): tune Python's collector as a gunicorn web worker does "
        "(reqflo.core.collector) before the live server starts; default: Python's settings, "
        "where a full collection of this process (the app and Playwright) lands on about every "
        "other press at 1,500 steps",
    )
    parser.add_argument(
        "--chained",
        action="store_true",
        help="each step also sends the previous step's output, checks a JSONPath and keeps an "
        "output (twice the references: a verifier's journey)",
    )
    parser.add_argument(
        "--many-problems",
        action="store_true",
        help="leave the login step out: every other step names an unknown step",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # Playwright's loop, ORM setup
    with bench_database():
        if args.collector == "server":
            import reqflo.wsgi  # noqa: F401 — load the app, as gunicorn does before its hook
            from reqflo.gunicorn_conf import post_worker_init

            post_worker_init(None)
        results = _run(
            args.repeat, (3, args.steps), login=not args.many_problems, chained=args.chained
        )
    print(f"Chromium ({CHROMIUM}), headless; median and slowest of {args.repeat} presses each.")
    print(f"Collector: {args.collector} (thresholds {gc.get_threshold()}).")
    print(f"Load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print("Sent: click to htmx's beforeSend (the page's work before the post); answered: click to")
    print("the answer's arrival (adds the post and the server); in the browser: visible less")
    print("answered, per press (parsing, swapping, the step list's patch, the frame).")
    print(
        "| Steps | What | answer | sent ms | answered ms | in the browser ms | visible ms "
        "| slowest | settled ms |"
    )
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for steps, rows in results:
        for what, size, sent, answered, visible, settled in rows:
            browser = [v - a for v, a in zip(visible, answered, strict=False)]
            print(
                f"| {steps} | {what} | {size} | {_median(sent)} | {_median(answered)} | "
                f"{_median(browser)} | {_median(visible)} | {max(visible):.0f} | "
                f"{_median(settled)} |"
            )


def _median(values: list[float]) -> str:
    return f"{statistics.median(values):.0f}" if values else ""


def _run(
    repeat: int, sizes: tuple[int, ...], *, login: bool = True, chained: bool = False
) -> list[tuple[int, list[Row]]]:
    from django.contrib.auth.models import User
    from django.urls import reverse
    from playwright.sync_api import sync_playwright
    from pytest_django.live_server_helper import LiveServer

    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.journeys import services
    from reqflo.journeys.documents import check_document

    workspace = Workspace.objects.create(name="Bench", slug="bench")
    user = User.objects.create_user("bench@example.test", "bench@example.test", PASSWORD)
    Membership.objects.create(user=user, workspace=workspace, role=Role.OWNER)
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.example.test", values={}
    )
    journeys = {}
    for steps in sizes:
        document = large_document(steps, login=login, chained=chained)
        document["journey"]["name"] = f"Journey of {steps} steps"
        journeys[steps] = services.journey_create(
            workspace=workspace, author=user, checked=check_document(document)
        )
    server = LiveServer("localhost")
    results = []
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            page = browser.new_context(base_url=server.url).new_page()
            page.goto(reverse("login"))
            page.get_by_label("Email").fill(user.email)
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Log in").click()
            page.wait_for_selector("[data-testid='user-email']")
            for steps, journey in journeys.items():
                url = reverse("journeys:journey_editor", args=[journey.pk])
                results.append((steps, _measure(page, url, steps, repeat)))
            browser.close()
    finally:
        server.stop()
    return results


if __name__ == "__main__":
    main()

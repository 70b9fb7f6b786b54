"""Benchmark the editor on a 1,500-step journey (about 0.25 MB of YAML), issue 15 item 6.

Through Django's test client against a real PostgreSQL database (a throwaway ``test_<name>``
database it creates and drops), as a browser would use the pages:

- import: the New journey page's "Import a YAML or JSON file" post of the whole YAML text;
- the editor page (form view): its size and time;
- edit actions: "Add step", "Add assertion" on the shown step, "Move step", a step picked in
  the list (``select_step``), and the Run check the page asks for after typing, each posted as
  the page posts it (the shown step's fields plus the packed rest of the journey);
- Save of the whole journey with one change.

``--many-problems``: the journey without its first step ("login"), so that every other step
names an unknown step (1,499 Run check errors: what pressing Remove on "login" leaves).

Targets: import under 3 s, the page under 500 KB and 1 s, any edit action under 300 ms. Run
from the repository root:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reqflo_bench \\
        .venv/bin/python -m bench.journeys_editor_large [--repeat 5] [--steps 1500] \\
        [--collector server|default] [--many-problems] [--chained]

The process's collector is tuned as the web worker's (``reqflo.gunicorn_conf``) unless
``--collector default``.
"""

from __future__ import annotations

import argparse
import gc
import os
import re
import statistics
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.common import bench_database  # noqa: E402 — after the path is set


def large_document(steps: int, *, login: bool = True, chained: bool = False) -> dict[str, Any]:
    """Return a journey of ``steps`` steps: a login keeping a token, then authorised GETs.

    ``login=False`` leaves the login out (``steps - 1`` steps, each naming an unknown step).
    ``chained=True``: each GET also sends the previous step's output in a header, checks a
    JSONPath and keeps an output of its own (a verifier's journey: twice the references).
    """
    rows: list[dict[str, Any]] = [
        {
            "id": "login",
            "request": {
                "method": "POST",
                "url": "{{ env.base_url }}/login",
                "json": {"user": "{{ inputs.user }}"},
            },
            "assertions": [{"type": "status_code", "expected": 200}],
            "outputs": {"token": {"from": "body", "path": "$.token", "secret": True}},
        }
    ]
    for n in range(1, steps):
        rows.append(
            {
                "id": f"s{n}",
                "request": {
                    "method": "GET",
                    "url": "{{ env.base_url }}/items/" + str(n),
                    "headers": {"Authorization": "Bearer {{ steps.login.outputs.token }}"},
                },
                "assertions": [{"type": "status_code", "expected": 200}],
            }
        )
        if chained:
            step = rows[-1]
            if n > 1:
                previous = "{{ steps.s" + str(n - 1) + ".outputs.id }}"
                step["request"]["headers"]["X-Previous"] = previous
            step["assertions"].append({"type": "json_path", "path": "$.id", "operator": "exists"})
            step["outputs"] = {"id": {"from": "body", "path": "$.id"}}
    if not login:
        rows.pop(0)
    return {
        "journey": {
            "name": "Large journey",
            "inputs": [{"name": "user", "default": "ada"}],
            "steps": rows,
        }
    }


class _Fields(HTMLParser):
    """Collect the editor form's fields as a browser would post them (buttons left out)."""

    def __init__(self, form: str | None = None) -> None:
        super().__init__()
        self.form = form  # only the fields with form="<this id>" (those outside the form)
        self.data: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        name = a.get("name", "")
        if self.form is not None and tag != "option" and a.get("form") != self.form:
            return
        if tag == "input" and name and a.get("type") != "checkbox":
            self.data[name] = a.get("value", "")
        elif tag == "input" and name and "checked" in a:
            self.data[name] = "on"
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""
        elif tag == "select" and name:
            self._select = name
        elif (
            tag == "option" and self._select and ("selected" in a or self._select not in self.data)
        ):
            self.data[self._select] = a.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.data[self._textarea] += data


def form_fields(html: str) -> dict[str, str]:
    """Return the fields the editor form posts: its own and those naming it (``form=``)."""
    start = html.index('id="editor-form"')
    end = html.index("</form>", start)
    parser = _Fields()
    parser.feed(html[start - 200 : end])
    outside = _Fields("editor-form")
    outside.feed(html[end:])
    return {**parser.data, **outside.data}


def _timed(call: Callable[[], object], repeat: int) -> tuple[float, float, float, object]:
    """Return the median and slowest wall time and the median CPU time (ms) of ``call``.

    The CPU time is this process's alone (the page's own work, without waiting for the
    database or for the other processes sharing the cores).
    """
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        result = call()
        walls.append((time.perf_counter() - start) * 1000)
        cpus.append((time.process_time() - cpu) * 1000)
    walls.sort()
    return statistics.median(walls), walls[-1], statistics.median(cpus), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="timed requests per action")
    parser.add_argument("--steps", type=int, default=1500)
    parser.add_argument(
        "--collector",
        choices=("server", "default"),
        default="server",
        help="server (the default): tune Python's collector as a gunicorn web worker does "
        "(reqflo.core.collector), once the app is loaded and before the first request; "
        "default: leave Python's settings",
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
    with bench_database():
        if args.collector == "server":
            import reqflo.wsgi  # noqa: F401 — load the app, as gunicorn does before its hook
            from reqflo.gunicorn_conf import post_worker_init

            post_worker_init(None)
        rows = _run(args.repeat, args.steps, login=not args.many_problems, chained=args.chained)
    what = f"{args.steps} steps"
    if args.many_problems:
        what = f"{args.steps - 1} steps (the {args.steps} without login: each one an error)"
    print(f"1 journey of {what}; median and slowest of {args.repeat} runs each.")
    print(f"Collector: {args.collector} (thresholds {gc.get_threshold()}).")
    print(f"Load average (1, 5, 15 min) at the end: {os.getloadavg()}")
    print("| What | answer size | median ms | slowest ms | median CPU ms |")
    print("|---|---:|---:|---:|---:|")
    for what, size, median, slowest, cpu in rows:
        print(f"| {what} | {size} | {median:.0f} | {slowest:.0f} | {cpu:.0f} |")


def _run(
    repeat: int, steps: int, *, login: bool, chained: bool = False
) -> list[tuple[str, str, float, float, float]]:
    from django.contrib.auth.models import User
    from django.test import Client
    from django.urls import reverse

    from reqflo.core.models import Membership, Role, Workspace
    from reqflo.journeys import services
    from reqflo.journeys.documents import render_yaml
    from reqflo.journeys.models import Journey

    workspace = Workspace.objects.create(name="Bench", slug="bench")
    user = User.objects.create_user("bench@example.test", "bench@example.test", "pw")
    Membership.objects.create(user=user, workspace=workspace, role=Role.OWNER)
    services.environment_create(
        workspace=workspace, name="staging", base_url="https://s.example.test", values={}
    )
    text = render_yaml(large_document(steps, login=login, chained=chained))
    client = Client()
    client.force_login(user)
    client.get(reverse("journeys:journey_list"))
    rows: list[tuple[str, str, float, float, float]] = []

    imported = [0]

    def import_once() -> object:
        # Each import makes a journey of its own, under a name of its own.
        imported[0] += 1
        named = text.replace("name: Large journey", f"name: Large journey {imported[0]}", 1)
        answer = client.post(
            reverse("journeys:journey_create"), {"source": "import", "text": named}
        )
        assert answer.status_code == 302, (answer.status_code, answer.content[:2000])
        return answer

    median, slowest, cpu, _ = _timed(import_once, repeat)
    size = f"{len(text) / 1024:.0f} KB YAML"
    rows.append(("Import (New journey, YAML text)", size, median, slowest, cpu))
    journey = Journey.objects.filter(workspace=workspace).order_by("-created_at").first()
    assert journey is not None
    url = reverse("journeys:journey_editor", args=[journey.pk])

    median, slowest, cpu, page = _timed(lambda: client.get(url), repeat)
    html = page.content.decode()  # type: ignore[attr-defined]
    rows.append(("Editor page (form view)", f"{len(html) / 1024:.0f} KB", median, slowest, cpu))
    fields = form_fields(html)
    fields["base_version"] = str(journey.head_number)
    shown = sorted({int(m) for m in re.findall(r"steps-(\d+)-id", " ".join(fields))})

    def post(op: str, **extra: str) -> Callable[[], object]:
        def call() -> object:
            answer = client.post(url, {**fields, "op": op, **extra}, headers={"HX-Request": "true"})
            assert answer.status_code == 200, (op, answer.status_code, answer.content[:3000])
            return answer

        return call

    first = shown[0] if shown else 0
    for what, op in (
        ("Add step", "add_step"),
        ("Add assertion (shown step)", f"add_assertion:{first}"),
        ("Move step (drag step 6 to 700)", "move_step:5:699"),
        ("Pick step 1,000 in the list", "select_step:999"),
        ("Refresh (Enter in a field)", "refresh"),
    ):
        median, slowest, cpu, answer = _timed(post(op), repeat)
        size = len(answer.content) / 1024  # type: ignore[attr-defined]
        rows.append((what, f"{size:.0f} KB", median, slowest, cpu))

    answer = post("view_yaml")()
    yaml_text = answer.context["page"].yaml_text  # type: ignore[attr-defined]
    median, slowest, cpu, answer = _timed(post("view_yaml"), repeat)
    size = len(answer.content) / 1024  # type: ignore[attr-defined]
    rows.append(("YAML view", f"{size:.0f} KB", median, slowest, cpu))
    as_shown = {"mode": "yaml", "yaml": yaml_text, "base_version": fields["base_version"]}

    def back() -> object:
        answer = client.post(url, {**as_shown, "op": "view_form"}, headers={"HX-Request": "true"})
        assert answer.status_code == 200, (answer.status_code, answer.content[:3000])
        return answer

    median, slowest, cpu, answer = _timed(back, repeat)
    size = len(answer.content) / 1024  # type: ignore[attr-defined]
    rows.append(("Back to the form (YAML as shown)", f"{size:.0f} KB", median, slowest, cpu))

    check = reverse("journeys:journey_check", args=[journey.pk])
    median, slowest, cpu, answer = _timed(lambda: client.post(check, fields), repeat)
    size = len(answer.content) / 1024  # type: ignore[attr-defined]
    rows.append(("Run check (after typing)", f"{size:.0f} KB", median, slowest, cpu))

    changed = {**fields, f"steps-{first}-name": "Renamed", "op": "save"}

    def save() -> object:
        answer = client.post(url, changed, headers={"HX-Request": "true"})
        assert answer.status_code == 200, answer.status_code
        assert "reqflo:saved" in answer.headers.get("HX-Trigger", ""), answer.content[:3000]
        changed["base_version"] = str(int(changed["base_version"]) + 1)
        changed[f"steps-{first}-name"] += "!"
        return answer

    median, slowest, cpu, _ = _timed(save, repeat)
    rows.append(("Save with one change", "", median, slowest, cpu))
    return rows


if __name__ == "__main__":
    main()

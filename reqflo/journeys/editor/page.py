"""The editor page as data, and what a button press turns it into, without the database.

``editor_post(data, context)`` is the whole of a form post: request data in, an outcome out (the
page to show with its status, or a checked document to save). The view loads the journey, its
environments and the workspace's secret names, calls it, and saves when the outcome says so.
Text is parsed once per request: the parsed document rides on the page (``page.checked``) and
the Run check reuses it.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Protocol

from reqflo.engine import (
    Definition,
    DefinitionError,
    Issue,
    definition_from_data,
    numbers,
    read_document,
    run_check,
)
from reqflo.engine.step_checks import StepChecks
from reqflo.journeys.diffs import DocumentDiff
from reqflo.journeys.documents import CheckedDocument, check_document, check_text, render_yaml
from reqflo.journeys.documents import yaml_lines as _yaml_lines
from reqflo.journeys.editor.building import document_from_state
from reqflo.journeys.editor.operations import apply_operation, issue_anchor
from reqflo.journeys.editor.packing import MEMORY, pack_steps
from reqflo.journeys.editor.readable import context_issues
from reqflo.journeys.editor.reading import read_post, state_from_document, state_from_post
from reqflo.journeys.editor.state import (
    AssertionRow,
    EditorState,
    OutputRow,
    StepForm,
    last_send,
    value_to_text,
)
from reqflo.journeys.models import Environment, JourneyVersion

FORM_ERRORS = 400  # the one status of form errors (reqflo.core.http.FORM_ERROR_STATUS)
CONFLICT = 409
SYNTAX_CODES = ("yaml_syntax", "json_syntax", "too_large", "too_deep")


@dataclass
class IssueView:
    """An issue as the page shows it: words, path, and the field (or YAML line) to jump to."""

    severity: str
    path: str
    message: str
    anchor: str
    line: int | None = None


@dataclass
class EditorPage:
    """Everything the editor template needs besides the journey."""

    mode: str  # "form" or "yaml"
    base_number: int
    state: EditorState
    yaml_text: str = ""
    issues: list[IssueView] = field(default_factory=list)
    check: list[IssueView] | None = None
    check_environment: Environment | None = None
    conflict: JourneyVersion | None = None
    conflict_diff: DocumentDiff | None = None
    message: str = ""
    # What the page shows, parsed and validated once; None until something needed it.
    checked: CheckedDocument | None = None
    # The index of the one step whose form the page shows (the others ride in steps-packed).
    selected: int = 0
    # The steps as the posting page's step list showed them, and the one it marked current:
    # an htmx answer sends only what changed in that list (``editor.step_list``). None when
    # the page had no list (a GET, the YAML view).
    shown: list[StepForm] | None = None
    shown_selected: int = 0

    @property
    def packed_steps(self) -> str:
        return pack_steps(self.state.steps)

    @property
    def shown_step(self) -> int | None:
        """The index of the step whose form is on screen; None in the YAML view."""
        return self.selected if self.mode == "form" and self.state.steps else None

    def select(self, index: int) -> None:
        self.selected = max(0, min(index, len(self.state.steps) - 1))


class CheckContext(Protocol):
    """What the Run check knows about the workspace: its environments and secret names.

    The view's context loads each on first use, so a save that succeeds queries neither.
    """

    @property
    def environments(self) -> Sequence[Environment]: ...

    @property
    def secret_names(self) -> frozenset[str]: ...

    def extra_checks(self, definition: Definition) -> list[Issue]:
        """Issues higher apps register (the Cloud Runner's limits, see ``journeys.checks``)."""
        ...


@dataclass(frozen=True)
class KnownContext:
    """A ``CheckContext`` of given values."""

    environments: Sequence[Environment]
    secret_names: frozenset[str]
    extra: Callable[[Definition], list[Issue]] | None = None

    def extra_checks(self, definition: Definition) -> list[Issue]:
        return self.extra(definition) if self.extra is not None else []


@dataclass
class Outcome:
    """What a post leads to: show ``page`` with ``status``, or save ``save`` first."""

    page: EditorPage
    status: int = 200
    save: CheckedDocument | None = None


@dataclass(frozen=True)
class StepRow:
    """One step as the template loops over it, with indexes as text.

    Django localises every integer it prints; with thousands of fields on a 200-step journey
    that alone cost a third of the page's time, so indexes arrive as strings. The list shows
    every step but the form only one: its rows are made when the form asks for them.
    """

    i: str
    number: str
    step: StepForm
    first: bool
    last: bool
    sent: str = ""  # the step's status in the last Send that ran it ("" if none did)
    count: str = ""  # how many steps the journey has (the Position field's bound)

    @cached_property
    def assertions(self) -> list[tuple[str, str, AssertionRow]]:
        """(index, 1-based number, row) per assertion."""
        return [(str(j), str(j + 1), row) for j, row in enumerate(self.step.assertions)]

    @cached_property
    def outputs(self) -> list[tuple[str, OutputRow]]:
        return [(str(j), row) for j, row in enumerate(self.step.outputs)]


def step_rows(state: EditorState, sent: Mapping[str, str] | None = None) -> list[StepRow]:
    last = len(state.steps) - 1
    count = str(last + 1)
    sent = sent or {}
    return [
        StepRow(
            i=str(index),
            number=str(index + 1),
            step=step,
            first=index == 0,
            last=index == last,
            sent=last_send(step, sent),
            count=count,
        )
        for index, step in enumerate(state.steps)
    ]


def issue_views(
    issues: Sequence[Issue], state: EditorState | None, *, yaml_text: str | None = None
) -> list[IssueView]:
    """Point each issue at its form field, or at its line when the page shows YAML."""
    if yaml_text is not None:
        lines = _yaml_lines(yaml_text, [issue.path for issue in issues if issue.path])
        return [
            IssueView(issue.severity, issue.path, issue.message, "yaml-text", lines.get(issue.path))
            for issue in issues
        ]
    return [
        IssueView(issue.severity, issue.path, issue.message, issue_anchor(issue.path, state))
        for issue in issues
    ]


def pick_environment(environments: Sequence[Environment], wanted: str | None) -> Environment | None:
    """Return the environment whose id is ``wanted``, else the first one (or None)."""
    for environment in environments:
        if str(environment.pk) == wanted:
            return environment
    return environments[0] if environments else None


def page_for_version(
    document: Mapping[str, object],
    number: int,
    *,
    yaml: bool,
    step: str | None = None,
    aliases: Mapping[str, list[str]] | None = None,
) -> EditorPage:
    """Return the page of a saved version, in the form or the YAML view, showing ``step``.

    ``aliases`` is the version's ``step_aliases`` (earlier ids of renamed steps).
    """
    page = EditorPage(
        mode="yaml" if yaml else "form",
        base_number=number,
        state=state_from_document(dict(document), aliases),
        yaml_text=RENDERED.render(dict(document)) if yaml else "",
    )
    page.select(_number(step, 0))
    return page


class _Rendered:
    """The documents of the last few YAML views shown, by a digest of their text: switching
    back to the form with the text as it was shown reads no YAML (a 1,500-step journey's
    0.6 MB took 0.3-0.8 s to parse, issue 15). The documents are shared: read, don't change."""

    def __init__(self, size: int = 4) -> None:
        self.size = size
        self._items: OrderedDict[bytes, Mapping[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def render(self, document: Mapping[str, Any]) -> str:
        """Return ``render_yaml(document)``, remembering the document by its text."""
        text = render_yaml(dict(document))
        key = hashlib.sha256(text.encode()).digest()
        with self._lock:
            self._items[key] = document
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return text

    def read(self, text: str) -> Any:
        """Return the document ``text`` was rendered from, else what ``read_document`` reads
        (raising ``DefinitionError`` as it does)."""
        key = hashlib.sha256(text.encode()).digest()
        with self._lock:
            found = self._items.get(key)
        return found if found is not None else read_document(text)


RENDERED = _Rendered()


def _number(text: str | None, default: int) -> int:
    try:
        return int(text or "")
    except ValueError:
        return default


def selected_after(operation: str, selected: int, count: int) -> int:
    """Return the step to show after ``operation``: the one it made, moved or worked on.

    ``count`` is the number of steps after the operation. A removed step gives way to the one
    that took its place; a button on a row of step I shows step I.
    """
    name, _, rest = operation.partition(":")
    args = [_number(part, -1) for part in rest.split(":")] if rest else []
    if name == "add_step":
        return count - 1
    if not args:
        return selected
    i = args[0]
    if name == "remove_step":
        return selected - 1 if i < selected else min(selected, count - 1)
    if name in ("duplicate_step", "move_down"):
        return i + 1
    if name == "move_up":
        return i - 1
    if name == "move_step" and len(args) == 2:
        return args[1]
    if name == "select_step" or name.startswith(("add_", "remove_", "pick_")):
        return i
    return selected


def _base_number(data: Mapping[str, str]) -> int:
    try:
        return int(data.get("base_version", ""))
    except ValueError:
        return -1


def posted_page(data: Mapping[str, str]) -> EditorPage:
    """Return the page the posted (unsaved) editor fields describe, as they are."""
    if data.get("mode") == "yaml":
        return EditorPage(
            mode="yaml",
            base_number=_base_number(data),
            state=EditorState(),
            yaml_text=data.get("yaml", ""),
        )
    page = EditorPage(mode="form", base_number=_base_number(data), state=state_from_post(data))
    page.select(_number(data.get("step"), 0))
    return page


# The Run check's memory of step schema checks, shared by the requests of this process: after a
# button press only the steps whose content it has not seen are checked again (issue 15).
STEP_CHECKS = StepChecks()


Checked = tuple[Definition | None, list[Issue], dict[str, Any] | None]


def _checked(page: EditorPage) -> Checked:
    """Return what the page shows as a definition (None when it does not read as one), the
    problems found reading it, and the document it was read from (None for broken YAML).

    A form row the state cannot read (a header value with no name) is one problem among the
    others: the rest of the document is still checked, so the Run check names what a save
    would (an unclosed "{{" elsewhere does not vanish because a row was left half filled).
    A page that was validated in full (a save) reuses that; otherwise the steps are checked
    through ``STEP_CHECKS`` (the same issues, computed only for steps not seen before) and no
    fingerprint is made (only a save needs one).
    """
    if page.checked is not None:
        return page.checked.definition, [], page.checked.document
    reading: list[Issue] = []
    document = None
    try:
        if page.mode == "yaml":
            document = RENDERED.read(page.yaml_text)
        else:
            document, reading = document_from_state(page.state, MEMORY.item)
        definition = definition_from_data(document, source="<editor>", step_checks=STEP_CHECKS)
    except DefinitionError as error:
        seen = {(issue.path, issue.message) for issue in reading}
        problems = reading + [i for i in error.issues if (i.path, i.message) not in seen]
        return None, problems, document if isinstance(document, dict) else None
    return definition, reading, document


def fill_check(page: EditorPage, context: CheckContext, wanted_environment: str | None) -> None:
    """Set the page's Run check: what it shows, checked against the chosen environment.

    Problems found while reading come first: with ``page.issues`` the check is left empty.
    """
    page.check_environment = pick_environment(context.environments, wanted_environment)
    if page.issues:
        page.check = []
        return
    definition, issues, document = _checked(page)
    yaml_text = page.yaml_text if page.mode == "yaml" else None
    environment = page.check_environment.as_mapping() if page.check_environment else None
    if definition is not None:
        issues += run_check(definition, environment=environment, secret_names=context.secret_names)
        issues += context.extra_checks(definition)
    elif document is not None:
        # Not a definition yet (a half-filled row): still name the environment values and
        # secrets its readable parts reference that are not there.
        issues += context_issues(
            document,
            issues,
            environment=environment,
            secret_names=context.secret_names,
            step_checks=STEP_CHECKS,
        )
    # With the form's state, a header's problem points at its row's field (a note under it).
    page.check = issue_views(issues, page.state, yaml_text=yaml_text)


# The hidden field naming the Run check the posting page shows (``check_key``).
CHECK_KEY_FIELD = "check_key"


def check_key(page: EditorPage, environments: Sequence[Environment]) -> str:
    """Return a short fingerprint of what the Run check card shows for ``page``.

    It covers every input of the card (its problems with their anchors and lines, the step on
    screen, whether a refused save took precedence, the environments offered and the chosen
    one's values), so an answer whose card would be the same as the one posted leaves it out.
    """
    chosen = page.check_environment
    parts = (
        page.mode,
        bool(page.issues),
        page.shown_step,
        [(e.pk, e.name) for e in environments],
        (chosen.pk, sorted(chosen.as_mapping().items())) if chosen else None,
        [(i.severity, i.path, i.message, i.anchor, i.line) for i in page.check or []],
    )
    return hashlib.blake2b(repr(parts).encode(), digest_size=8).hexdigest()


_STEP_ANCHOR = re.compile(r"^steps?-(\d+)(?:-|$)")


def _show(
    page: EditorPage, data: Mapping[str, str], context: CheckContext, status: int = 200
) -> Outcome:
    if page.mode == "form" and page.issues:
        # A refused save shows the step of its first problem (its form is the one on screen).
        for issue in page.issues:
            match = _STEP_ANCHOR.match(issue.anchor)
            if match and issue.severity == "error":
                page.select(int(match.group(1)))
                break
    fill_check(page, context, data.get("check_environment"))
    return Outcome(page, status)


def _yaml_to_form(page: EditorPage, data: Mapping[str, str], context: CheckContext) -> Outcome:
    """Switch to the form view; YAML that does not parse stays on screen with its error."""
    try:
        document = RENDERED.read(page.yaml_text)
    except DefinitionError as error:
        syntax = [issue for issue in error.issues if issue.code in SYNTAX_CODES]
        page.issues = issue_views(syntax, None, yaml_text=page.yaml_text)
        return _show(page, data, context, FORM_ERRORS)
    page.mode = "form"
    page.state = state_from_document(document if isinstance(document, dict) else {})
    page.select(page.selected)
    return _show(page, data, context)


def editor_post(data: Mapping[str, str], context: CheckContext) -> Outcome:
    """Apply the editor's button (``op``) to the posted fields; return what to do next.

    Buttons that only change the page (add a step, move it, switch view) come back as a page
    to show; ``save`` comes back with the checked document to save, or with the problems that
    stop it (status 400).
    """
    operation = data.get("op", "save")
    base = _base_number(data)
    message = data.get("message", "")[:300]
    if data.get("mode") == "yaml":
        text = data.get("yaml", "").replace("\r\n", "\n")
        page = EditorPage(
            mode="yaml", base_number=base, state=EditorState(), yaml_text=text, message=message
        )
        page.selected = max(0, _number(data.get("step"), 0))  # kept for the way back to the form
        if operation == "view_form":
            return _yaml_to_form(page, data, context)
        if operation != "save":
            return _show(page, data, context)
        try:
            page.checked = check_text(text)
        except DefinitionError as error:
            page.issues = issue_views(error.issues, None, yaml_text=text)
            return _show(page, data, context, FORM_ERRORS)
        return Outcome(page, save=page.checked)

    state, shown = read_post(data)
    page = EditorPage(mode="form", base_number=base, state=state, message=message, shown=shown)
    page.select(_number(data.get("step"), 0))
    page.shown_selected = page.selected
    if operation in ("save", "view_yaml"):
        document, issues = document_from_state(state, MEMORY.item)
        if issues:
            if operation == "save":
                # A refused save names every problem at once: what the form could not read,
                # and what the engine finds in the rest (a bad JSONPath, an unclosed "{{").
                issues = issues + _engine_issues(document, issues)
            page.issues = issue_views(issues, state)
            return _show(page, data, context, FORM_ERRORS)
        if operation == "view_yaml":
            page.mode, page.yaml_text = "yaml", RENDERED.render(document)
            return _show(page, data, context)
        try:
            # Every step is checked, each through the memory: only steps not seen before are
            # walked again, the answer is the full check's.
            page.checked = check_document(document, step_checks=STEP_CHECKS)
        except DefinitionError as error:
            page.issues = issue_views(error.issues, state)
            return _show(page, data, context, FORM_ERRORS)
        return Outcome(page, save=page.checked)
    operation = moved_to(operation, data.get("move_to"), len(state.steps))
    picked = (data.get("pick_path", "")[:500], _picked_value(data.get("pick_value", "")))
    if operation.startswith("select_step:") or apply_operation(state, operation, picked):
        page.select(selected_after(operation, page.selected, len(state.steps)))
    return _show(page, data, context)


def moved_to(operation: str, position: str | None, count: int) -> str:
    """Return ``move_to:I`` (the step form's Position field and its Move button) as
    ``move_step:I:J``, J the 0-based place of the 1-based ``position``, kept within the
    journey's ``count`` steps; any other operation as it is. A position that is not a whole
    number moves nothing (the field shows the step's place again)."""
    name, _, step = operation.partition(":")
    if name != "move_to":
        return operation
    try:
        target = int((position or "").strip())
    except ValueError:
        return "refresh"
    return f"move_step:{step}:{min(max(target, 1), count) - 1}"


def _engine_issues(document: Mapping[str, object], known: Sequence[Issue]) -> list[Issue]:
    """Return the engine's issues with ``document`` that ``known`` does not already name."""
    try:
        check_document(document, step_checks=STEP_CHECKS)
    except DefinitionError as error:
        seen = {(issue.path, issue.message) for issue in known}
        return [issue for issue in error.issues if (issue.path, issue.message) not in seen]
    return []


def _picked_value(raw: str) -> str:
    """Return a value clicked in a response (JSON) as the expected-value field writes it."""
    try:
        return value_to_text(numbers.loads(raw[:10_000]))
    except ValueError:
        return raw[:10_000]

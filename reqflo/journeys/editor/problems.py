"""A list of problems as the editor shows it: bounded, however many problems there are.

A 1,500-step journey whose first step is removed has 1,497 "unknown step 'login'" errors. Listed
one by one in the Run check, that was 568 KB in every answer of the editor (issue 15). Every
list of problems the editor shows (the Run check, a refused save, the Send panel's refusal)
goes through ``summarise``:

- up to ``LIMIT`` problems, all of them, as before;
- more than that: identical problems (same severity and words) are one line naming how many
  there are and linking the first ``LINKS`` of them, the first ``LIMIT`` lines are shown and a
  last line says how many more problems there are ("and 1,447 more problems");
- the problems of the step on screen (``selected``), up to ``LIMIT`` of them, are listed in
  full under their own heading, so their notes appear under the fields of the step's form;
- ``problem_steps``: the indexes of every step with an error, as ranges (``"1-3 7"``), for
  the step list's marks (``static/js/editor.js``), a few KB at most for 1,500 steps.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

LIMIT = 30  # lines shown in a list of many problems (and problems of the shown step)
LINKS = 3  # places linked on a line that groups identical problems

_STEP_PATH = re.compile(r"^steps\[(\d+)\]")


class Problem(Protocol):
    """What the editor knows of a problem (``editor.page.IssueView``)."""

    severity: str
    path: str
    message: str
    anchor: str
    line: int | None


@dataclass
class Group:
    """Identical problems: ``first`` stands for all ``count`` of them; ``places`` are linked."""

    first: Problem
    count: int = 1
    places: list[Problem] = field(default_factory=list)

    @property
    def more(self) -> int:
        """How many of the group's places are not linked."""
        return self.count - len(self.places)

    @property
    def count_text(self) -> str:
        return f"{self.count:,}"

    @property
    def more_text(self) -> str:
        return f"{self.more:,}"


@dataclass
class Summary:
    """A bounded list of problems (see the module's docstring).

    ``lines`` hold at most ``LIMIT`` groups, in the order their first problem came; ``hidden``
    counts the problems neither they nor ``step_problems`` show; ``total`` counts them all.
    """

    total: int
    lines: list[Group]
    hidden: int = 0
    step_number: int | None = None  # 1-based number of the step on screen, if it has problems
    step_problems: list[Problem] = field(default_factory=list)
    step_hidden: int = 0
    problem_steps: str = ""

    @property
    def hidden_text(self) -> str:
        return f"{self.hidden:,}"

    @property
    def total_text(self) -> str:
        return f"{self.total:,}"


def step_index(problem: Problem) -> int | None:
    """Return the index of the step a problem is about (``steps[4].request`` → 4), or None."""
    match = _STEP_PATH.match(problem.path)
    return int(match.group(1)) if match else None


def ranges(indexes: Sequence[int]) -> str:
    """Return sorted distinct indexes as space-separated ranges: ``[1, 2, 3, 7]`` → ``"1-3 7"``."""
    parts: list[str] = []
    ordered = sorted(set(indexes))
    start = 0
    while start < len(ordered):
        end = start
        while end + 1 < len(ordered) and ordered[end + 1] == ordered[end] + 1:
            end += 1
        low, high = ordered[start], ordered[end]
        parts.append(str(low) if low == high else f"{low}-{high}")
        start = end + 1
    return " ".join(parts)


def summarise(problems: Sequence[Problem], selected: int | None = None) -> Summary:
    """Return how the editor lists ``problems``; ``selected`` is the index of the step whose
    form is on screen (None for the YAML view or a panel without one).

    Up to ``LIMIT`` problems are all lines of their own (the list as it always was).
    """
    errors = [step_index(p) for p in problems if p.severity == "error"]
    marks = ranges([index for index in errors if index is not None])
    if len(problems) <= LIMIT:
        lines = [Group(problem, 1, [problem]) for problem in problems]
        return Summary(len(problems), lines, problem_steps=marks)
    groups: dict[tuple[str, str], Group] = {}
    for problem in problems:
        key = (problem.severity, problem.message)
        group = groups.get(key)
        if group is None:
            groups[key] = Group(problem, 1, [problem])
            continue
        group.count += 1
        if len(group.places) < LINKS:
            group.places.append(problem)
    lines = list(groups.values())[:LIMIT]
    summary = Summary(len(problems), lines, problem_steps=marks)
    if selected is not None:
        own = [problem for problem in problems if step_index(problem) == selected]
        if own:
            summary.step_number = selected + 1
            summary.step_problems = own[:LIMIT]
            summary.step_hidden = len(own) - len(summary.step_problems)
    summary.hidden = len(problems) - sum(group.count for group in lines)
    return summary

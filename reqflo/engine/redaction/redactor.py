"""The Redactor: find every registered secret in any view of a text and mask it."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator, Mapping
from functools import lru_cache
from itertools import accumulate, repeat
from operator import add
from typing import Any

from reqflo.engine.redaction.budget import (
    UNCLOCKED_CHARS,
    WITHHELD,
    OverBudget,
    spend,
    working,
)
from reqflo.engine.redaction.constants import (
    CUT_MARK,
    MIN_SPELLED_CHARS,
    REDACTED,
    SENSITIVE_HEADERS,
)
from reqflo.engine.redaction.escapes import (
    _HINTS,
    _HINTS_KEEPING_PLUS,
    _LONE_BYTE,
    _PARTIAL_ESCAPES,
    _before_cut,
    _normals,
    layer_views,
    normal_form,
)
from reqflo.engine.redaction.forms import _forms, secret_texts, trimmed, url_pieces
from reqflo.engine.redaction.layout import (
    nfkc_view,
    nul_free_view,
    nul_spaced,
    unwrapped_view,
    wrapped,
)
from reqflo.engine.redaction.runs import (
    _BASE64_RUN,
    _HEX_RUN,
    _MAX_RUN_LEVELS,
    _NOT_TEXT,
    _TAIL_DECODERS,
    RunDecoders,
    _any_text_run,
    _run_decoders,
)
from reqflo.engine.redaction.views import _lower, _View

# How far before a cut a secret's first characters are looked for, in characters per character
# of the secret: a 4-byte UTF-8 character in hex, in hex again, as HTML entities takes 80.
_MAX_SPELLING = 96


class Redactor:
    """Replace every registered secret, in any spelling, with REDACTED; grows as secrets are
    captured."""

    def __init__(
        self, secrets: Iterable[str] = (), *, stop: Callable[[], bool] | None = None
    ) -> None:
        self._added: set[str] = set()
        self._registered: set[str] = set()  # the values' own texts and pieces, not derived ones
        # Asked now and then during a long redaction: True stops it (RedactionStopped).
        self._stop = stop
        # Secrets shorter than MIN_SPELLED_CHARS, lower-cased: masked only as written, and
        # only where they stand alone (`_alone`).
        self._exact: tuple[str, ...] = ()
        self._short: tuple[re.Pattern[str], ...] = ()
        # The normal forms of every registered text (lower-cased, as written and with every
        # escape undone in each reading), longest first; all are searched so a string built
        # from a secret ("Bearer <token>") is masked whole.
        self._needles: tuple[str, ...] = ()
        # Normal forms ending in an unfinished escape (`abc%`): in a text the characters after
        # it may complete the escape, so they are searched without it, and the match is masked
        # up to and including the next character.
        self._cores: tuple[str, ...] = ()
        # The forms of the values themselves, without the strings built from them: a cut can
        # only leave the first characters of a value; the start of "Bearer <token>" reveals
        # nothing.
        self._values: tuple[str, ...] = ()
        self._marked = False
        self._not_text = False  # whether a value holds characters that are not text
        # Whether a value holds an escape of its own (`ab%41`): then texts are also searched
        # with one kind of escape undone a layer at a time (`layer_views`).
        self._escaped = False
        self._prefixes: set[str] = set()
        # Needles that are a value's first or last characters (`_truncations`): each maps to
        # the forms it starts (True) or ends (False), to extend a match to all the characters
        # of the form that stand there (`_extended`).
        self._ends: dict[str, tuple[tuple[str, bool], ...]] = {}
        self._longest_prefix = 0
        # For "does any form occur as it is?" only the forms containing no other one matter
        # ("bearer <token>" cannot occur without "<token>"): fewer substring searches.
        # Split by what they can occur in: an ASCII text (most evidence; `str.isascii` costs
        # nothing) is searched for the ASCII probes only.
        self._probes: tuple[str, ...] = ()
        self._wide_probes: tuple[tuple[str, tuple[str, ...]], ...] = ()
        # Whether any form is beyond ASCII: only then is a text searched in its NFKC form.
        self._wide = False
        self._ascii_needles: tuple[str, ...] = ()  # the needles an ASCII text can hold
        self._shortest_needle = 0  # the length of the shortest needle or core
        # Whether a needle, core or short secret holds a lower-case sigma: then texts are not
        # searched joined (`_SIGMAS`).
        self._sigma = False
        # Whether a needle, core or short secret holds the mask's character: else the mask
        # (REDACTED, a header masked by name) holds nothing to find (`step_scan`).
        self._bullet = False
        # The shortest base64 and hex runs that can hold the encoding of a value.
        self._run_decoders = _INITIAL_DECODERS
        # Whether each base64-looking run seen decodes to text with those decoders (emptied
        # when they change; dies with the redactor, as it holds evidence and so maybe secrets).
        self._run_memo: dict[str, bool] = {}
        # Texts that redacting leaves as they are, while a step is redacted (`step_scan`).
        self._untouched: frozenset[str] = frozenset()
        # Where the others stand in each text that holds one, from the same scan (`_by_text`).
        self._known: dict[str, tuple[tuple[int, int], ...]] = {}
        self.version = 0
        self.add(*secrets)

    def add(self, *values: Any, derived: bool = False) -> None:
        """Register secret values: each one's texts as `secret_texts` gives them (a structure
        by its JSON text and by every leaf inside it).

        `derived` marks strings built from already registered values ("Bearer <token>"): they
        cannot reveal anything new in evidence redacted earlier, so `version` stays the same.
        """
        fresh: list[str] = []
        # The values' own texts (not their URL pieces or strings built from them), whose first
        # and last characters are searched for too (`_truncations`).
        whole: set[str] = set()
        for value in values:
            texts = secret_texts(value)
            if not derived:
                # (A str is none of these: the ABC check is skipped for the common value.)
                structured = type(value) is not str and isinstance(value, Mapping | list | tuple)
                whole.update(texts[2:] if structured else texts)
                # The pieces URL syntax cuts a value into (not of a structure's JSON text,
                # whose pieces are its leaves, nor of a string built around a value: its
                # pieces would be the text around it).
                leaves = texts[2:] if structured else texts
                texts += [piece for text in leaves for piece in url_pieces(text)]
            texts += trimmed(texts)
            whole.update(trimmed(list(whole)))
            if not derived:
                self._registered.update(texts)
            for text in texts:
                if text in self._added:
                    continue
                self._added.add(text)
                fresh.append(text)
        short = {_lower(text) for text in fresh if len(text) < MIN_SPELLED_CHARS}
        if short - set(self._exact):
            self._exact = tuple(sorted({*self._exact, *short}, key=len, reverse=True))
            self._short = tuple(_alone(text) for text in self._exact)
            spelled = "".join(short)
            self._sigma = self._sigma or not _SIGMAS.isdisjoint(spelled)
            self._bullet = self._bullet or _BULLET in spelled
            if not derived:
                self.version += 1
        fresh = [text for text in fresh if len(text) >= MIN_SPELLED_CHARS]
        if not fresh:
            return
        # A normal form shorter than that (`&amp;&amp;` is `&&`) would be found everywhere.
        forms: set[str] = set()
        ends: dict[str, set[tuple[str, bool]]] = {}
        for text in fresh:
            searched = _searched_forms(text)
            forms.update(searched)
            if text in whole:
                for form in searched:
                    for end, is_start in _truncations(form):
                        ends.setdefault(end, set()).add((form, is_start))
        if not derived:
            new_values = forms.difference(self._values)
            self._values = tuple({*self._values, *forms})
            # Every value's first characters (not the whole value), for the ends of cut texts:
            # one set lookup per length instead of one comparison per form and length.
            self._prefixes = self._prefixes.union(*map(_prefixes, new_values))
            self._longest_prefix = max(map(len, self._values)) - 1
            self._marked = any(CUT_MARK in value for value in self._values)
            shortest = min(map(len, self._values))
            # A value with characters that are not text would not survive the collapsing.
            self._not_text = self._not_text or any(map(_NOT_TEXT.search, new_values))
            if not self._escaped:
                self._escaped = any(_escaped(text) for text in fresh if text in whole)
            keep = 0 if self._not_text else shortest
            decoders = _decoders_for(shortest, keep)
            if decoders is not self._run_decoders:
                self._run_decoders = decoders
                self._run_memo = {}
        for end, of in ends.items():
            self._ends[end] = tuple(sorted({*self._ends.get(end, ()), *of}))
        needles = set(self._needles)
        needles.update(forms, ends)
        if len(needles) == len(self._needles):
            return
        self._needles = tuple(sorted(needles, key=len, reverse=True))
        cores = set(self._cores)
        for form in forms:
            cores.update(_cores_of(form))
        self._cores = tuple(cores)
        self._shortest_needle = min(map(len, (*self._needles, *self._cores)))
        # Every new needle and core is (part of) a new form: one look at them all.
        spelled = "".join(forms)
        self._sigma = self._sigma or not _SIGMAS.isdisjoint(spelled)
        self._bullet = self._bullet or _BULLET in spelled
        probes: list[str] = []
        for needle in reversed(self._needles):
            for probe in probes:  # (plain loops: no generator per needle)
                if probe in needle:
                    break
            else:
                probes.append(needle)
        self._probes = tuple([probe for probe in probes if probe.isascii()])
        self._ascii_needles = tuple([needle for needle in self._needles if needle.isascii()])
        self._wide = len(self._ascii_needles) < len(self._needles)
        self._wide_probes = (
            _by_ascii_run([probe for probe in probes if not probe.isascii()]) if self._wide else ()
        )
        if not derived:
            self.version += 1

    def copy(self, *, stop: Callable[[], bool] | None = None) -> Redactor:
        """Return a redactor with the same secrets registered, asking `stop` (not this one's).

        It shares nothing this one or it may change (the sets and mappings `add` updates) and
        starts with no run memo: what it learns of the evidence it redacts stays its own."""
        twin = object.__new__(Redactor)
        twin.__dict__.update(self.__dict__)
        twin._added = set(self._added)
        twin._registered = set(self._registered)
        twin._prefixes = set(self._prefixes)
        twin._ends = dict(self._ends)
        twin._run_memo = {}
        twin._untouched = frozenset()
        twin._known = {}
        twin._stop = stop
        return twin

    def _probed(self, haystack: str) -> bool:
        """Return whether any probe occurs in the (lower-cased) haystack as it is."""
        for probe in self._probes:  # (loops, not `any` over a generator: the hot path)
            if probe in haystack:
                return True
        if haystack.isascii():
            return False
        for run, probes in self._wide_probes:
            if run in haystack and any(probe in haystack for probe in probes):
                return True
        return False

    def __bool__(self) -> bool:
        return bool(self._needles or self._exact)

    def _bare(self, text: str, lowered: str) -> tuple[str, ...] | None:
        """Return the (lower-cased) views of a text that needs no view built, else None.

        A bare text has no view but itself: no escape hint (so every normal form is the text),
        no line that may end in wrapped base64, no base64 or hex run that decodes to text, and
        no NFKC form to search (a registered value beyond ASCII and a text beyond ASCII). Where
        `+` is the only hint, its one other view reads each `+` as a space, character for
        character (a date's `+01:00`, a regular expression). Most evidence strings are bare
        (header values, numbers, assertion sentences, small JSON bodies): they are searched as
        they are, positions and all, without building views, and so without a work budget (a
        bare text shorter than UNCLOCKED_CHARS costs a few scans of itself and would never
        have asked `stop`).
        """
        if len(text) >= UNCLOCKED_CHARS or nul_spaced(text):
            return None  # a long text is viewed under its budget, which may ask `stop`
        for hint in _HINTS_KEEPING_PLUS:  # (a loop, not `any` over a generator: hot path)
            if hint in lowered:
                return None
        if wrapped(text):
            return None
        if self._wide and not text.isascii():
            return None
        plus = "+" in lowered
        if plus and (
            2 * len(text) >= UNCLOCKED_CHARS or (not text.isascii() and _LONE_BYTE.search(text))
        ):
            return None  # (a lone byte is read as a character too: another view)
        if _any_text_run(text, self._run_decoders, self._run_memo):
            return None
        return (lowered, _lower(text.replace("+", " "))) if plus else (lowered,)

    def _too_short(self, text: str) -> bool:
        """Return whether the text is shorter than every needle and core, and no view of it can
        be longer than it: then nothing but a short secret can be found in it.

        Every escape, base64 and hex decoding, line join and reading of `+` gives as many
        characters as it reads or fewer; only the NFKC view (searched when a registered value
        is beyond ASCII, in texts beyond ASCII) can give more (`ﬃ` is `ffi`).
        """
        return len(text) < self._shortest_needle and (not self._wide or text.isascii())

    def _present(self, lowered: str) -> bool:
        """Return whether any form (or core) occurs in the lower-cased text as it is."""
        if self._probed(lowered):
            return True
        return bool(self._cores) and any(core in lowered for core in self._cores)

    def _bare_spans(self, lowered: str, views: tuple[str, ...]) -> list[tuple[int, int]]:
        """`_spans` of a bare text that was not cut: its views (`_bare`) map back position for
        position."""
        spans = (
            [match.span() for pattern in self._short for match in pattern.finditer(lowered)]
            if self._short
            else []
        )
        for view in views:
            if self._present(view):
                break
        else:
            return spans
        for view in views:
            needles = self._ascii_needles if view.isascii() else self._needles
            for needle in needles:
                ends = self._ends.get(needle)
                spans.extend(_found(view, needle, 0) if ends is None else _cut(view, needle, ends))
            for core in self._cores:
                spans.extend(_found(view, core, 1))
        return spans

    def texts(self) -> frozenset[str]:
        """Return the registered values' texts and pieces (to mask the same values elsewhere,
        e.g. in logs). Strings built from them (`derived`: a sent URL, "Bearer <token>") are left
        out: they hold a value already here, and cut into pieces of their own they would mask
        the host, port and path words around it in every later line."""
        return frozenset(self._registered)

    # -- finding -------------------------------------------------------------------------------

    def _views(
        self,
        text: str,
        lowered: str | None = None,
        *,
        short_runs: bool = False,
        mapped: bool = True,
    ) -> list[_View]:
        """Return the text and every normalised view of it, each with its way back.

        `short_runs`: decode the base64 or hex run at the end, however short (a cut text).
        """
        base = _View(text, (), lowered, mapped=mapped)
        normals = _normals(base)
        views = [base, *(view for view in normals if view is not base)]
        decoders = _TAIL_DECODERS if short_runs else self._run_decoders
        # Base64 or hex inside base64 (a token inside an encoded JSON document): decoded again.
        # Decoded bytes that are not text seldom hold a run long enough to be tried again.
        sources = normals[:1]  # base64 keeps its `+`
        unwrapped = unwrapped_view(sources[0])
        if unwrapped is not None:
            views.append(unwrapped)
            sources = [unwrapped]  # every run of the wrapped text is (in) a run of this one
        nul_free = nul_free_view(base)
        # The views before any escape is undone (a value with escapes of its own is there).
        undecoded = [base]
        if nul_free is not None:  # UTF-16 or UTF-32 read as UTF-8
            views.extend(view for view in _normals(nul_free) if view.text != text)
            undecoded.append(nul_free)
        seen = {view.text for view in views}
        for _ in range(_MAX_RUN_LEVELS):
            following: list[_View] = []
            for source in sources:
                memo = self._run_memo if decoders is self._run_decoders else None
                if not _any_text_run(source.text, decoders, memo):
                    continue
                for pattern, decoder in decoders:
                    decoded = source.then(pattern, decoder, gaps=not short_runs)
                    if decoded is None:
                        continue
                    undecoded.append(decoded)
                    for index, normal in enumerate(_normals(decoded)):
                        if normal.text in seen:
                            continue
                        seen.add(normal.text)
                        views.append(normal)
                        if index == 0:
                            following.append(normal)
            sources = following
        if self._escaped:
            for source in undecoded:
                for view in (source, *layer_views(source)):
                    if view.text not in seen:
                        seen.add(view.text)
                        views.append(view)
        if self._wide:  # only a value beyond ASCII has other normal forms
            for view in list(views):
                normalised = nfkc_view(view)
                if normalised is not None:
                    views.append(normalised)
        return views

    def _spans(
        self, text: str, cut: str | None, lowered: str | None = None
    ) -> list[tuple[int, int]]:
        spans: list[tuple[int, int]] = []
        lowered = _lower(text) if lowered is None else lowered
        for pattern in self._short:
            spans.extend(match.span() for match in pattern.finditer(lowered))
        # Positions are worked out only where something was found (the rare case).
        present = bool(self._needles) and (self._probed(lowered) or self._occurs(text, lowered))
        views = self._views(text, lowered) if present else []
        for view in views:
            haystack = view.lowered
            needles = self._ascii_needles if haystack.isascii() else self._needles
            for needle in needles:
                ends = self._ends.get(needle)
                found = (
                    _found(haystack, needle, 0) if ends is None else _cut(haystack, needle, ends)
                )
                spans.extend(view.span(*stretch) for stretch in found)
            for core in self._cores:
                spans.extend(view.span(*found) for found in _found(haystack, core, 1))
        if not self._values:
            return spans
        if cut == "end":
            spans.extend(self._cut_spans(text, len(text)))
        elif cut == "marks" and CUT_MARK in text:
            previous = -1
            position = text.find(CUT_MARK)
            while position != -1:
                spans.extend(self._cut_spans(text, position, self._window_floor(previous)))
                previous = position
                position = text.find(CUT_MARK, position + 1)
        return spans

    def _window_floor(self, previous_mark: int) -> int:
        """Where the window before a cut may start, given the mark before it (-1: none).

        No value spelled in any way holds the mark itself (base64 and hex never do, escapes
        decode to it only when the value has one), so a secret's first characters before a cut
        cannot reach back past the mark before it, and the windows of many marks cost no more
        than the text. A value with a "…" of its own gets whole windows (within the budget).
        """
        if previous_mark < 0 or self._marked:
            return 0
        return previous_mark + 1

    def _occurs(self, text: str, lowered: str | None = None) -> bool:
        """Return whether any form occurs in any view of the text (without positions)."""
        for view in self._views(text, lowered, mapped=False):
            haystack = view.lowered
            if self._probed(haystack):
                return True
            if any(core in haystack for core in self._cores):
                return True
        return False

    def _cut_spans(self, text: str, position: int, floor: int = 0) -> list[tuple[int, int]]:
        """Return the span of a secret's first characters that end where the text was cut."""
        values = self._values
        spend(_PER_CUT)
        offset = max(floor, position - _MAX_SPELLING * max(map(len, values), default=0))
        window = text[offset:position]
        if not window:
            return []
        spans: list[tuple[int, int]] = []
        # A partial escape may be spelled in the text itself or only in a decoded view of it.
        views = [
            view for end in _before_cut(window) if end for view in self._views(end, short_runs=True)
        ]
        for view in views:
            # A cut inside a run of base64 or hex leaves a character or two that decode to
            # nothing yet (and decode as text one level up): tried without them too.
            ends = {
                end
                for trim in range(4)
                for end in _before_cut(view.lowered[: len(view.lowered) - trim])
            }
            for haystack in ends:
                # The longest first characters of any value the haystack ends with (the
                # shorter ones lie inside its span).
                for size in range(min(self._longest_prefix, len(haystack)), 0, -1):
                    if haystack[len(haystack) - size :] in self._prefixes:
                        start, _ = view.span(len(haystack) - size, len(haystack))
                        spans.append((offset + start, position))
                        break
        return spans

    def occurs_in(self, texts: Iterable[str], cut_texts: Iterable[str] = ()) -> bool:
        """Return whether any registered value, in any spelling, appears in any of the texts.

        `cut_texts` were cut short at their end: a secret's first characters there count too.
        """
        if not self:
            return False
        texts = [text for text in texts if text]
        cut_texts = [text for text in cut_texts if text]
        if self._sigma and len(texts) > 1:  # each text lower-cased as alone (`_SIGMAS`)
            return any(self.occurs_in([text]) for text in texts) or (
                bool(cut_texts) and self.occurs_in([], cut_texts)
            )
        # One copy of everything, viewed once: no escape or run spans the separator, and
        # texts of one character joined by it do not look NUL-spaced (`_JOIN`).
        joined = _JOIN.join(texts)
        lowered = _lower(joined)
        if any(pattern.search(lowered) for pattern in self._short):
            return True
        if not self._needles:
            return False
        if self._probed(lowered):
            return True
        if not cut_texts and CUT_MARK not in joined:
            views = self._bare(joined, lowered)
            if views is not None:  # no view to build, no cut to look before
                return any(self._present(view) for view in views)
        size = len(joined) + sum(map(len, cut_texts))
        try:
            with working(size, self._stop):
                return self._occurs_in(texts, cut_texts, joined, lowered)
        except OverBudget:
            return True  # not checked in full: redacted (and withheld) to be safe

    def _occurs_in(self, texts: list[str], cut_texts: list[str], joined: str, lowered: str) -> bool:
        if self._probed(lowered) or self._occurs(joined, lowered):
            return True
        for text in texts if CUT_MARK in joined else ():
            previous = -1
            position = text.find(CUT_MARK)
            while position != -1:
                if self._cut_spans(text, position, self._window_floor(previous)):
                    return True
                previous = position
                position = text.find(CUT_MARK, position + 1)
        return any(self._cut_spans(text, len(text)) for text in cut_texts)

    def untouched(self, texts: Iterable[str]) -> frozenset[str]:
        """Return the texts that `redact` (not cut) would return as they are, decided by one
        scan of them all joined; empty when that scan cannot tell.

        When the joined text is bare (`_bare`), so is every text in it: no escape hint, line
        of wrapped base64, NUL spacing or run that decodes to text can appear in a text
        without appearing in the joined text (no run or escape spans the separator, and
        lower-casing stops at it). A bare text's views are the joined views' stretches over
        it, position for position, so a text that no needle, core or short secret found in
        the joined views overlaps holds none in its own: `redact` returns it unchanged.
        """
        texts = [text for text in texts if text]
        found = self._joined_spans(texts)
        return frozenset() if found is None else _by_text(texts, found)[0]

    def _joined_spans(self, texts: list[str]) -> list[tuple[int, int]] | None:
        """Return where a needle, core or short secret stands in the (non-empty) texts joined
        by _JOIN, when the joined text is bare and holds no cut mark; else None."""
        if not texts or not (self._needles or self._exact) or (self._sigma and len(texts) > 1):
            return None
        joined = _JOIN.join(texts)
        if CUT_MARK in joined:
            return None
        lowered = _lower(joined)
        views = (lowered,) if not self._needles else self._bare(joined, lowered)
        return None if views is None else self._bare_spans(lowered, views)

    def step_scan(self, texts: Iterable[str], cut_texts: Iterable[str] = ()) -> _StepScan | None:
        """Return None when no registered value occurs in the texts (`occurs_in`'s answer),
        else a context in which `redact` returns the `untouched` texts at once: one step's
        strings are then redacted one by one after one scan of them all.

        A bare joined text (most steps) is scanned once for both answers: something is found
        in it exactly when `occurs_in` would find something (its probes are needles, and every
        needle holds a probe). The same scan tells where the registered values stand in each
        text that holds one (`_by_text`), which `redact` then masks without searching it again.
        """
        masks: frozenset[str] = frozenset()
        if self._bullet:
            texts = [text for text in texts if text]
        else:  # the masks hold nothing to find (no view but themselves, no bullet searched)
            texts = [text for text in texts if text and text != REDACTED]
            masks = _MASKS
        cut_texts = [text for text in cut_texts if text]
        found = None if cut_texts else self._joined_spans(texts)
        if found is None:
            if not self.occurs_in(texts, cut_texts):
                return None
            return _StepScan(self, masks)
        if not found:
            return None
        untouched, known = _by_text(texts, found)
        return _StepScan(self, untouched | masks, known)

    # -- masking -------------------------------------------------------------------------------

    def redact(self, text: str, *, cut: str | None = None) -> str:
        """Return text with every secret masked.

        `cut="end"`: the text was cut short at its end; `cut="marks"`: it was cut where "…"
        stands. A secret's first characters before a cut are masked too.
        """
        if cut == "marks" and CUT_MARK not in text:
            cut = None  # nothing was cut in this text
        if cut is None and text in self._untouched:
            return text  # found to hold nothing in its step's scan: the commonest case there
        if not text or not (self._needles or self._exact):  # (`__bool__`, without the call)
            return text
        if cut is None and not self._exact and self._too_short(text):
            return text  # the commonest evidence string: a number, a word, a short header
        lowered = _lower(text)
        known = self._known.get(text) if cut is None else None
        if known is not None:
            spans = list(known)  # where its step's scan found them (`_by_text`)
        else:
            views = None
            if cut is None:
                views = (lowered,) if not self._needles else self._bare(text, lowered)
            if views is not None:
                spans = self._bare_spans(lowered, views)
            else:
                try:
                    with working(len(text), self._stop):
                        spans = self._spans(text, cut, lowered)
                except OverBudget:
                    return WITHHELD
        if not spans:
            return text
        if self._exact:
            spans.extend(self._beside_masks(lowered, spans))
        spans.sort()
        out: list[str] = []
        last = 0
        current_start, current_end = spans[0]
        for start, end in spans[1:]:
            if start <= current_end:
                current_end = max(current_end, end)
                continue
            out.append(text[last:current_start])
            out.append(REDACTED)
            last = current_end
            current_start, current_end = start, end
        out.append(text[last:current_start])
        out.append(REDACTED)
        out.append(text[current_end:])
        return "".join(out)

    def _beside_masks(self, lowered: str, spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        """Return where a short secret stands alone once the spans are masked.

        A short secret is masked only where no letter or digit touches its letter-or-digit ends
        (`_alone`); a letter that touches it inside a masked span is not shown, so it no longer
        makes the secret part of a word: with `H` x 63 a secret too, `…HHHėėHHH…` would show
        `•••••ėė•••••`. Only an occurrence that ends where a span starts or starts where one
        ends can be one (a short one masked never exposes another: its own neighbours are no
        letters). `spans`: (start, end) of `lowered`, any order; cost: two slices per span
        and short secret.
        """
        merged: list[list[int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1][1] = max(merged[-1][1], end)
            else:
                merged.append([start, end])
        ends = {end for _, end in merged}
        starts = {start for start, _ in merged}
        found: list[tuple[int, int]] = []
        for short in self._exact:
            size = len(short)
            for start, end in merged:
                for at in (start - size, end):  # just before the span, just after it
                    if at < 0 or lowered[at : at + size] != short:
                        continue
                    if (at in ends or not _touches(lowered, at - 1, short[0])) and (
                        at + size in starts or not _touches(lowered, at + size, short[-1])
                    ):
                        found.append((at, at + size))
        return found

    def redact_obj(self, obj: Any, *, cut: str | None = None) -> Any:
        """Return a deep copy of plain data with every string (and mapping key) redacted."""
        if type(obj) is str:
            return self.redact(obj, cut=cut)
        if not (self._needles or self._exact):  # (`__bool__`, without the call)
            return obj
        if isinstance(obj, str):
            return self.redact(obj, cut=cut)
        if isinstance(obj, Mapping):
            return {self.redact_obj(k): self.redact_obj(v, cut=cut) for k, v in obj.items()}
        if isinstance(obj, list | tuple):
            return [self.redact_obj(v, cut=cut) for v in obj]
        if isinstance(obj, int | float) and not isinstance(obj, bool):
            text = str(obj)  # a float's shortest form, as JSON writes it
            if self.redact(text) != text:
                return REDACTED
        elif not isinstance(obj, bool) and obj is not None and self.redact(str(obj)) != str(obj):
            return REDACTED
        return obj

    def headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        """Return headers with sensitive ones masked entirely and secrets masked in the rest."""
        return {
            name: REDACTED if name.lower() in SENSITIVE_HEADERS else self.redact(value)
            for name, value in headers.items()
        }


def _by_text(
    texts: list[str], spans: list[tuple[int, int]]
) -> tuple[frozenset[str], dict[str, tuple[tuple[int, int], ...]]]:
    """Return, from the spans found in the texts joined by _JOIN (a bare joined text: each
    text's views are the joined views' stretches over it, position for position), the texts
    that no span overlaps, and for each other text the spans over it, as positions in the
    text, where they are the text's own: no span over any of its occurrences reaches past it.

    A span over a text that reaches past it (a needle holding the separator's characters, a
    core's character after it, a match grown across it, a short secret beside it) may stand for
    a stretch the text alone would not give, or hide one merged into it: such a text is not
    known, and `redact` searches it on its own. Spans within a text are the ones the text
    alone gives: its bare views are those stretches, and a needle, core or short secret that
    matches there matches in the text alone (the separator's NUL and SOH are neither letters
    nor digits for `_alone`, as the text's ends are not).

    Spans are not empty (end > start). Each span is placed by a binary search of the texts'
    starts (a step has ~30 strings and a handful of spans), not by walking every text.
    """
    count = len(texts)
    starts = list(accumulate(map(add, map(len, texts), repeat(len(_JOIN))), initial=0))
    own: dict[int, list[tuple[int, int]]] = {}
    crossing: set[int] = set()
    for span_start, span_end in sorted(spans):
        index = bisect_right(starts, span_start) - 1
        text_start = starts[index]
        if span_start < text_start + len(texts[index]):
            if span_end <= text_start + len(texts[index]):
                own.setdefault(index, []).append((span_start - text_start, span_end - text_start))
                continue
            crossing.add(index)
        index += 1  # every later text the span reaches, it reaches past its start
        while index < count and starts[index] < span_end:
            crossing.add(index)
            index += 1
    if not own and not crossing:
        return frozenset(texts), {}
    untouched = frozenset(
        [text for index, text in enumerate(texts) if index not in own and index not in crossing]
    )
    unknown = {texts[index] for index in crossing}
    known: dict[str, tuple[tuple[int, int], ...]] = {}
    for index, found in own.items():  # in text order: the first occurrence's spans
        text = texts[index]
        if (
            index not in crossing
            and text not in known
            and text not in unknown
            and text not in untouched
        ):
            known[text] = tuple(found)
    return untouched, known


class _StepScan:
    """`Redactor.step_scan`'s context: the untouched texts, and where the values stand in the
    others, are known inside it only."""

    __slots__ = ("known", "redactor", "untouched")

    def __init__(
        self,
        redactor: Redactor,
        untouched: frozenset[str],
        known: dict[str, tuple[tuple[int, int], ...]] | None = None,
    ) -> None:
        self.redactor = redactor
        self.untouched = untouched
        self.known = known or {}

    def __enter__(self) -> None:
        self.redactor._untouched = self.untouched
        self.redactor._known = self.known

    def __exit__(self, *exc_info: object) -> None:
        self.redactor._untouched = frozenset()
        self.redactor._known = {}


# A text is lower-cased by `str.lower` unless that changes its length (`İ` is two characters
# in lower case); then character by character. Only the capital sigma lower-cases differently
# the two ways (`str.lower` makes it final, `ς`, at the end of a word; alone it is U+03C3), so a
# text joined with one holding an `İ` (or with an `İ` decoded from its escapes) is lower-cased
# unlike the text alone: a redactor with a sigma in what it searches for searches each text on
# its own (`occurs_in`, `_joined_spans`).
_SIGMAS = frozenset("σς")
# The mask's character, and the mask as the only text `redact` leaves as it is by itself.
_BULLET = REDACTED[0]
_MASKS = frozenset({REDACTED})

# What joins the texts `occurs_in` searches at once. The NUL ends every escape, run and line;
# the character after it keeps single characters joined from reading as UTF-16 (`4\x004\x004`
# is NUL-spaced, `layout.nul_spaced`): that false alarm sent a whole step down the full path.
_JOIN = "\x00\x01"


# The decoders of a redactor that holds no value yet (shared: decoders hold no state).
_INITIAL_DECODERS = _run_decoders(_BASE64_RUN, _HEX_RUN, 1)


# Functions of one value. Not cached across redactors: a cache would keep secret values in
# memory after their run.
def _searched_forms(text: str) -> frozenset[str]:
    """Return the forms a registered text is searched by (`_forms`), without those shorter
    than MIN_SPELLED_CHARS other than the text itself."""
    lowered = _lower(text)
    return frozenset(
        form for form in _forms(text) if len(form) >= MIN_SPELLED_CHARS or form == lowered
    )


def _escaped(text: str) -> bool:
    """Return whether a registered text holds an escape of its own (`normal_form` changes
    more than its case). An ASCII text without an escape hint has nothing to undo (as `_forms`
    finds): its normal form is its lower case, without working it out."""
    lowered = _lower(text)
    if text.isascii():
        for hint in _HINTS:
            if hint in lowered:
                break
        else:
            return False
    return normal_form(text) != lowered


# Every _PARTIAL_ESCAPES match starts with one of these characters, at most this many
# characters before the end (`&#x` and 31 name characters).
_PARTIAL_START = re.compile(r"[%\\&]")
_PARTIAL_REACH = 34


def _truncations(form: str) -> tuple[tuple[str, bool], ...]:
    """Return a value's form cut short as a server may cut it: its first and its last
    max(ceil(n / 2), MIN_SPELLED_CHARS) characters of n, each with True for the first (none
    for a form that short or shorter). Any longer first or last characters hold these, so
    two searches find every cut of at least that length (`_extended` then finds its end).

    An end that is whitespace alone (the `    ` of `012    `) holds none of the value and is
    left out: it would mask the spaces of any text, and where it stands beside the value, the
    space after it (`012     end` read with the cut one space on)."""
    size = max(-(-len(form) // 2), MIN_SPELLED_CHARS)
    if size >= len(form):
        return ()
    return tuple(
        (end, is_start)
        for end, is_start in ((form[:size], True), (form[-size:], False))
        if not end.isspace()
    )


def _cut(
    haystack: str, needle: str, ends: tuple[tuple[str, bool], ...]
) -> Iterator[tuple[int, int]]:
    """Yield the stretches of the (lower-cased) haystack where `needle`, a value's first or
    last characters (`_truncations`), stands, each grown to as many of the value's characters
    as stand there (`_extended`): `tok/e` of `tok/en+42` in `tok/en+` gives all of `tok/en+`."""
    size = len(needle)
    at = haystack.find(needle)
    while at != -1:
        yield _extended(haystack, at, at + size, ends)
        at = haystack.find(needle, at + 1)


def _extended(
    haystack: str, start: int, end: int, ends: tuple[tuple[str, bool], ...]
) -> tuple[int, int]:
    """Return the stretch [start, end) of the haystack, where a value's first (or last)
    characters stand, grown to the most of that value's first (or last) characters that
    stand there, for each (form, is_start) in `ends`. Cost: O(log n) comparisons of at most n
    characters per form of n characters."""
    first, last = start, end
    for form, is_start in ends:
        low, high = end - start, len(form)  # the longest that matches is in [low, high]
        probe = high  # the whole form first: where the value stands whole, one comparison
        while low < high:
            if (
                haystack.startswith(form[:probe], start)
                if is_start
                else haystack.endswith(form[len(form) - probe :], 0, end)
            ):
                low = probe
            else:
                high = probe - 1
            probe = (low + high + 1) // 2
        if is_start:
            last = max(last, start + low)
        else:
            first = min(first, end - low)
    return first, last


def _prefixes(value: str) -> frozenset[str]:
    """Return a value's first characters, of every length short of the whole value."""
    return frozenset(map(value.__getitem__, map(slice, range(1, len(value)))))


def _cores_of(form: str) -> tuple[str, ...]:
    """Return the form without each unfinished escape it ends in (`abc%` is searched as `abc`)."""
    if not _PARTIAL_START.search(form, max(0, len(form) - _PARTIAL_REACH)):
        return ()  # no escape starts near the end (each _PARTIAL_ESCAPES match starts so)
    cores = []
    for pattern in _PARTIAL_ESCAPES:
        partial = pattern.search(form)
        if partial is not None and partial.start() >= 3:
            cores.append(form[: partial.start()])
    return tuple(cores)


@lru_cache(maxsize=64)
def _decoders_for(shortest: int, keep: int) -> RunDecoders:
    """Return the run decoders for values of at least `shortest` characters.

    A base64 run shorter than ceil(4 * shortest / 3) decodes to fewer bytes than the shortest
    value has characters, at any alignment (`runs`); the base64 minimum stays at or below the
    hex one, as `_any_text_run` looks for hex runs inside base64 runs.
    """
    hex_minimum = max(2, 2 * shortest - 2)
    base64_minimum = max(2, min(-(-4 * shortest // 3), hex_minimum))
    return _run_decoders(
        re.compile(f"[A-Za-z0-9+/_-]{{{base64_minimum},}}={{0,2}}"),
        re.compile(f"[0-9A-Fa-f]{{{hex_minimum},}}"),
        shortest,
        keep,
    )


# What the windows before one cut cost at least (in the budget's characters), however short.
_PER_CUT = 64


_ASCII_RUN = re.compile(r"[\x00-\x7f]{4,}")


def _by_ascii_run(probes: Iterable[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Group probes beyond ASCII by their longest ASCII stretch (at least 4 characters; "" for
    none): a value's Unicode forms and mojibake keep its ASCII characters, so one search for
    the stretch rules out the whole group in most texts."""
    groups: dict[str, list[str]] = {}
    for probe in probes:
        runs = _ASCII_RUN.findall(probe)
        groups.setdefault(max(runs, key=len) if runs else "", []).append(probe)
    return tuple((run, tuple(members)) for run, members in groups.items())


def _alone(short: str) -> re.Pattern[str]:
    """Match a short secret where it stands alone: an end that is a letter or digit must not
    touch another letter or digit (`a` in `x=a&b` and `"a"`, not in `data`); a symbol is
    matched wherever it stands."""
    before = r"(?<![^\W_])" if short[:1].isalnum() else ""
    after = r"(?![^\W_])" if short[-1:].isalnum() else ""
    return re.compile(before + re.escape(short) + after)


_WORD_CHARACTER = re.compile(r"[^\W_]")


def _touches(lowered: str, position: int, end: str) -> bool:
    """Return whether the character at `position` (outside the text: none) is a letter or
    digit that a short secret's letter-or-digit `end` touches there (as in `_alone`)."""
    return (
        end.isalnum()
        and 0 <= position < len(lowered)
        and _WORD_CHARACTER.match(lowered, position) is not None
    )


def _found(haystack: str, needle: str, extra: int) -> Iterator[tuple[int, int]]:
    """Yield the stretches of `haystack` that `needle` covers (overlapping matches merged into
    one stretch, so a needle matching at every position costs one stretch), each `extra`
    characters longer (within the haystack)."""
    size = len(needle) + extra
    found = haystack.find(needle)
    if found == -1:
        return
    start, end = found, found + size
    while True:
        found = haystack.find(needle, found + 1)
        if found == -1 or found > end:
            yield start, min(end, len(haystack))
            if found == -1:
                return
            start = found
        end = found + size


class Seeds:
    """The redactor of a command's runs, registered once: every data row of `reqflo run
    --data` starts from the same stored secrets and, usually, the same secret inputs (a
    password in the journey's defaults), whose forms, truncations and prefixes cost more to
    work out than most steps cost to redact.

    `redactor(secrets, inputs)` returns what `Redactor(secrets, stop=stop)` followed by
    `add(*inputs)` returns, as a copy (`Redactor.copy`) of one built for the last values
    asked for. Only the last values are kept (rows with their own passwords rebuild it, and
    a long data file's secrets are not collected), and only strings: any other value is
    registered afresh. One per command, dropped with it: it holds the secrets the command's
    context and rows hold anyway, and no evidence. Safe to share between threads.
    """

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last: tuple[tuple[tuple[str, ...], tuple[str, ...]], Redactor] | None = None

    def redactor(
        self,
        secrets: Iterable[Any],
        inputs: Iterable[Any],
        *,
        stop: Callable[[], bool] | None = None,
    ) -> Redactor:
        secrets, inputs = tuple(secrets), tuple(inputs)
        if not all(type(value) is str for value in (*secrets, *inputs)):
            redactor = Redactor(secrets, stop=stop)
            redactor.add(*inputs)
            return redactor
        key = (secrets, inputs)
        last = self._last
        if last is None or last[0] != key:
            seed = Redactor(secrets)
            seed.add(*inputs)
            last = self._last = (key, seed)  # one assignment: threads see either pair whole
        return last[1].copy(stop=stop)

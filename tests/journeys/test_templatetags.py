from __future__ import annotations

from reqflo.journeys.templatetags.journeys import options


def test_options_mark_the_selected_value_and_show_labels() -> None:
    html = options((("json", "JSON"), ("none", "No body")), "none")
    assert (
        html == '<option value="json">JSON</option><option value="none" selected>No body</option>'
    )


def test_options_keep_a_value_that_is_not_a_choice() -> None:
    html = options(("GET", "POST"), "FETCH")
    assert html.startswith('<option value="FETCH" selected>FETCH</option>')


def test_options_escape_what_they_print() -> None:
    html = options(("GET",), '"><script>', blank="default")
    assert "<script>" not in html
    assert html.startswith('<option value="">default</option>')

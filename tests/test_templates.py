"""One set of components: page assets in the head, one form field, one vocabulary, one user label.

These read the template files themselves, so a page that drifts from the shared components
fails here rather than looking slightly different from its neighbours.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.template import Context, Template

ROOT = Path(__file__).resolve().parent.parent
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _outside_head(text: str) -> str:
    return re.sub(r"{% block head %}.*?{% endblock %}", "", text, flags=re.DOTALL)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_uses_the_shared_components(path: Path) -> None:
    text = _text(path)
    if path.name != "base_bare.html":
        body = _outside_head(text)
        assert "<link" not in body, "page CSS goes in {% block head %}"
        assert "<script" not in body, "page scripts go in {% block head %}"
    assert "as_field_group" not in text, "render fields with components/form_field.html"
    # The class ``panel`` itself (not a name containing it, like ``send-panel``).
    assert not re.search(r'class="(?:[^"]*\s)?panel[\s"]', text), "the design's box is .card"
    assert not re.search(r"\.email\|default:", text), "name people with the user_label filter"


def test_app_css_lives_in_static_css() -> None:
    css = {p.relative_to(ROOT).as_posix() for p in ROOT.rglob("*.css") if ".venv" not in p.parts}
    assert {c for c in css if not c.startswith(("static/css/", "var/"))} == set()


def test_user_label_prefers_the_email() -> None:
    from django.contrib.auth.models import User

    template = Template("{% load ui %}[{{ a|user_label }}][{{ b|user_label }}][{{ c|user_label }}]")
    with_email = User(username="u1", email="ann@example.test")
    without = User(username="bob")
    assert template.render(Context({"a": with_email, "b": without, "c": None})) == (
        "[ann@example.test][bob][]"
    )

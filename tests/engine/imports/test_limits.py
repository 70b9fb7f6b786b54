"""An import never produces a journey that `reqflo run` or the editor would refuse for its size:
the journey-file limits (characters, values with aliases expanded, nesting) hold for what an
import writes, and a journey file never carries YAML aliases."""

from __future__ import annotations

import json

from reqflo.engine import read_document
from reqflo.engine.definition import MAX_DOCUMENT_CHARS, MAX_DOCUMENT_VALUES
from reqflo.engine.imports import import_curl, import_openapi, journey_text


def _spec(operations: str, anchors: str = "") -> str:
    return f"openapi: 3.0.3\ninfo: {{title: T, version: '1'}}\n{anchors}paths:\n{operations}"


def test_an_alias_expansion_past_the_journey_limit_leaves_the_step_out_with_the_reason() -> None:
    # 10 x 10 x 10 x 10 x 10 x 3 = 300,000 values once expanded: within the source limit
    # (2,000,000), past a journey's (200,000). Written out, the body would be megabytes.
    anchors = (
        "x-a: &a [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n"
        "x-b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "x-c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "x-d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "x-e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "x-f: &f [*e, *e, *e]\n"
    )
    operations = (
        "  /big:\n    post:\n      requestBody:\n        content:\n          application/json:\n"
        "            example: *f\n      responses: {'200': {description: ok}}\n"
        "  /small:\n    get:\n      responses: {'200': {description: ok}}\n"
    )

    result = import_openapi(_spec(operations, anchors))

    [journey] = result.journeys
    assert [s["id"] for s in journey.document["journey"]["steps"]] == ["get-small"]
    assert [str(item) for item in result.skipped] == [
        f"paths./big.post: left out: it holds more than {MAX_DOCUMENT_VALUES} values; a journey "
        f"file holds at most {MAX_DOCUMENT_CHARS} characters and {MAX_DOCUMENT_VALUES} values"
    ]


def test_a_journey_larger_than_a_journey_file_is_not_created_and_says_why() -> None:
    # 30 operations with a 100 kB example each: 3 MB in one journey.
    example = json.dumps({"note": "x" * 100_000})
    operations = "".join(
        f"  /op{n}:\n    post:\n      requestBody:\n        content:\n"
        f"          application/json:\n            example: {example}\n"
        "      responses: {'200': {description: ok}}\n"
        for n in range(30)
    )

    result = import_openapi(_spec(operations))

    assert result.journeys == []
    [item] = result.skipped
    assert item.message.startswith("journey 'T' not created: it is ")
    assert f"a journey file holds at most {MAX_DOCUMENT_CHARS} characters" in item.message


def test_a_written_journey_has_no_yaml_aliases_and_reads_back_within_the_limits() -> None:
    anchors = "x-example: &shared {sku: mug, qty: 2, tags: [a, b]}\n"
    operations = "".join(
        f"  /op{n}:\n    post:\n      requestBody:\n        content:\n"
        "          application/json:\n            example: *shared\n"
        "      responses: {'200': {description: ok}}\n"
        for n in range(3)
    )

    [journey] = import_openapi(_spec(operations, anchors)).journeys
    text = journey_text(journey.document)

    assert "&id" not in text
    assert "*id" not in text
    assert read_document(text) == journey.document


def test_a_journey_named_reqflo_never_takes_the_configuration_file_name() -> None:
    result = import_curl("curl https://api.test/a", name="reqflo")

    [journey] = result.journeys
    assert journey.slug == "reqflo-2"
    assert [str(item) for item in result.items if item.severity == "changed"] == [
        "curl: journey 'reqflo' got slug 'reqflo-2': 'reqflo.yaml' is the CLI's configuration file"
    ]

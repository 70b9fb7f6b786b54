"""Journey documents for tests: small, valid, and easy to vary."""

from __future__ import annotations

import copy
from typing import Any

from reqflo.journeys.editor import EditorState


def step(
    step_id: str, *, path: str = "/ping", outputs: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Return a GET step with one status assertion."""
    body: dict[str, Any] = {
        "id": step_id,
        "request": {"method": "GET", "url": "{{ env.base_url }}" + path},
        "assertions": [{"type": "status_code", "expected": 200}],
    }
    if outputs:
        body["outputs"] = outputs
    return body


def document(
    name: str = "Checkout flow", *, steps: int | list[dict[str, Any]] = 2, **journey: Any
) -> dict[str, Any]:
    """Return a valid document with ``steps`` numbered steps (``s1``, ``s2``…) or those given."""
    body: dict[str, Any] = {"name": name, **journey}
    if isinstance(steps, list):
        body["steps"] = steps
    else:
        body["steps"] = [step(f"s{index}", path=f"/p{index}") for index in range(1, steps + 1)]
    return {"journey": body}


def edited(doc: dict[str, Any], **journey: Any) -> dict[str, Any]:
    """Return a deep copy of ``doc`` with journey keys replaced."""
    new = copy.deepcopy(doc)
    new["journey"].update(journey)
    return new


LOGIN_YAML = """\
journey:
  name: Login check
  inputs:
    - {name: email, required: true}
  steps:
    - id: login
      request:
        method: POST
        url: "{{ env.base_url }}/login"
        headers: {Content-Type: application/json, Accept: application/json}
        json: {email: "{{ inputs.email }}", password: pw}
      assertions:
        - {type: status_code, expected: 200}
      outputs:
        token: {from: body, path: $.token, secret: true}
"""


def post_data(state: EditorState) -> dict[str, str]:
    """Return the POST fields the editor page sends for ``state`` (as a browser would)."""
    data: dict[str, str] = {
        "journey-name": state.name,
        "journey-description": state.description,
        "journey-tags": state.tags,
        "journey-extra": state.extra,
    }
    for i, row in enumerate(state.inputs):
        p = f"inputs-{i}-"
        data.update(
            {p + "name": row.name, p + "default": row.default, p + "description": row.description}
        )
        data[p + "extra"] = row.extra
        if row.required:
            data[p + "required"] = "on"
    for i, var in enumerate(state.variables):
        data.update({f"variables-{i}-name": var.name, f"variables-{i}-value": var.value})
    for i, step in enumerate(state.steps):
        p = f"steps-{i}-"
        data.update(
            {
                p + "id": step.id,
                p + "name": step.name,
                p + "request-method": step.method,
                p + "request-url": step.url,
                p + "request-body_kind": step.body_kind,
                p + "request-body": step.body,
                p + "timeout_ms": step.timeout_ms,
                p + "retries-count": step.retries_count,
                p + "retries-delay_ms": step.retries_delay_ms,
                p + "extra": step.extra,
                p + "sent_ids": step.sent_ids,
            }
        )
        for kind, rows in (("request-headers", step.headers), ("request-query", step.query)):
            for j, pair in enumerate(rows):
                data.update({f"{p}{kind}-{j}-name": pair.name, f"{p}{kind}-{j}-value": pair.value})
        if step.always:
            data[p + "always"] = "on"
        for j, row in enumerate(step.assertions):
            q = f"{p}assertions-{j}-"
            data.update(
                {
                    q + "type": row.type,
                    q + "operator": row.operator,
                    q + "target": row.target,
                    q + "expected": row.expected,
                }
            )
            if row.soft:
                data[q + "soft"] = "on"
        for j, out in enumerate(step.outputs):
            q = f"{p}outputs-{j}-"
            data.update({q + "name": out.name, q + "source": out.source, q + "path": out.path})
            if out.secret:
                data[q + "secret"] = "on"
    return data

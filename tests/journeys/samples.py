"""Journey documents for tests: small, valid, and easy to vary."""

from __future__ import annotations

import copy
from typing import Any


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


def document(name: str = "Checkout flow", *, steps: int = 2, **journey: Any) -> dict[str, Any]:
    """Return a valid document with ``steps`` numbered steps (``s1``, ``s2``…)."""
    body: dict[str, Any] = {"name": name, **journey}
    body.setdefault(
        "steps", [step(f"s{index}", path=f"/p{index}") for index in range(1, steps + 1)]
    )
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

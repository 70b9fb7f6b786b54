"""Postman Collection v2.0/v2.1 (and a Postman environment) to journeys.

Each top-level folder becomes a journey (`split="folders"`, nested folders flattened in order;
requests outside folders form one more journey), or the whole collection becomes one
(`split="collection"`). `{{name}}` variables become, first match wins: an earlier step's output
(set by a translated `pm.environment.set`), `env.base_url` (the variable most URLs start with),
a secret (a credential-looking name or value, or an environment entry of type secret), an
environment value (from the environment file), a journey variable (a collection variable), else
a required input. Credential values are never copied: only secret names are.
"""

from __future__ import annotations

import re
from collections import Counter
from typing import Any, Literal
from urllib.parse import urlsplit

from reqflo.engine.imports.builder import JourneyBuilder
from reqflo.engine.imports.postman_context import Context, JourneyState, entries, plain_text
from reqflo.engine.imports.postman_request import raw_url, request_step
from reqflo.engine.imports.postman_scripts import script_lines
from reqflo.engine.imports.report import ImportResult, SourceError
from reqflo.engine.imports.source import load_json, looks_like_credential, reference_name

MAX_FOLDER_DEPTH = 16
Split = Literal["folders", "collection"]

_BASE_NAME = re.compile(r"url|host|base|server|domain|endpoint", re.IGNORECASE)


def import_postman(
    source: bytes | str, *, environment: bytes | str | None = None, split: Split = "folders"
) -> ImportResult:
    """Convert a collection (and optionally an environment export); raise SourceError when
    the file is not a Postman v2.x collection at all."""
    collection = load_json(source, what="the collection")
    _check_collection(collection)
    result = ImportResult(kind="Postman collection")
    env_name, env_entries = _environment(environment)
    collection_vars = {
        str(v.get("key") or v.get("id")): v.get("value")
        for v in entries(collection.get("variable"))
        if isinstance(v, dict) and (v.get("key") or v.get("id")) and not v.get("disabled")
    }
    secret_vars = {
        name
        for name, (value, kind) in env_entries.items()
        if kind == "secret" or looks_like_credential(name, value)
    } | {name for name, value in collection_vars.items() if looks_like_credential(name, value)}
    env_vars = {name: value for name, (value, _) in env_entries.items()}
    ctx = Context(result, collection_vars, env_vars, secret_vars)
    _choose_base(collection, ctx, env_name)
    for name in sorted(secret_vars & set(env_vars)):
        result.add(f'environment "{env_name}" › "{name}"', "treated as a secret", "note")
    for name, value in sorted(env_vars.items()):
        if name not in secret_vars and name != ctx.base_var:
            result.environments.setdefault(env_name, {})[reference_name(name)] = value
    info = collection["info"]
    title = str(info.get("name") or "Imported collection")
    _scripts_on_container(collection, "collection", ctx)
    groups = _groups(collection, title, split, ctx)
    taken: set[str] = set()
    for name, location, items in groups:
        journey = JourneyState(
            JourneyBuilder(
                name=name, source=location, description=plain_text(info.get("description"))
            )
        )
        for item, where, auth in items:
            try:
                request_step(item, where, auth, journey, ctx)
            except (AttributeError, TypeError, KeyError, ValueError) as exc:
                # A part of the item in a shape v2.x does not allow: it costs this item only.
                result.add(
                    where, f"left out: part of it has an unexpected shape ({type(exc).__name__})"
                )
        built = journey.builder.build(result, taken_slugs=taken)
        if built is not None:
            result.journeys.append(built)
    secret_values = {env_vars.get(n, collection_vars.get(n)) for n in secret_vars}
    result.redact(
        str(value)
        for value in secret_values | set(ctx.literal_secrets) | ctx.credential_values
        if value not in (None, "")
    )
    result.finish()
    return result


def _check_collection(collection: Any) -> None:
    if not isinstance(collection, dict) or not isinstance(collection.get("info"), dict):
        raise SourceError("not a Postman collection: there is no 'info' object at the top")
    schema = str(collection["info"].get("schema", ""))
    if "collection/v2" not in schema:
        found = f"'{schema}'" if schema else "no schema"
        raise SourceError(
            f"info.schema is {found}; only Postman Collection v2.0 and v2.1 are imported "
            "(re-export the collection from Postman as v2.1)"
        )
    if not isinstance(collection.get("item"), list):
        raise SourceError("not a Postman collection: 'item' must be a list of requests")


def _environment(data: bytes | str | None) -> tuple[str, dict[str, tuple[Any, str]]]:
    if data is None:
        return "default", {}
    document = load_json(data, what="the environment file")
    if not isinstance(document, dict) or not isinstance(document.get("values"), list):
        raise SourceError("not a Postman environment: there is no 'values' list at the top")
    entries: dict[str, tuple[Any, str]] = {}
    for index, entry in enumerate(document["values"]):
        if not isinstance(entry, dict) or not entry.get("key"):
            raise SourceError(f"environment values[{index}]: expected an entry with a 'key'")
        if entry.get("enabled", True):
            entries[str(entry["key"])] = (entry.get("value"), str(entry.get("type", "")))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", str(document.get("name") or "default")).strip("-")
    return name or "default", entries


def _choose_base(collection: dict[str, Any], ctx: Context, env_name: str) -> None:
    """Pick what `env.base_url` stands for: the variable most URLs start with, else the origin
    most absolute URLs share."""
    starts: Counter[str] = Counter()
    origins: Counter[str] = Counter()
    for item, _, _ in _walk(collection["item"], "", None, 0):
        raw = raw_url(item.get("request"))
        leading = re.match(r"\{\{\s*([^{}]+?)\s*\}\}", raw)
        if leading:
            starts[leading.group(1)] += 1
        elif "://" in raw and "{{" not in raw.split("://", 1)[1].split("/", 1)[0]:
            parts = urlsplit(raw)
            origins[f"{parts.scheme}://{parts.netloc}"] += 1
    for name, _ in starts.most_common():
        value = ctx.env_vars.get(name, ctx.collection_vars.get(name))
        if (isinstance(value, str) and value.startswith(("http://", "https://"))) or (
            _BASE_NAME.search(name) and name not in ctx.secret_vars
        ):
            ctx.base_var = name
            if isinstance(value, str) and value.startswith(("http://", "https://")):
                ctx.result.environments.setdefault(env_name, {})["base_url"] = value.rstrip("/")
            else:
                ctx.result.add(
                    f"variable {{{{{name}}}}}",
                    "became env.base_url, but no http(s) value was found for it: set base_url "
                    "in the environment",
                    "note",
                )
            return
    if origins:
        ctx.base_origin = origins.most_common(1)[0][0]
        ctx.result.environments.setdefault(env_name, {})["base_url"] = ctx.base_origin


def _walk(
    items: list[Any], where: str, auth: Any, depth: int
) -> list[tuple[dict[str, Any], str, Any]]:
    """Flatten folders into (item, location, inherited auth), in order; refuse deep nesting."""
    out: list[tuple[dict[str, Any], str, Any]] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        name = str(item.get("name") or "(unnamed)")
        if isinstance(item.get("item"), list):
            location = f'{where} › folder "{name}"' if where else f'folder "{name}"'
            if depth >= MAX_FOLDER_DEPTH:
                raise SourceError(
                    f"{location} is nested more than {MAX_FOLDER_DEPTH} folders deep; "
                    "flatten the collection before importing it"
                )
            inherited = item.get("auth") if isinstance(item.get("auth"), dict) else auth
            out.extend(_walk(item["item"], location, inherited, depth + 1))
        else:
            location = f'{where} › item "{name}"' if where else f'item "{name}"'
            out.append((item, location, auth))
    return out


def _groups(
    collection: dict[str, Any], title: str, split: Split, ctx: Context
) -> list[tuple[str, str, list[tuple[dict[str, Any], str, Any]]]]:
    auth = collection.get("auth") if isinstance(collection.get("auth"), dict) else None
    if split == "collection":
        return [(title, "collection", _walk(collection["item"], "", auth, 0))]
    groups: list[tuple[str, str, list[tuple[dict[str, Any], str, Any]]]] = []
    loose: list[tuple[dict[str, Any], str, Any]] = []
    for item in collection["item"]:
        if isinstance(item, dict) and isinstance(item.get("item"), list):
            name = str(item.get("name") or "(unnamed)")
            _scripts_on_container(item, f'folder "{name}"', ctx)
            groups.append((name, f'folder "{name}"', _walk([item], "", auth, 0)))
        else:
            loose.extend(_walk([item], "", auth, 0))
    if loose:
        groups.insert(0, (title, "collection", loose))
    return groups


def _scripts_on_container(container: dict[str, Any], where: str, ctx: Context) -> None:
    for event in entries(container.get("event")):
        lines = [line for line in script_lines(event.get("script")) if line.strip()]
        if lines:
            ctx.result.add(
                f"{where} › event {event.get('listen', '?')}",
                f"{len(lines)} line(s) of script on a folder or collection are not imported; "
                "move the checks to the requests",
            )

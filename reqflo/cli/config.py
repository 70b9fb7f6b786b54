"""Read `reqflo.yaml`: local environments and per-journey cases for offline runs.

```yaml
environments:
  demo:
    base_url: http://127.0.0.1:${PORT:-8000}/demo-shop/api   # ${NAME} or ${NAME:-default}
    currency: EUR                 # any other value, referenced as {{ env.currency }}
default_env: demo                 # optional: used when --env is not given
journeys:
  checkout:                       # a journey slug, or a file name like checkout.yaml
    cases:
      Happy path: {email: ada@example.com, quantity: 2}
```

The file is looked up next to the journey file first, then in the current directory. Secrets
never live here: they come from `REQFLO_SECRET_<NAME>` environment variables. Environment values
may name shell variables: `${NAME}` (an error when unset) or `${NAME:-default}`; `$${` is a
literal `${`.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reqflo.cli.errors import CliError
from reqflo.engine.depth import load_yaml
from reqflo.engine.errors import DefinitionError
from reqflo.engine.yaml_module import yaml

CONFIG_NAME = "reqflo.yaml"

_TOP_KEYS = ("environments", "default_env", "journeys")
_JOURNEY_KEYS = ("cases",)


class ConfigError(CliError):
    """A `reqflo.yaml` problem, with the file and the key path in the message."""


@dataclass(frozen=True)
class JourneyConfig:
    """The cases `reqflo.yaml` lists for one journey."""

    cases: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class ProjectConfig:
    """The parsed `reqflo.yaml`; an empty one when no file exists."""

    path: Path | None = None
    environments: dict[str, dict[str, Any]] = field(default_factory=dict)
    default_env: str | None = None
    journeys: dict[str, JourneyConfig] = field(default_factory=dict)

    def environment(self, name: str) -> dict[str, Any]:
        """Return the values of environment `name`, or raise naming the ones that exist."""
        if name not in self.environments:
            raise ConfigError(
                f"unknown environment '{name}'; {self._where()} defines "
                + _listing(self.environments, "no environments")
            )
        return dict(self.environments[name])

    def journey(self, *, slug: str, file: Path) -> JourneyConfig:
        """Return the entry for a journey, matched by slug, file name or path from the config."""
        keys = [slug, file.name, file.stem]
        if self.path is not None:
            # A journey file outside the config's folder simply has no relative key.
            with contextlib.suppress(ValueError):
                keys.append(file.resolve().relative_to(self.path.parent.resolve()).as_posix())
        for key in keys:
            if key in self.journeys:
                return self.journeys[key]
        return JourneyConfig()

    def case(self, *, slug: str, file: Path, name: str) -> dict[str, Any]:
        """Return the input values of case `name`, or raise naming the cases that exist."""
        cases = self.journey(slug=slug, file=file).cases
        if name not in cases:
            raise ConfigError(
                f"unknown case '{name}' for journey '{slug}'; {self._where()} lists "
                + _listing(cases, "no cases for it")
                + " (case names are case-sensitive)"
            )
        return dict(cases[name])

    def _where(self) -> str:
        return str(self.path) if self.path else f"no {CONFIG_NAME} was found, so it"


def find_config(journey_file: Path, *, cwd: Path | None = None) -> Path | None:
    """Return the `reqflo.yaml` next to the journey file, else the one in the current folder."""
    for folder in (journey_file.resolve().parent, (cwd or Path.cwd()).resolve()):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def load_config(path: Path | None) -> ProjectConfig:
    """Parse and validate `reqflo.yaml`, reporting every problem at once."""
    if path is None:
        return ProjectConfig()
    try:
        document = load_yaml(path.read_text(encoding="utf-8"))
    except DefinitionError as exc:  # nested too deep to read
        raise ConfigError(f"{path}: {exc.issues[0].message}") from None
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: invalid YAML: {problem}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from None
    return _parse(path, document or {})


def _parse(path: Path, document: Any) -> ProjectConfig:
    problems: list[str] = []
    if not isinstance(document, Mapping):
        raise ConfigError(f"{path}: expected a mapping with {', '.join(_TOP_KEYS)}")
    _unknown_keys(document, _TOP_KEYS, "", problems)
    environments = _environments(document.get("environments"), problems)
    default_env = document.get("default_env")
    if default_env is not None and default_env not in environments:
        problems.append(f"default_env: '{default_env}' is not one of the environments")
    journeys = _journeys(document.get("journeys"), problems)
    if problems:
        raise ConfigError(f"{path} has problems:\n  " + "\n  ".join(problems))
    return ProjectConfig(
        path=path, environments=environments, default_env=default_env, journeys=journeys
    )


def _environments(value: Any, problems: list[str]) -> dict[str, dict[str, Any]]:
    environments: dict[str, dict[str, Any]] = {}
    for name, values in _mapping(value, "environments", problems).items():
        where = f"environments.{name}"
        entries = {
            key: _expand(entry, f"{where}.{key}", problems)
            for key, entry in _mapping(values, where, problems).items()
        }
        base_url = entries.get("base_url")
        if base_url is not None and not str(base_url).startswith(("http://", "https://")):
            problems.append(f"{where}.base_url: '{base_url}' must start with http:// or https://")
        environments[str(name)] = dict(entries)
    return environments


_VARIABLE = re.compile(r"\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def _expand(value: Any, where: str, problems: list[str]) -> Any:
    """Replace `${NAME}` and `${NAME:-default}` in a string value with the shell's variables."""
    if not isinstance(value, str) or "$" not in value:
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$${":
            return "${"
        name, default = match.group(1), match.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        problems.append(f"{where}: ${{{name}}} is not set (give a default: ${{{name}:-value}})")
        return match.group(0)

    return _VARIABLE.sub(replace, value)


def _journeys(value: Any, problems: list[str]) -> dict[str, JourneyConfig]:
    journeys: dict[str, JourneyConfig] = {}
    for key, entry in _mapping(value, "journeys", problems).items():
        where = f"journeys.{key}"
        entry = _mapping(entry, where, problems)
        _unknown_keys(entry, _JOURNEY_KEYS, where + ".", problems)
        cases: dict[str, dict[str, Any]] = {}
        for case_name, inputs in _mapping(entry.get("cases"), where + ".cases", problems).items():
            cases[str(case_name)] = dict(_mapping(inputs, f"{where}.cases.{case_name}", problems))
        journeys[str(key)] = JourneyConfig(cases=cases)
    return journeys


def _mapping(value: Any, where: str, problems: list[str]) -> Mapping[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        problems.append(f"{where}: expected a mapping, found {type(value).__name__}")
        return {}
    return value


def _unknown_keys(
    value: Mapping[str, Any], allowed: tuple[str, ...], prefix: str, problems: list[str]
) -> None:
    for key in value:
        if key not in allowed:
            import difflib  # only for a message

            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else f" (allowed: {', '.join(allowed)})"
            problems.append(f"{prefix}{key}: unknown key{hint}")


def _listing(names: Mapping[str, Any], empty: str) -> str:
    return ", ".join(f"'{name}'" for name in names) if names else empty

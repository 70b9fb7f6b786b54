"""A system check so a missing or weak store key fails at start, not at the first run."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from reqflo.secrets.crypto import StoreKeyMissing, check_store_key


@register()
def store_key_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        check_store_key(getattr(settings, "REQFLO_SECRETS_KEY", None))
    except StoreKeyMissing as exc:
        return [Error(str(exc), id="secrets.E001")]
    return []

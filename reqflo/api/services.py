"""Create, revoke and check API tokens.

A token is ``rqf_`` followed by 43 URL-safe characters (256 random bits); the database keeps
only its SHA-256, which is enough for a key of that strength (nothing to guess back), and makes
the lookup one indexed equality.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.db.models.functions import Now
from django.utils import timezone

from reqflo.api.models import TOKEN_PREFIX, ApiToken
from reqflo.core.models import Membership, Workspace

TOKEN_PATTERN = re.compile(rf"^{TOKEN_PREFIX}[A-Za-z0-9_-]{{43}}$")
# Last-use stamps are written at most this often per token (and on a new address), so status
# polling does not turn every read into a write.
LAST_USED_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class CreatedToken:
    """A new token row and the token itself, which is never readable again."""

    token: ApiToken
    key: str


class TokenRefused(Exception):
    """The presented token does not grant access; ``code`` is the API's stable error code.

    Codes: ``token_missing``, ``token_malformed``, ``token_unknown``, ``token_revoked``,
    ``token_expired``, ``token_not_a_member`` (the user left the token's workspace).
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def api_token_create(
    *, user: User, workspace: Workspace, name: str, expires_at: datetime | None = None
) -> CreatedToken:
    """Create a token for ``user`` in ``workspace``; the caller shows ``key`` once.

    Raises ``ValidationError`` for a blank name, an expiry in the past, or a user who is not a
    member of the workspace.
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": "Give the token a name (what or where it is used)."})
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "The expiry must be in the future."})
    if not Membership.objects.filter(user=user, workspace=workspace).exists():
        raise ValidationError({"workspace": f"You are not a member of {workspace.name}."})
    key = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        workspace=workspace,
        name=name[:100],
        key_hash=_digest(key),
        hint=key[len(TOKEN_PREFIX) : len(TOKEN_PREFIX) + 6],
        expires_at=expires_at,
    )
    return CreatedToken(token=token, key=key)


def api_token_revoke(*, token: ApiToken, by: User) -> ApiToken:
    """Revoke ``token`` now (again revoking a revoked token keeps its first revocation)."""
    ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(
        revoked_at=Now(), revoked_by=by
    )
    token.refresh_from_db()
    return token


def api_token_authenticate(*, key: str | None, address: str) -> tuple[ApiToken, Membership]:
    """Return the live token ``key`` names and its user's membership in the token's workspace.

    Stamps the last use (time and ``address``) at most once a minute per token. Raises
    ``TokenRefused`` naming why the token does not grant access.
    """
    if not key:
        raise TokenRefused(
            "token_missing",
            "No API token: send 'Authorization: Bearer rqf_…' (create one on the API tokens page).",
        )
    if not TOKEN_PATTERN.match(key):
        raise TokenRefused(
            "token_malformed", "The API token is malformed: a token is 'rqf_' and 43 characters."
        )
    token = (
        ApiToken.objects.select_related("user", "workspace").filter(key_hash=_digest(key)).first()
    )
    if token is None:
        raise TokenRefused("token_unknown", "The API token is not known (deleted or mistyped).")
    if token.revoked_at is not None:
        raise TokenRefused("token_revoked", f"The API token '{token.name}' was revoked.")
    now = timezone.now()
    if token.expires_at is not None and token.expires_at <= now:
        raise TokenRefused("token_expired", f"The API token '{token.name}' has expired.")
    if not token.user.is_active:
        raise TokenRefused("token_unknown", "The API token's user account is deactivated.")
    membership = (
        Membership.objects.select_related("workspace", "user")
        .filter(user=token.user, workspace=token.workspace)
        .first()
    )
    if membership is None:
        raise TokenRefused(
            "token_not_a_member",
            f"The API token's user is no longer a member of {token.workspace.name}.",
        )
    stale = token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY
    if stale or token.last_used_address != (address or None):
        ApiToken.objects.filter(pk=token.pk).update(
            last_used_at=now, last_used_address=address or None
        )
    return token, membership

"""Personal API tokens: what the ``reqflo`` command and CI present to the JSON API.

A token belongs to one user and one workspace and acts with that user's current role there
(a member removed from the workspace takes their tokens' access with them). Only the SHA-256 of
the token is stored; the token itself is shown once, when it is created.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from reqflo.core.models import BaseModel, Workspace

# Every token starts with this, so secret scanners (and people) recognise a leaked one.
TOKEN_PREFIX = "rqf_"


class ApiToken(BaseModel):
    """One personal token: its name, workspace, expiry, revocation and last use.

    ``key_hash`` is the SHA-256 hex digest of the whole token; ``hint`` its first characters
    after ``rqf_``, for telling tokens apart in lists. Revoked and expired tokens are kept, so
    the list shows what existed and when it was last used.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    key_hash = models.CharField(max_length=64, unique=True)
    hint = models.CharField(max_length=12)
    expires_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_used_at = models.DateTimeField(null=True, blank=True)
    last_used_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["workspace", "-created_at"])]

    def __str__(self) -> str:
        # The id, never the key.
        return f"api token {self.pk}"

    @property
    def display(self) -> str:
        return f"{TOKEN_PREFIX}{self.hint}…"


class ApiRequestCount(models.Model):
    """How many requests one token made in one minute: the per-token rate limit's counter.

    One row per token and minute (``minute`` counts minutes since the epoch), bumped by a single
    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (``reqflo.api.throttle``), so parallel requests
    on any gunicorn worker or machine sharing the database each see a distinct count.
    """

    token = models.ForeignKey(ApiToken, on_delete=models.CASCADE, related_name="+")
    minute = models.BigIntegerField()
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token", "minute"], name="api_request_count_unique")
        ]

    def __str__(self) -> str:
        return f"{self.hits} requests of {self.token_id} in minute {self.minute}"

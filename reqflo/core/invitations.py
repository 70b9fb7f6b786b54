"""Invitation links: the token is the invitation's id signed with ``SECRET_KEY``.

A signature (not a stored random token) lets an owner copy the link again from the members
page. The link is single-use and expires because the *row* says so (``accepted_at``,
``expires_at``); revoking deletes the row. Rotating ``SECRET_KEY`` invalidates every open link.
"""

from __future__ import annotations

import logging
from uuid import UUID

from django.core import signing
from django.http import HttpRequest
from django.urls import reverse

from reqflo.core.models import Invitation
from reqflo.core.services import InvitationError

logger = logging.getLogger(__name__)

_SIGNER = signing.Signer(salt="reqflo.core.invitation")
_INVALID = (
    "This invitation link is not valid. Check that you copied all of it, or ask for a new one."
)


def invitation_token(invitation: Invitation) -> str:
    """Return the token for ``invitation``'s link."""
    return _SIGNER.sign(str(invitation.pk))


def invitation_url(request: HttpRequest, invitation: Invitation) -> str:
    """Return the absolute link that lets the invited person accept ``invitation``."""
    path = reverse("core:invitation_accept", args=[invitation_token(invitation)])
    return request.build_absolute_uri(path)


def invitation_from_token(token: str) -> Invitation:
    """Return the invitation ``token`` names, or raise ``InvitationError`` ("invalid"/"revoked")."""
    try:
        pk = UUID(_SIGNER.unsign(token))
    except (signing.BadSignature, ValueError):
        raise InvitationError("invalid", _INVALID) from None
    invitation = Invitation.objects.select_related("workspace").filter(pk=pk).first()
    if invitation is None:
        raise InvitationError("revoked", "This invitation link is no longer valid.")
    return invitation


def log_invitation_link(request: HttpRequest, invitation: Invitation) -> str:
    """Log and return the link: there is no mail server, so the owner passes it on."""
    url = invitation_url(request, invitation)
    logger.info("Invitation for %s to %s: %s", invitation.email, invitation.workspace, url)
    return url

"""Gunicorn's access log, with no credential from a URL in it.

Gunicorn writes its access log (``--access-logfile -`` in the Procfile) outside Django, so the
``django.request`` filter (``reqflo.core.request_log``) never sees it. An invitation link is
``/invitations/<token>/`` and the token is the whole credential: it reaches the log as the
request line (``%(r)s``), the path (``%(U)s``), a sign-in redirect's ``?next=%2Finvitations%2F…``
query (``%(q)s``) and the ``Referer`` of the page opened from it (``%(f)s``). This logger class
masks it in every text atom, in every spelling a URL gives it (raw or percent-encoded slashes).

Used as ``gunicorn … --logger-class reqflo.core.access_log.AccessLogger``.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from reqflo.core.request_log import mask_url_tokens


class AccessLogger(Logger):  # type: ignore[misc]
    """Gunicorn's default logger; every string atom of an access line has URL tokens masked."""

    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        return {
            key: mask_url_tokens(value) if isinstance(value, str) else value
            for key, value in atoms.items()
        }

"""The JSON API (django-ninja): one ``NinjaAPI`` at ``/api/v1/`` with its OpenAPI document.

Every endpoint authenticates with a personal API token (``reqflo.api.auth``), is throttled per
token (``REQFLO_API_RATE_PER_MINUTE``, 429 with ``Retry-After``) and answers errors as JSON
with a stable ``code`` (``reqflo.api.errors``). The document is served at
``/api/v1/openapi.json`` and browsable at ``/api/v1/docs``.
"""

from __future__ import annotations

from ninja import NinjaAPI

from reqflo import __version__
from reqflo.api import journeys_api, publish, runner_protocol, runs_api
from reqflo.api.auth import TokenAuth
from reqflo.api.errors import install_handlers
from reqflo.api.json_io import ExactParser, ExactRenderer
from reqflo.api.throttle import TokenRateThrottle

api = NinjaAPI(
    title="Reqflo API",
    version=f"1 ({__version__})",
    description="Journeys, versions, artifacts and durable cloud runs. See docs/api.md.",
    urls_namespace="api",
    auth=TokenAuth(),
    throttle=[TokenRateThrottle()],
    docs_url="/docs",
    parser=ExactParser(),
    renderer=ExactRenderer(),
)
install_handlers(api)
api.add_router("/", journeys_api.router)
api.add_router("/", runs_api.router)
api.add_router("/", publish.router)
api.add_router("/", runner_protocol.router)

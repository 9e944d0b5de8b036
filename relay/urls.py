"""The /v1 route table (and the OpenAI billing compat routes), matched by relay.asgi."""

from __future__ import annotations

import re

from relay import views

EXACT: dict[tuple[str, str], object] = {
    ("POST", "/v1/chat/completions"): views.chat_completions,
    ("POST", "/v1/completions"): views.completions,
    ("POST", "/v1/edits"): views.edits,
    ("POST", "/v1/embeddings"): views.embeddings,
    ("POST", "/v1/moderations"): views.moderations,
    ("POST", "/v1/images/generations"): views.images_generations,
    ("POST", "/v1/audio/speech"): views.audio_speech,
    ("POST", "/v1/audio/transcriptions"): views.audio_transcriptions,
    ("POST", "/v1/audio/translations"): views.audio_translations,
    ("GET", "/v1/models"): views.models_list,
    ("GET", "/dashboard/billing/subscription"): views.billing_subscription,
    ("GET", "/v1/dashboard/billing/subscription"): views.billing_subscription,
    ("GET", "/dashboard/billing/usage"): views.billing_usage,
    ("GET", "/v1/dashboard/billing/usage"): views.billing_usage,
}

PATTERNS: list[tuple[str, re.Pattern, object]] = [
    ("POST", re.compile(r"^/v1/engines/(?P<model>[^/]+)/embeddings$"), views.engine_embeddings),
    ("GET", re.compile(r"^/v1/models/(?P<model>.+)$"), views.model_retrieve),
]
# The raw Proxy channel (type 43), any method: /v1/oneapi/proxy/<channel id>/<path for the upstream>.
PATTERNS += [
    (method, re.compile(r"^/v1/oneapi/proxy/(?P<channel_id>\d+)(?P<path>/.*)?$"), views.oneapi_proxy)
    for method in ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
]

# Routes the original lists as "API not implemented" (501).
NOT_IMPLEMENTED = re.compile(
    r"^/v1/(images/(edits|variations)|files(/[^/]+(/content)?)?|fine_tuning/jobs(/[^/]+(/cancel|/events)?)?"
    r"|assistants(/.*)?|threads(/.*)?)$"
)


def resolve(method: str, path: str):
    """(view, kwargs) for a request, or (None, {}) when nothing matches."""
    view = EXACT.get((method, path))
    if view is not None:
        return view, {}
    for route_method, pattern, view in PATTERNS:
        if method == route_method and (match := pattern.match(path)):
            return view, match.groupdict()
    if NOT_IMPLEMENTED.match(path) or (method == "DELETE" and path.startswith("/v1/models/")):
        return views.not_implemented, {}
    return None, {}

"""Azure OpenAI: deployment URLs and the ``api-key`` header; bodies and answers are OpenAI's."""

from __future__ import annotations

from relay.providers.openai import OpenAIAdaptor
from relay.schemas import RelayRequest

DEFAULT_API_VERSION = "2024-03-01-preview"
_CLOUDFLARE_GATEWAY = "https://gateway.ai.cloudflare.com"


class AzureAdaptor(OpenAIAdaptor):
    name = "azure"

    def auth_headers(self) -> dict[str, str]:
        return {"api-key": self.channel.key}

    def api_version(self) -> str:
        return str(self.channel.config.get("api_version") or self.channel.other or DEFAULT_API_VERSION)

    def url(self, req: RelayRequest, upstream_model: str) -> str:
        # https://learn.microsoft.com/azure/ai-services/openai/reference — deployment names cannot hold dots.
        deployment = upstream_model.replace(".", "")
        operation = req.path.removeprefix("/v1/")
        base = self.channel.base_url.rstrip("/")
        # An AI Gateway URL already ends where Azure's /openai/deployments would start.
        prefix = base if base.startswith(_CLOUDFLARE_GATEWAY) else f"{base}/openai/deployments"
        return f"{prefix}/{deployment}/{operation}?api-version={self.api_version()}"

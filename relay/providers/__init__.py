"""Adaptor registry: adaptor slug (relay.channel_types rows) → dotted path, imported on first use."""

from __future__ import annotations

from functools import cache
from importlib import import_module

from relay.providers.base import Adaptor

ADAPTORS: dict[str, str] = {
    "openai": "relay.providers.openai.OpenAIAdaptor",
    "azure": "relay.providers.azure.AzureAdaptor",
    "zhipu": "relay.providers.zhipu.ZhipuAdaptor",
    "ali": "relay.providers.ali.AliAdaptor",
    "baidu": "relay.providers.baidu.BaiduAdaptor",
    "tencent": "relay.providers.tencent.TencentAdaptor",
    "xunfei": "relay.providers.xunfei.XunfeiAdaptor",
    "proxy": "relay.providers.proxy.ProxyAdaptor",
    "aiproxy_library": "relay.providers.aiproxy_library.AIProxyLibraryAdaptor",
    "anthropic": "relay.providers.anthropic.AnthropicAdaptor",
    "aws": "relay.providers.aws.AwsAdaptor",
    "vertexai": "relay.providers.vertexai.VertexAIAdaptor",
    "replicate": "relay.providers.replicate.ReplicateAdaptor",
    "gemini": "relay.providers.gemini.GeminiAdaptor",
    "ollama": "relay.providers.ollama.OllamaAdaptor",
    "cohere": "relay.providers.cohere.CohereAdaptor",
    "cloudflare": "relay.providers.cloudflare.CloudflareAdaptor",
    "deepl": "relay.providers.deepl.DeepLAdaptor",
    "coze": "relay.providers.coze.CozeAdaptor",
    "palm": "relay.providers.palm.PalmAdaptor",
}


@cache
def adaptor_class(slug: str) -> type[Adaptor] | None:
    path = ADAPTORS.get(slug)
    if path is None:
        return None
    module, _, name = path.rpartition(".")
    return getattr(import_module(module), name)

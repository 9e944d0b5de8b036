"""Channel types: ids, default base URLs, URL rules and default models (spec ONEAPI §4, PROVIDERS §16).

Pure data and tiny pure functions; no Django. An OpenAI-compatible provider is a row here, not a module
(STYLE §1): the OpenAI adaptor reads ``base_url``, ``url_rule``, ``fixed_paths``, ``extra_headers`` and
``supports_stream_usage``; native adaptors (``adaptor != "openai"``) build their own URLs and only take
``base_url`` and ``models`` from here. Ids are stored in ``channels.type`` and must never change.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from types import MappingProxyType
from typing import Literal

from relay import channel_models as m


class ChannelType(IntEnum):
    UNKNOWN = 0
    OPENAI = 1
    API2D = 2
    AZURE = 3
    CLOSEAI = 4
    OPENAI_SB = 5
    OPENAIMAX = 6
    OHMYGPT = 7
    CUSTOM = 8
    AILS = 9
    AIPROXY = 10
    PALM = 11
    API2GPT = 12
    AIGC2D = 13
    ANTHROPIC = 14
    BAIDU = 15
    ZHIPU = 16
    ALI = 17
    XUNFEI = 18
    AI360 = 19
    OPENROUTER = 20
    AIPROXY_LIBRARY = 21
    FASTGPT = 22
    TENCENT = 23
    GEMINI = 24
    MOONSHOT = 25
    BAICHUAN = 26
    MINIMAX = 27
    MISTRAL = 28
    GROQ = 29
    OLLAMA = 30
    LINGYIWANWU = 31
    STEPFUN = 32
    AWS = 33
    COZE = 34
    COHERE = 35
    DEEPSEEK = 36
    CLOUDFLARE = 37
    DEEPL = 38
    TOGETHERAI = 39
    DOUBAO = 40
    NOVITA = 41
    VERTEXAI = 42
    PROXY = 43
    SILICONFLOW = 44
    XAI = 45
    REPLICATE = 46
    BAIDU_V2 = 47
    XUNFEI_V2 = 48
    ALI_BAILIAN = 49
    OPENAI_COMPATIBLE = 50
    GEMINI_OPENAI = 51


RELAY_MODES = (
    "chat",
    "completions",
    "embeddings",
    "moderations",
    "images",
    "audio_speech",
    "audio_transcription",
    "audio_translation",
    "edits",
)

UrlRule = Literal["append", "strip_v1", "fixed"]

CLOUDFLARE_GATEWAY = "https://gateway.ai.cloudflare.com"


class UnsupportedMode(Exception):
    """A fixed-URL channel type has no upstream endpoint for this relay mode (the original answers 500)."""

    def __init__(self, channel_name: str, mode: str) -> None:
        super().__init__(f"unsupported relay mode {mode!r} for {channel_name}")
        self.channel_name = channel_name
        self.mode = mode


@dataclass(frozen=True, slots=True)
class ChannelTypeInfo:
    """One row of the channel-type table.

    ``url_rule``: ``append`` = base + original request path (``/v1/chat/completions``); ``strip_v1`` = base
    + the path minus its leading ``/v1`` (the base already ends in a version); ``fixed`` = base +
    ``fixed_paths[mode]``, other modes raise ``UnsupportedMode``.
    """

    id: int
    name: str
    base_url: str
    adaptor: str
    models: tuple[str, ...]
    docs: str
    url_rule: UrlRule = "append"
    fixed_paths: Mapping[str, str] = field(default_factory=dict, hash=False)
    extra_headers: Mapping[str, str] = field(default_factory=dict, hash=False)
    supports_stream_usage: bool = True
    balance: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", int(self.id))  # plain int: rows are serialised and compared
        # Read-only views, so a shared row can't be mutated by one request for all others.
        object.__setattr__(self, "fixed_paths", MappingProxyType(dict(self.fixed_paths)))
        object.__setattr__(self, "extra_headers", MappingProxyType(dict(self.extra_headers)))
        if self.url_rule == "fixed" and not self.fixed_paths:
            raise ValueError(f"{self.name}: url_rule 'fixed' needs fixed_paths")
        if unknown := set(self.fixed_paths) - set(RELAY_MODES):
            raise ValueError(f"{self.name}: unknown relay modes {sorted(unknown)}")


_OPENAI_DOCS = "https://platform.openai.com/docs/api-reference"
_T = ChannelType


def _openai_reseller(
    type_id: ChannelType, name: str, base_url: str, *, balance: bool = False
) -> ChannelTypeInfo:
    # Old resellers mirror the OpenAI API (and its docs) on their own host.
    return ChannelTypeInfo(type_id, name, base_url, "openai", m.OPENAI, _OPENAI_DOCS, balance=balance)


# One call per provider, positional (id, name, base_url, adaptor, models, docs) then keywords; kept out of
# the formatter ("fmt: skip" below) so each row stays a few lines instead of one argument per line.
_ROWS: tuple[ChannelTypeInfo, ...] = (
    ChannelTypeInfo(_T.UNKNOWN, "Unknown", "", "openai", m.NONE, ""),
    ChannelTypeInfo(
        _T.OPENAI, "OpenAI", "https://api.openai.com", "openai", m.OPENAI, _OPENAI_DOCS, balance=True
    ),
    _openai_reseller(_T.API2D, "API2D", "https://oa.api2d.net"),
    ChannelTypeInfo(
        _T.AZURE, "Azure OpenAI", "", "azure", m.OPENAI,
        "https://learn.microsoft.com/en-us/azure/ai-foundry/openai/reference",
        # stream_options needs api-version >= 2024-09-01-preview; the UI default (2024-03-01-preview)
        # rejects it, so the azure adaptor decides per channel.
        supports_stream_usage=False,
    ),
    _openai_reseller(_T.CLOSEAI, "CloseAI", "https://api.closeai-proxy.xyz", balance=True),
    _openai_reseller(_T.OPENAI_SB, "OpenAI-SB", "https://api.openai-sb.com", balance=True),
    _openai_reseller(_T.OPENAIMAX, "OpenAI Max", "https://api.openaimax.com"),
    _openai_reseller(_T.OHMYGPT, "OhMyGPT", "https://api.ohmygpt.com"),
    # Custom: the user's URL replaces only scheme+host; the request path is kept (use 50 for a real base URL).
    _openai_reseller(_T.CUSTOM, "Custom", "", balance=True),
    _openai_reseller(_T.AILS, "AI.LS", "https://api.caipacity.com"),
    _openai_reseller(_T.AIPROXY, "AIProxy", "https://api.aiproxy.io", balance=True),
    ChannelTypeInfo(
        _T.PALM, "Google PaLM 2", "https://generativelanguage.googleapis.com", "palm", m.PALM,
        "https://ai.google.dev/palm_docs/deprecation",
    ),
    _openai_reseller(_T.API2GPT, "API2GPT", "https://api.api2gpt.com", balance=True),
    _openai_reseller(_T.AIGC2D, "AIGC2D", "https://api.aigc2d.com", balance=True),
    ChannelTypeInfo(
        _T.ANTHROPIC, "Anthropic Claude", "https://api.anthropic.com", "anthropic", m.ANTHROPIC,
        "https://docs.anthropic.com/en/api/messages",
    ),
    ChannelTypeInfo(
        _T.BAIDU, "Baidu Qianfan (ERNIE)", "https://aip.baidubce.com", "baidu", m.BAIDU,
        "https://cloud.baidu.com/doc/WENXINWORKSHOP/s/clntwmv7t",
    ),
    ChannelTypeInfo(
        _T.ZHIPU, "Zhipu GLM", "https://open.bigmodel.cn", "zhipu", m.ZHIPU,
        "https://docs.bigmodel.cn/api-reference",
    ),
    ChannelTypeInfo(
        _T.ALI, "Alibaba Qwen (DashScope)", "https://dashscope.aliyuncs.com", "ali", m.ALI,
        "https://help.aliyun.com/zh/model-studio/use-qwen-by-calling-api",
    ),
    # Spark's wss URL is computed per model version, so there is no base URL to default.
    ChannelTypeInfo(
        _T.XUNFEI, "iFlytek Spark", "", "xunfei", m.XUNFEI, "https://www.xfyun.cn/doc/spark/Web.html"
    ),
    ChannelTypeInfo(
        _T.AI360, "360 AI", "https://ai.360.cn", "openai", m.AI360, "https://ai.360.com/platform/docs/overview"
    ),
    ChannelTypeInfo(
        _T.OPENROUTER, "OpenRouter", "https://openrouter.ai/api", "openai", m.OPENROUTER,
        "https://openrouter.ai/docs/api-reference/overview",
        # OpenRouter's app attribution; the original sends exactly these.
        extra_headers={"HTTP-Referer": "https://github.com/songquanpeng/one-api", "X-Title": "One API"},
        balance=True,
    ),
    ChannelTypeInfo(
        _T.AIPROXY_LIBRARY, "AIProxy Library", "https://api.aiproxy.io", "aiproxy_library", m.OPENAI,
        "https://docs.aiproxy.io",
    ),
    ChannelTypeInfo(
        _T.FASTGPT, "FastGPT", "https://fastgpt.run/api/openapi", "openai", m.OPENAI,
        "https://doc.fastgpt.io/docs/development/openapi/",
    ),
    ChannelTypeInfo(
        _T.TENCENT, "Tencent Hunyuan", "https://hunyuan.tencentcloudapi.com", "tencent", m.TENCENT,
        "https://cloud.tencent.com/document/product/1729/105701",
    ),
    ChannelTypeInfo(
        _T.GEMINI, "Google Gemini", "https://generativelanguage.googleapis.com", "gemini", m.GEMINI,
        "https://ai.google.dev/api/generate-content",
    ),
    ChannelTypeInfo(
        _T.MOONSHOT, "Moonshot AI", "https://api.moonshot.cn", "openai", m.MOONSHOT,
        "https://platform.moonshot.cn/docs/api/chat", balance=True,
    ),
    ChannelTypeInfo(
        _T.BAICHUAN, "Baichuan", "https://api.baichuan-ai.com", "openai", m.BAICHUAN,
        "https://platform.baichuan-ai.com/docs/api",
    ),
    ChannelTypeInfo(
        _T.MINIMAX, "MiniMax", "https://api.minimax.chat", "openai", m.MINIMAX,
        "https://platform.minimaxi.com/document/ChatCompletion%20v2",
        url_rule="fixed", fixed_paths={"chat": "/v1/text/chatcompletion_v2"},
    ),
    ChannelTypeInfo(
        _T.MISTRAL, "Mistral AI", "https://api.mistral.ai", "openai", m.MISTRAL, "https://docs.mistral.ai/api/",
        # Rejects stream_options (songquanpeng/one-api#2187); usage comes on the last chunk anyway.
        supports_stream_usage=False,
    ),
    ChannelTypeInfo(
        _T.GROQ, "Groq", "https://api.groq.com/openai", "openai", m.GROQ,
        "https://console.groq.com/docs/api-reference",
    ),
    ChannelTypeInfo(
        _T.OLLAMA, "Ollama", "http://localhost:11434", "ollama", m.OLLAMA,
        "https://github.com/ollama/ollama/blob/main/docs/api.md",
    ),
    ChannelTypeInfo(
        _T.LINGYIWANWU, "01.AI (Lingyiwanwu)", "https://api.lingyiwanwu.com", "openai", m.LINGYIWANWU,
        "https://platform.lingyiwanwu.com/docs",
    ),
    ChannelTypeInfo(
        _T.STEPFUN, "StepFun", "https://api.stepfun.com", "openai", m.STEPFUN,
        "https://platform.stepfun.com/docs/api-reference/chat/chat-completion-create",
    ),
    # Bedrock's host is computed from the channel's region (key "AK|SK|Region").
    ChannelTypeInfo(
        _T.AWS, "AWS Bedrock", "", "aws", m.AWS,
        "https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_InvokeModel.html",
    ),
    ChannelTypeInfo(
        _T.COZE, "Coze", "https://api.coze.com", "coze", m.COZE,
        "https://www.coze.com/docs/developer_guides/coze_api_overview",
    ),
    ChannelTypeInfo(
        _T.COHERE, "Cohere", "https://api.cohere.ai", "cohere", m.COHERE,
        "https://docs.cohere.com/v1/reference/chat",
    ),
    ChannelTypeInfo(
        _T.DEEPSEEK, "DeepSeek", "https://api.deepseek.com", "openai", m.DEEPSEEK,
        "https://api-docs.deepseek.com/api/create-chat-completion", balance=True,
    ),
    ChannelTypeInfo(
        _T.CLOUDFLARE, "Cloudflare Workers AI", "https://api.cloudflare.com", "cloudflare", m.CLOUDFLARE,
        "https://developers.cloudflare.com/workers-ai/configuration/open-ai-compatibility/",
    ),
    ChannelTypeInfo(
        _T.DEEPL, "DeepL", "https://api-free.deepl.com", "deepl", m.DEEPL,
        "https://developers.deepl.com/docs/api-reference/translate",
    ),
    ChannelTypeInfo(
        _T.TOGETHERAI, "together.ai", "https://api.together.xyz", "openai", m.TOGETHERAI,
        "https://docs.together.ai/reference/chat-completions-1",
    ),
    ChannelTypeInfo(
        _T.DOUBAO, "Volcengine Ark (Doubao)", "https://ark.cn-beijing.volces.com", "openai", m.DOUBAO,
        "https://www.volcengine.com/docs/82379/1494384",
        url_rule="fixed",
        fixed_paths={"chat": "/api/v3/chat/completions", "embeddings": "/api/v3/embeddings"},
    ),
    # The base already carries the version (/v3/openai); the original serves chat only (spec §4).
    ChannelTypeInfo(
        _T.NOVITA, "Novita AI", "https://api.novita.ai/v3/openai", "openai", m.NOVITA,
        "https://novita.ai/docs/api-reference/model-apis-llm-create-chat-completion",
        url_rule="fixed", fixed_paths={"chat": "/chat/completions"},
    ),
    # Vertex's host is computed from the channel's region and project.
    ChannelTypeInfo(
        _T.VERTEXAI, "Google Vertex AI", "", "vertexai", m.VERTEXAI,
        "https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/inference",
    ),
    ChannelTypeInfo(_T.PROXY, "Proxy", "", "proxy", m.NONE, ""),
    ChannelTypeInfo(
        _T.SILICONFLOW, "SiliconFlow", "https://api.siliconflow.cn", "openai", m.SILICONFLOW,
        "https://docs.siliconflow.cn/cn/api-reference/chat-completions/chat-completions", balance=True,
    ),
    ChannelTypeInfo(_T.XAI, "xAI", "https://api.x.ai", "openai", m.XAI, "https://docs.x.ai/docs/api-reference"),
    ChannelTypeInfo(
        _T.REPLICATE, "Replicate", "https://api.replicate.com/v1/models/", "replicate", m.REPLICATE,
        "https://replicate.com/docs/reference/http",
    ),
    ChannelTypeInfo(
        _T.BAIDU_V2, "Baidu Qianfan V2", "https://qianfan.baidubce.com", "openai", m.BAIDU_V2,
        "https://cloud.baidu.com/doc/WENXINWORKSHOP/s/em4tsqo3v",
        url_rule="fixed", fixed_paths={"chat": "/v2/chat/completions"},
    ),
    ChannelTypeInfo(
        _T.XUNFEI_V2, "iFlytek Spark V2", "https://spark-api-open.xf-yun.com", "openai", m.XUNFEI_V2,
        "https://www.xfyun.cn/doc/spark/HTTP%E8%B0%83%E7%94%A8%E6%96%87%E6%A1%A3.html",
    ),
    ChannelTypeInfo(
        _T.ALI_BAILIAN, "Alibaba Bailian", "https://dashscope.aliyuncs.com", "openai", m.ALI_BAILIAN,
        "https://help.aliyun.com/zh/model-studio/compatibility-of-openai-with-dashscope",
        url_rule="fixed",
        fixed_paths={
            "chat": "/compatible-mode/v1/chat/completions",
            "embeddings": "/compatible-mode/v1/embeddings",
        },
    ),
    ChannelTypeInfo(
        _T.OPENAI_COMPATIBLE, "OpenAI-compatible", "", "openai", m.OPENAI, _OPENAI_DOCS, url_rule="strip_v1"
    ),
    ChannelTypeInfo(
        _T.GEMINI_OPENAI, "Gemini (OpenAI-compatible)",
        "https://generativelanguage.googleapis.com/v1beta/openai/", "openai", m.GEMINI_OPENAI,
        "https://ai.google.dev/gemini-api/docs/openai", url_rule="strip_v1",
    ),
)  # fmt: skip

CHANNEL_TYPES: Mapping[int, ChannelTypeInfo] = MappingProxyType({row.id: row for row in _ROWS})


def channel_type_info(type_id: int) -> ChannelTypeInfo:
    """The row for ``type_id``; ids we don't know (a newer database, a typo) get the UNKNOWN row."""
    return CHANNEL_TYPES.get(type_id, CHANNEL_TYPES[ChannelType.UNKNOWN])


def _strip_v1(path: str) -> str:
    # Only a whole "/v1" segment: "/v1beta/..." must survive.
    return path[3:] if path == "/v1" or path.startswith(("/v1/", "/v1?")) else path


def upstream_url(info: ChannelTypeInfo, base_url: str, request_path: str, mode: str) -> str:
    """Full upstream URL for an OpenAI-adaptor request.

    ``base_url`` is the channel's own (empty = ``info.base_url``); ``request_path`` is the inbound path,
    e.g. ``/v1/chat/completions``; ``mode`` is one of ``RELAY_MODES``. Raises ``UnsupportedMode`` when a
    fixed-URL type has no endpoint for ``mode``. Azure and native adaptors build their own URLs.
    """
    if mode not in RELAY_MODES:
        raise ValueError(f"unknown relay mode {mode!r}")
    base = (base_url or info.base_url).rstrip("/")
    if info.url_rule == "fixed":
        path = info.fixed_paths.get(mode)
        if path is None:
            raise UnsupportedMode(info.name, mode)
        return base + path
    if info.url_rule == "strip_v1":
        return base + _strip_v1(request_path)
    # Cloudflare AI Gateway URLs end in the provider segment (".../openai"), which has no "/v1".
    if info.adaptor == "openai" and base.startswith(CLOUDFLARE_GATEWAY):
        return base + _strip_v1(request_path)
    return base + request_path


def models_by_type() -> dict[int, list[str]]:
    """Channel type id -> default models, for ``GET /api/models`` (like the original, without UNKNOWN)."""
    return {int(row.id): list(row.models) for row in _ROWS if row.id != ChannelType.UNKNOWN}

"""Default model lists offered in the channel form and by ``GET /api/models`` (spec §4, §2.3).

Pure data. Each tuple holds a provider's main current models (plus the older names the original shipped
and still prices in ``billing.ratios``), newest first. ``relay.channel_types`` attaches them to channel types;
resellers and OpenAI-compatible types share ``OPENAI``.
"""

from __future__ import annotations

# https://platform.openai.com/docs/models
OPENAI: tuple[str, ...] = (
    "gpt-5", "gpt-5-mini", "gpt-5-nano",
    "gpt-4.1", "gpt-4.1-mini", "gpt-4.1-nano",
    "gpt-4o", "gpt-4o-mini", "chatgpt-4o-latest",
    "o3", "o3-mini", "o4-mini", "o1",
    "gpt-4-turbo", "gpt-3.5-turbo", "gpt-3.5-turbo-instruct",
    "text-embedding-3-small", "text-embedding-3-large", "text-embedding-ada-002",
    "text-moderation-latest", "dall-e-3", "dall-e-2", "whisper-1", "tts-1", "tts-1-hd",
)  # fmt: skip

# https://docs.anthropic.com/en/docs/about-claude/models/overview
ANTHROPIC: tuple[str, ...] = (
    "claude-opus-4-5-20251101", "claude-opus-4-5",
    "claude-sonnet-4-5-20250929", "claude-sonnet-4-5",
    "claude-haiku-4-5-20251001", "claude-haiku-4-5",
    "claude-opus-4-1-20250805", "claude-opus-4-1",
    "claude-opus-4-20250514", "claude-sonnet-4-20250514", "claude-sonnet-4-0",
    "claude-3-7-sonnet-20250219", "claude-3-7-sonnet-latest",
    "claude-3-5-sonnet-20241022", "claude-3-5-sonnet-latest",
    "claude-3-5-haiku-20241022", "claude-3-5-haiku-latest",
    "claude-3-opus-20240229", "claude-3-haiku-20240307",
)  # fmt: skip

# https://docs.aws.amazon.com/bedrock/latest/userguide/models-supported.html
# Gateway names; the aws adaptor maps them to Bedrock ids (anthropic.claude-...-v1:0, meta.llama3-...).
AWS: tuple[str, ...] = (
    "claude-sonnet-4-5-20250929", "claude-haiku-4-5-20251001", "claude-opus-4-1-20250805",
    "claude-opus-4-20250514", "claude-sonnet-4-20250514", "claude-3-7-sonnet-20250219",
    "claude-3-5-sonnet-20241022", "claude-3-5-sonnet-20240620", "claude-3-5-haiku-20241022",
    "claude-3-opus-20240229", "claude-3-haiku-20240307",
    "llama3-8b-8192", "llama3-70b-8192",
)  # fmt: skip

# https://ai.google.dev/gemini-api/docs/models
GEMINI: tuple[str, ...] = (
    "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
    "gemini-2.0-flash", "gemini-2.0-flash-001", "gemini-2.0-flash-lite", "gemini-2.0-flash-exp",
    "gemini-2.0-flash-thinking-exp-01-21",
    "gemini-1.5-pro", "gemini-1.5-flash", "gemini-1.5-flash-8b",
    "gemini-embedding-001", "text-embedding-004", "aqa",
)  # fmt: skip

# https://ai.google.dev/gemini-api/docs/openai (same models; "aqa" has no OpenAI-compatible endpoint)
GEMINI_OPENAI: tuple[str, ...] = tuple(m for m in GEMINI if m != "aqa")

# https://cloud.google.com/vertex-ai/generative-ai/docs/models
# "claude-*" names go to Anthropic on Vertex (rawPredict), the rest to Gemini.
VERTEXAI: tuple[str, ...] = (
    "gemini-2.5-pro", "gemini-2.5-flash", "gemini-2.5-flash-lite",
    "gemini-2.0-flash-001", "gemini-2.0-flash-lite-001",
    "gemini-1.5-pro-002", "gemini-1.5-flash-002",
    "claude-sonnet-4-5@20250929", "claude-opus-4-1@20250805",
    "claude-sonnet-4@20250514", "claude-opus-4@20250514", "claude-3-7-sonnet@20250219",
    "claude-3-5-sonnet-v2@20241022", "claude-3-5-haiku@20241022", "claude-3-haiku@20240307",
)  # fmt: skip

# https://ai.google.dev/palm_docs/deprecation (PaLM is retired; the adaptor always calls chat-bison-001)
PALM: tuple[str, ...] = ("PaLM-2",)

# https://cloud.baidu.com/doc/WENXINWORKSHOP/s/Nlks5zkzu (Qianfan v1 model -> endpoint list)
BAIDU: tuple[str, ...] = (
    "ERNIE-4.0-Turbo-8K", "ERNIE-4.0-8K", "ERNIE-3.5-8K", "ERNIE-3.5-128K",
    "ERNIE-Speed-8K", "ERNIE-Speed-128K", "ERNIE-Speed-Pro-128K",
    "ERNIE-Lite-8K", "ERNIE-Lite-Pro-128K", "ERNIE-Tiny-8K",
    "Embedding-V1", "bge-large-zh", "bge-large-en", "tao-8k",
)  # fmt: skip

# https://cloud.baidu.com/doc/WENXINWORKSHOP/s/Fm2vrveyu (Qianfan v2 supported models)
BAIDU_V2: tuple[str, ...] = (
    "ernie-4.5-turbo-128k", "ernie-4.5-turbo-32k", "ernie-4.5-8k-preview",
    "ernie-x1-turbo-32k", "ernie-x1-32k-preview",
    "ernie-4.0-turbo-8k", "ernie-4.0-turbo-128k", "ernie-4.0-8k",
    "ernie-3.5-8k", "ernie-3.5-128k",
    "ernie-speed-8k", "ernie-speed-128k", "ernie-speed-pro-128k",
    "ernie-lite-8k", "ernie-lite-pro-128k", "ernie-tiny-8k", "ernie-char-8k",
    "deepseek-v3", "deepseek-r1",
)  # fmt: skip

# https://docs.bigmodel.cn/cn/guide/start/model-overview
ZHIPU: tuple[str, ...] = (
    "glm-4.6", "glm-4.5", "glm-4.5-air", "glm-4.5-flash", "glm-4.5v",
    "glm-4-plus", "glm-4-air-250414", "glm-4-airx", "glm-4-long", "glm-4-flashx", "glm-4-flash",
    "glm-z1-air", "glm-z1-flash", "glm-4v-plus", "glm-4v-flash",
    "cogview-4", "cogview-3-flash", "embedding-3", "embedding-2",
)  # fmt: skip

# https://help.aliyun.com/zh/model-studio/models
ALI: tuple[str, ...] = (
    "qwen3-max", "qwen-max", "qwen-max-latest", "qwen-plus", "qwen-plus-latest",
    "qwen-turbo", "qwen-turbo-latest", "qwen-long",
    "qwen3-235b-a22b", "qwen3-32b", "qwen3-coder-plus", "qwq-plus",
    "qwen-vl-max", "qwen-vl-plus", "qwen-coder-plus", "qwen-math-plus", "qwen-mt-plus", "qwen-mt-turbo",
    "deepseek-v3", "deepseek-r1", "text-embedding-v4", "text-embedding-v3", "wanx-v1",
)  # fmt: skip

# https://help.aliyun.com/zh/model-studio/compatibility-of-openai-with-dashscope (no image models here)
ALI_BAILIAN: tuple[str, ...] = tuple(m for m in ALI if m != "wanx-v1")

# https://www.xfyun.cn/doc/spark/Web.html (model -> wss version path, see spec §4 Xunfei row)
XUNFEI: tuple[str, ...] = (
    "Spark-Lite", "Spark-Pro", "Spark-Pro-128K", "Spark-Max", "Spark-Max-32K", "Spark-4.0-Ultra",
)  # fmt: skip

# https://www.xfyun.cn/doc/spark/HTTP%E8%B0%83%E7%94%A8%E6%96%87%E6%A1%A3.html (model = domain string)
XUNFEI_V2: tuple[str, ...] = ("lite", "generalv3", "pro-128k", "generalv3.5", "max-32k", "4.0Ultra")

# https://ai.360.com/platform/docs/overview
AI360: tuple[str, ...] = (
    "360gpt2-pro", "360gpt-pro", "360gpt-turbo", "360GPT_S2_V9",
    "embedding-bert-512-v1", "embedding_s1_v1", "semantic_similarity_s1_v1",
)  # fmt: skip

# https://openrouter.ai/models
OPENROUTER: tuple[str, ...] = (
    "openai/gpt-5", "openai/gpt-4.1", "openai/gpt-4.1-mini", "openai/gpt-4o", "openai/gpt-4o-mini",
    "openai/o3", "openai/o4-mini",
    "anthropic/claude-sonnet-4.5", "anthropic/claude-sonnet-4", "anthropic/claude-opus-4.1",
    "anthropic/claude-3.7-sonnet", "anthropic/claude-3.5-haiku",
    "google/gemini-2.5-pro", "google/gemini-2.5-flash",
    "deepseek/deepseek-chat", "deepseek/deepseek-r1",
    "meta-llama/llama-4-maverick", "meta-llama/llama-3.3-70b-instruct",
    "mistralai/mistral-large", "qwen/qwen3-235b-a22b", "x-ai/grok-4", "moonshotai/kimi-k2",
)  # fmt: skip

# https://cloud.tencent.com/document/product/1729/104753
TENCENT: tuple[str, ...] = (
    "hunyuan-turbos-latest", "hunyuan-t1-latest", "hunyuan-turbo", "hunyuan-large",
    "hunyuan-large-longcontext", "hunyuan-standard", "hunyuan-standard-256K", "hunyuan-lite",
    "hunyuan-role", "hunyuan-functioncall", "hunyuan-code", "hunyuan-turbo-vision", "hunyuan-vision",
    "hunyuan-embedding",
)  # fmt: skip

# https://platform.moonshot.cn/docs/pricing/chat
MOONSHOT: tuple[str, ...] = (
    "kimi-k2-0905-preview", "kimi-k2-0711-preview", "kimi-k2-turbo-preview", "kimi-latest",
    "kimi-thinking-preview",
    "moonshot-v1-8k", "moonshot-v1-32k", "moonshot-v1-128k", "moonshot-v1-auto",
    "moonshot-v1-8k-vision-preview", "moonshot-v1-32k-vision-preview", "moonshot-v1-128k-vision-preview",
)  # fmt: skip

# https://platform.baichuan-ai.com/docs/api
BAICHUAN: tuple[str, ...] = (
    "Baichuan4-Turbo", "Baichuan4-Air", "Baichuan4", "Baichuan3-Turbo", "Baichuan3-Turbo-128k",
    "Baichuan2-Turbo", "Baichuan2-Turbo-192k", "Baichuan-Text-Embedding",
)  # fmt: skip

# https://platform.minimaxi.com/document/ChatCompletion%20v2
MINIMAX: tuple[str, ...] = (
    "MiniMax-M2", "MiniMax-M1", "MiniMax-Text-01", "MiniMax-VL-01",
    "abab6.5s-chat", "abab6.5g-chat", "abab6.5-chat", "abab5.5s-chat", "abab5.5-chat",
)  # fmt: skip

# https://docs.mistral.ai/getting-started/models/
MISTRAL: tuple[str, ...] = (
    "mistral-large-latest", "mistral-medium-latest", "mistral-small-latest",
    "magistral-medium-latest", "magistral-small-latest",
    "codestral-latest", "devstral-medium-latest", "devstral-small-latest",
    "pixtral-large-latest", "ministral-8b-latest", "ministral-3b-latest",
    "open-mistral-nemo", "open-mistral-7b", "open-mixtral-8x7b", "mistral-embed",
)  # fmt: skip

# https://console.groq.com/docs/models
GROQ: tuple[str, ...] = (
    "llama-3.3-70b-versatile", "llama-3.1-8b-instant",
    "meta-llama/llama-4-maverick-17b-128e-instruct", "meta-llama/llama-4-scout-17b-16e-instruct",
    "meta-llama/llama-guard-4-12b",
    "openai/gpt-oss-120b", "openai/gpt-oss-20b", "moonshotai/kimi-k2-instruct", "qwen/qwen3-32b",
    "deepseek-r1-distill-llama-70b", "gemma2-9b-it",
    "whisper-large-v3", "whisper-large-v3-turbo", "distil-whisper-large-v3-en",
)  # fmt: skip

# https://ollama.com/library (whatever the operator has pulled; these are common)
OLLAMA: tuple[str, ...] = (
    "llama3.3", "llama3.2", "llama3.1", "qwen3", "qwen2.5", "qwen2.5-coder", "deepseek-r1",
    "gemma3", "mistral", "phi4", "gpt-oss", "nomic-embed-text",
)  # fmt: skip

# https://platform.lingyiwanwu.com/docs
LINGYIWANWU: tuple[str, ...] = (
    "yi-lightning", "yi-vision-v2", "yi-large", "yi-large-turbo", "yi-large-fc", "yi-medium",
    "yi-medium-200k", "yi-spark", "yi-34b-chat-0205", "yi-34b-chat-200k", "yi-vl-plus",
)  # fmt: skip

# https://platform.stepfun.com/docs/llm/text
STEPFUN: tuple[str, ...] = (
    "step-2-16k", "step-2-mini", "step-1-8k", "step-1-32k", "step-1-128k", "step-1-256k",
    "step-1-flash", "step-1o-turbo-vision", "step-1v-8k", "step-1v-32k", "step-r1-v-mini",
)  # fmt: skip

# https://docs.cohere.com/docs/models ("-internet" variants turn on the web-search connector, spec §4)
_COHERE_BASE = (
    "command-a-03-2025", "command-r-plus-08-2024", "command-r-08-2024", "command-r7b-12-2024",
    "command-r-plus", "command-r", "command", "command-light",
)  # fmt: skip
COHERE: tuple[str, ...] = _COHERE_BASE + tuple(f"{m}-internet" for m in _COHERE_BASE)

# https://api-docs.deepseek.com/quick_start/pricing (the whole public list)
DEEPSEEK: tuple[str, ...] = ("deepseek-chat", "deepseek-reasoner")

# https://developers.cloudflare.com/workers-ai/models/
CLOUDFLARE: tuple[str, ...] = (
    "@cf/meta/llama-3.3-70b-instruct-fp8-fast", "@cf/meta/llama-4-scout-17b-16e-instruct",
    "@cf/meta/llama-3.1-8b-instruct", "@cf/meta/llama-3.2-11b-vision-instruct",
    "@cf/meta/llama-3.2-3b-instruct", "@cf/meta/llama-3.2-1b-instruct",
    "@cf/openai/gpt-oss-120b", "@cf/openai/gpt-oss-20b",
    "@cf/qwen/qwq-32b", "@cf/qwen/qwen2.5-coder-32b-instruct",
    "@cf/deepseek-ai/deepseek-r1-distill-qwen-32b", "@cf/mistralai/mistral-small-3.1-24b-instruct",
    "@cf/google/gemma-3-12b-it", "@cf/mistral/mistral-7b-instruct-v0.1",
    "@cf/baai/bge-m3", "@cf/baai/bge-large-en-v1.5", "@cf/baai/bge-base-en-v1.5",
)  # fmt: skip

# https://developers.deepl.com/docs/getting-started/supported-languages (model = "deepl-" + target language)
DEEPL: tuple[str, ...] = ("deepl-zh", "deepl-en", "deepl-ja")

# https://docs.together.ai/docs/serverless-models
TOGETHERAI: tuple[str, ...] = (
    "meta-llama/Llama-3.3-70B-Instruct-Turbo", "meta-llama/Meta-Llama-3.1-8B-Instruct-Turbo",
    "meta-llama/Meta-Llama-3.1-405B-Instruct-Turbo", "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
    "meta-llama/Llama-4-Scout-17B-16E-Instruct",
    "deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1",
    "Qwen/Qwen3-235B-A22B-fp8-tput", "Qwen/Qwen2.5-72B-Instruct-Turbo", "Qwen/Qwen2.5-Coder-32B-Instruct",
    "mistralai/Mixtral-8x7B-Instruct-v0.1", "mistralai/Mistral-7B-Instruct-v0.3",
    "openai/gpt-oss-120b", "moonshotai/Kimi-K2-Instruct", "google/gemma-2-27b-it",
    "BAAI/bge-large-en-v1.5", "togethercomputer/m2-bert-80M-8k-retrieval",
)  # fmt: skip

# https://www.volcengine.com/docs/82379/1330310 (model ids; an inference endpoint id "ep-..." works too)
DOUBAO: tuple[str, ...] = (
    "doubao-seed-1-6-250615", "doubao-seed-1-6-flash-250615", "doubao-seed-1-6-thinking-250715",
    "doubao-1-5-pro-32k-250115", "doubao-1-5-pro-256k-250115", "doubao-1-5-lite-32k-250115",
    "doubao-1-5-thinking-pro-250415", "doubao-1-5-vision-pro-32k-250115",
    "deepseek-v3-250324", "deepseek-r1-250528",
    "doubao-embedding-large-text-240915", "doubao-embedding-text-240715",
)  # fmt: skip

# https://novita.ai/models/llm
NOVITA: tuple[str, ...] = (
    "deepseek/deepseek-v3-0324", "deepseek/deepseek-r1-0528",
    "meta-llama/llama-3.3-70b-instruct", "meta-llama/llama-3.1-8b-instruct",
    "meta-llama/llama-4-maverick-17b-128e-instruct-fp8", "meta-llama/llama-4-scout-17b-16e-instruct",
    "qwen/qwen3-235b-a22b-fp8", "qwen/qwen3-32b-fp8", "qwen/qwen2.5-72b-instruct",
    "openai/gpt-oss-120b", "moonshotai/kimi-k2-instruct", "google/gemma-3-27b-it",
    "mistralai/mistral-nemo", "sao10k/l3-70b-euryale-v2.1", "gryphe/mythomax-l2-13b",
)  # fmt: skip

# https://docs.siliconflow.cn/cn/userguide/capabilities/text-generation
SILICONFLOW: tuple[str, ...] = (
    "deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1",
    "Pro/deepseek-ai/DeepSeek-V3", "Pro/deepseek-ai/DeepSeek-R1",
    "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",
    "Qwen/Qwen3-235B-A22B", "Qwen/Qwen3-32B", "Qwen/Qwen3-8B", "Qwen/QwQ-32B",
    "Qwen/Qwen2.5-72B-Instruct", "Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-Coder-32B-Instruct",
    "moonshotai/Kimi-K2-Instruct", "THUDM/GLM-4-9B-0414", "THUDM/glm-4-9b-chat",
    "internlm/internlm2_5-7b-chat",
    "BAAI/bge-m3", "BAAI/bge-large-zh-v1.5", "BAAI/bge-large-en-v1.5",
)  # fmt: skip

# https://docs.x.ai/docs/models
XAI: tuple[str, ...] = (
    "grok-4", "grok-4-0709", "grok-code-fast-1",
    "grok-3", "grok-3-latest", "grok-3-fast", "grok-3-mini", "grok-3-mini-fast",
    "grok-2-1212", "grok-2-vision-1212", "grok-2-latest", "grok-beta", "grok-vision-beta",
)  # fmt: skip

# https://replicate.com/explore (image models first, then language models; all priced in billing.ratios)
REPLICATE: tuple[str, ...] = (
    "black-forest-labs/flux-1.1-pro", "black-forest-labs/flux-1.1-pro-ultra",
    "black-forest-labs/flux-pro", "black-forest-labs/flux-dev", "black-forest-labs/flux-schnell",
    "black-forest-labs/flux-fill-pro",
    "ideogram-ai/ideogram-v2", "ideogram-ai/ideogram-v2-turbo", "recraft-ai/recraft-v3",
    "stability-ai/stable-diffusion-3.5-large", "stability-ai/stable-diffusion-3.5-large-turbo",
    "stability-ai/stable-diffusion-3.5-medium",
    "meta/meta-llama-3.1-405b-instruct", "meta/meta-llama-3-70b-instruct", "meta/meta-llama-3-8b-instruct",
    "ibm-granite/granite-3.0-8b-instruct", "mistralai/mixtral-8x7b-instruct-v0.1",
)  # fmt: skip

# https://www.coze.com/docs/developer_guides/chat (model = "bot-<bot_id>", per account; nothing to preset)
COZE: tuple[str, ...] = ()

# Proxy (type 43) forwards raw requests and does no model routing.
NONE: tuple[str, ...] = ()

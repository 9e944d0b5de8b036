"""Default price tables and the pure ratio look-up rules (spec §5, quota maths in §3.5).

Unit: ratio 1 == US$0.002 per 1K prompt tokens == US$2 per 1M tokens, so
``model_ratio = USD per 1M input tokens / 2`` and ``completion_ratio = output price / input price``.
CNY prices use the original's integer ``RMB = 71`` (ratio = CNY per 1K tokens x 71).

Nothing here touches Django or the database: callers pass the live (option-backed) maps in as
``overrides``; the defaults below fill the gaps exactly as the original's ``Default*`` maps do.
"""

from __future__ import annotations

import json

QUOTA_PER_UNIT_DEFAULT = 500_000  # quota per US$1
USD = 500  # ratio per US$ per 1K tokens ($0.002 / 1K == 1)
MILLI_USD = USD / 1000  # 0.5: ratio per US$ per 1M tokens
RMB = 71  # int(USD / 7), kept integral like the original
FALLBACK_MODEL_RATIO = 30.0


def _usd_m(price: float) -> float:
    """US$ per 1M tokens -> ratio."""
    return round(price * MILLI_USD, 8)


def _usd_k(price: float) -> float:
    """US$ per 1K tokens (or per image / per unit) -> ratio."""
    return round(price * USD, 8)


def _rmb_k(price: float) -> float:
    """CNY per 1K tokens -> ratio."""
    return round(price * RMB, 8)


DEFAULT_MODEL_RATIO: dict[str, float] = {
    # OpenAI — https://platform.openai.com/docs/pricing (4.1, o3, o4-mini, o1-pro, gpt-5 checked; rest = spec)
    "gpt-4": 15,
    "gpt-4-0314": 15,
    "gpt-4-0613": 15,
    "gpt-4-32k": 30,
    "gpt-4-32k-0314": 30,
    "gpt-4-32k-0613": 30,
    "gpt-4-1106-preview": 5,
    "gpt-4-0125-preview": 5,
    "gpt-4-turbo-preview": 5,
    "gpt-4-turbo": 5,
    "gpt-4-turbo-2024-04-09": 5,
    "gpt-4-vision-preview": 5,
    "gpt-4o": 2.5,
    "chatgpt-4o-latest": 2.5,
    "gpt-4o-2024-05-13": 2.5,
    "gpt-4o-2024-08-06": 1.25,
    "gpt-4o-2024-11-20": 1.25,
    "gpt-4o-mini": 0.075,
    "gpt-4o-mini-2024-07-18": 0.075,
    "gpt-4.1": _usd_m(2.00),
    "gpt-4.1-2025-04-14": _usd_m(2.00),
    "gpt-4.1-mini": _usd_m(0.40),
    "gpt-4.1-mini-2025-04-14": _usd_m(0.40),
    "gpt-4.1-nano": _usd_m(0.10),
    "gpt-4.1-nano-2025-04-14": _usd_m(0.10),
    "gpt-5": _usd_m(1.25),
    "gpt-5-2025-08-07": _usd_m(1.25),
    "gpt-5-chat-latest": _usd_m(1.25),
    "gpt-5-mini": _usd_m(0.25),
    "gpt-5-mini-2025-08-07": _usd_m(0.25),
    "gpt-5-nano": _usd_m(0.05),
    "gpt-5-nano-2025-08-07": _usd_m(0.05),
    "gpt-5.1": _usd_m(1.25),
    "gpt-3.5-turbo": 0.25,
    "gpt-3.5-turbo-0301": 0.75,
    "gpt-3.5-turbo-0613": 0.75,
    "gpt-3.5-turbo-16k": 1.5,
    "gpt-3.5-turbo-16k-0613": 1.5,
    "gpt-3.5-turbo-instruct": 0.75,
    "gpt-3.5-turbo-1106": 0.5,
    "gpt-3.5-turbo-0125": 0.25,
    "o1": 7.5,
    "o1-2024-12-17": 7.5,
    "o1-preview": 7.5,
    "o1-preview-2024-09-12": 7.5,
    "o1-mini": 1.5,
    "o1-mini-2024-09-12": 1.5,
    "o1-pro": _usd_m(150.00),
    "o3": _usd_m(2.00),
    "o3-2025-04-16": _usd_m(2.00),
    "o3-pro": _usd_m(20.00),
    "o3-mini": 1.5,
    "o3-mini-2025-01-31": 1.5,
    "o4-mini": _usd_m(1.10),
    "o4-mini-2025-04-16": _usd_m(1.10),
    "davinci-002": 1,
    "babbage-002": 0.2,
    "text-ada-001": 0.2,
    "text-babbage-001": 0.25,
    "text-curie-001": 1,
    "text-davinci-002": 10,
    "text-davinci-003": 10,
    "text-davinci-edit-001": 10,
    "code-davinci-edit-001": 10,
    "whisper-1": 15,
    "tts-1": 7.5,
    "tts-1-1106": 7.5,
    "tts-1-hd": 15,
    "tts-1-hd-1106": 15,
    "davinci": 10,
    "curie": 10,
    "babbage": 10,
    "ada": 10,
    "text-embedding-ada-002": 0.05,
    "text-embedding-3-small": 0.01,
    "text-embedding-3-large": 0.065,
    "text-search-ada-doc-001": 10,
    "text-moderation-stable": 0.1,
    "text-moderation-latest": 0.1,
    "dall-e-2": _usd_k(0.02),
    "dall-e-3": _usd_k(0.04),
    # Anthropic — https://docs.anthropic.com/en/docs/about-claude/pricing (3.7, 4.x checked; rest = spec)
    "claude-instant-1.2": _usd_m(0.8),
    "claude-2.0": _usd_m(8.0),
    "claude-2.1": _usd_m(8.0),
    "claude-3-haiku-20240307": _usd_m(0.25),
    "claude-3-5-haiku-20241022": _usd_m(1.0),
    "claude-3-5-haiku-latest": _usd_m(1.0),
    "claude-3-sonnet-20240229": _usd_m(3.0),
    "claude-3-5-sonnet-20240620": _usd_m(3.0),
    "claude-3-5-sonnet-20241022": _usd_m(3.0),
    "claude-3-5-sonnet-latest": _usd_m(3.0),
    "claude-3-opus-20240229": _usd_m(15.0),
    "claude-3-7-sonnet-20250219": _usd_m(3.0),
    "claude-3-7-sonnet-latest": _usd_m(3.0),
    "claude-sonnet-4-20250514": _usd_m(3.0),
    "claude-sonnet-4-0": _usd_m(3.0),
    "claude-opus-4-20250514": _usd_m(15.0),
    "claude-opus-4-0": _usd_m(15.0),
    "claude-opus-4-1-20250805": _usd_m(15.0),
    "claude-opus-4-1": _usd_m(15.0),
    "claude-sonnet-4-5-20250929": _usd_m(3.0),
    "claude-sonnet-4-5": _usd_m(3.0),
    "claude-haiku-4-5-20251001": _usd_m(1.0),
    "claude-haiku-4-5": _usd_m(1.0),
    "claude-opus-4-5-20251101": _usd_m(5.0),
    "claude-opus-4-5": _usd_m(5.0),
    # Baidu ERNIE — https://cloud.baidu.com/doc/WENXINWORKSHOP/s/hlrk4akp7 (not re-checked: original's values)
    "ERNIE-4.0-8K": _rmb_k(0.120),
    "ERNIE-3.5-8K": _rmb_k(0.012),
    "ERNIE-3.5-8K-0205": _rmb_k(0.024),
    "ERNIE-3.5-8K-1222": _rmb_k(0.012),
    "ERNIE-Bot-8K": _rmb_k(0.024),
    "ERNIE-3.5-4K-0205": _rmb_k(0.012),
    "ERNIE-Speed-8K": _rmb_k(0.004),
    "ERNIE-Speed-128K": _rmb_k(0.004),
    "ERNIE-Lite-8K-0922": _rmb_k(0.008),
    "ERNIE-Lite-8K-0308": _rmb_k(0.003),
    "ERNIE-Tiny-8K": _rmb_k(0.001),
    "BLOOMZ-7B": _rmb_k(0.004),
    "Embedding-V1": _rmb_k(0.002),
    "bge-large-zh": _rmb_k(0.002),
    "bge-large-en": _rmb_k(0.002),
    "tao-8k": _rmb_k(0.002),
    # Gemini — https://ai.google.dev/gemini-api/docs/pricing (2.5 family, 2.0-flash-lite checked; rest spec)
    "gemini-pro": _usd_m(0.25),
    "gemini-1.0-pro": _usd_m(0.125),
    "gemini-1.5-pro": _usd_m(1.25),
    "gemini-1.5-pro-001": _usd_m(1.25),
    "gemini-1.5-pro-experimental": _usd_m(1.25),
    "gemini-1.5-flash": _usd_m(0.075),
    "gemini-1.5-flash-001": _usd_m(0.075),
    "gemini-1.5-flash-8b": _usd_m(0.0375),
    "gemini-2.0-flash-exp": _usd_m(0.075),
    "gemini-2.0-flash": _usd_m(0.15),
    "gemini-2.0-flash-001": _usd_m(0.15),
    "gemini-2.0-flash-lite": _usd_m(0.075),
    "gemini-2.0-flash-lite-001": _usd_m(0.075),
    "gemini-2.0-flash-lite-preview-02-05": _usd_m(0.075),
    "gemini-2.0-flash-thinking-exp-01-21": _usd_m(0.075),
    "gemini-2.0-pro-exp-02-05": _usd_m(1.25),
    "gemini-2.5-pro": _usd_m(1.25),
    "gemini-2.5-flash": _usd_m(0.30),
    "gemini-2.5-flash-lite": _usd_m(0.10),
    "aqa": 1,
    # Zhipu — https://open.bigmodel.cn/pricing (glm-4-plus ¥5/M checked; rest unconfirmed: original's)
    "glm-zero-preview": _rmb_k(0.01),
    "glm-4-plus": _rmb_k(0.005),
    "glm-4-0520": _rmb_k(0.1),
    "glm-4-airx": _rmb_k(0.01),
    "glm-4-air": _rmb_k(0.0005),
    "glm-4-long": _rmb_k(0.001),
    "glm-4-flashx": _rmb_k(0.0001),
    "glm-4-flash": 0,
    "glm-4": _rmb_k(0.1),
    "glm-3-turbo": _rmb_k(0.001),
    "glm-4v-plus": _rmb_k(0.004),
    "glm-4v": _rmb_k(0.05),
    "glm-4v-flash": 0,
    "cogview-3-plus": _rmb_k(0.06),
    "cogview-3": _rmb_k(0.1),
    "cogview-3-flash": 0,
    "cogviewx": _rmb_k(0.5),
    "cogviewx-flash": 0,
    "charglm-4": _rmb_k(0.001),
    "emohaa": _rmb_k(0.015),
    "codegeex-4": _rmb_k(0.0001),
    "embedding-2": _rmb_k(0.0005),
    "embedding-3": _rmb_k(0.0005),
    # Ali — https://help.aliyun.com/zh/model-studio/getting-started/models (unconfirmed: original's values)
    "qwen-turbo": _rmb_k(0.0003),
    "qwen-turbo-latest": _rmb_k(0.0003),
    "qwen-plus": _rmb_k(0.0008),
    "qwen-plus-latest": _rmb_k(0.0008),
    "qwen-max": _rmb_k(0.0024),
    "qwen-max-latest": _rmb_k(0.0024),
    "qwen-max-longcontext": _rmb_k(0.0005),
    "qwen-vl-max": _rmb_k(0.003),
    "qwen-vl-max-latest": _rmb_k(0.003),
    "qwen-vl-plus": _rmb_k(0.0015),
    "qwen-vl-plus-latest": _rmb_k(0.0015),
    "qwen-vl-ocr": _rmb_k(0.005),
    "qwen-vl-ocr-latest": _rmb_k(0.005),
    "qwen-audio-turbo": 1.4286,
    "qwen-math-plus": _rmb_k(0.004),
    "qwen-math-plus-latest": _rmb_k(0.004),
    "qwen-math-turbo": _rmb_k(0.002),
    "qwen-math-turbo-latest": _rmb_k(0.002),
    "qwen-coder-plus": _rmb_k(0.0035),
    "qwen-coder-plus-latest": _rmb_k(0.0035),
    "qwen-coder-turbo": _rmb_k(0.002),
    "qwen-coder-turbo-latest": _rmb_k(0.002),
    "qwen-mt-plus": _rmb_k(0.015),
    "qwen-mt-turbo": _rmb_k(0.001),
    "qwq-32b-preview": _rmb_k(0.002),
    "qwen2.5-72b-instruct": _rmb_k(0.004),
    "qwen2.5-32b-instruct": _rmb_k(0.03),
    "qwen2.5-14b-instruct": _rmb_k(0.001),
    "qwen2.5-7b-instruct": _rmb_k(0.0005),
    "qwen2.5-3b-instruct": _rmb_k(0.006),
    "qwen2.5-1.5b-instruct": _rmb_k(0.0003),
    "qwen2.5-0.5b-instruct": _rmb_k(0.0003),
    "qwen2-72b-instruct": _rmb_k(0.004),
    "qwen2-57b-a14b-instruct": _rmb_k(0.0035),
    "qwen2-7b-instruct": _rmb_k(0.001),
    "qwen2-1.5b-instruct": _rmb_k(0.001),
    "qwen2-0.5b-instruct": _rmb_k(0.001),
    "qwen1.5-110b-chat": _rmb_k(0.007),
    "qwen1.5-72b-chat": _rmb_k(0.005),
    "qwen1.5-32b-chat": _rmb_k(0.0035),
    "qwen1.5-14b-chat": _rmb_k(0.002),
    "qwen1.5-7b-chat": _rmb_k(0.001),
    "qwen1.5-1.8b-chat": _rmb_k(0.001),
    "qwen1.5-0.5b-chat": _rmb_k(0.001),
    "qwen-72b-chat": _rmb_k(0.02),
    "qwen-14b-chat": _rmb_k(0.008),
    "qwen-7b-chat": _rmb_k(0.006),
    "qwen-1.8b-chat": _rmb_k(0.006),
    "qwen-1.8b-longcontext-chat": _rmb_k(0.006),
    "qvq-72b-preview": _rmb_k(0.012),
    "qwen2.5-vl-72b-instruct": _rmb_k(0.016),
    "qwen2.5-vl-7b-instruct": _rmb_k(0.002),
    "qwen2.5-vl-3b-instruct": _rmb_k(0.0012),
    "qwen2-vl-7b-instruct": _rmb_k(0.016),
    "qwen2-vl-2b-instruct": _rmb_k(0.002),
    "qwen-vl-v1": _rmb_k(0.002),
    "qwen-vl-chat-v1": _rmb_k(0.002),
    "qwen2-audio-instruct": _rmb_k(0.002),
    "qwen-audio-chat": _rmb_k(0.002),
    "qwen2.5-math-72b-instruct": _rmb_k(0.004),
    "qwen2.5-math-7b-instruct": _rmb_k(0.001),
    "qwen2.5-math-1.5b-instruct": _rmb_k(0.001),
    "qwen2-math-72b-instruct": _rmb_k(0.004),
    "qwen2-math-7b-instruct": _rmb_k(0.001),
    "qwen2-math-1.5b-instruct": _rmb_k(0.001),
    "qwen2.5-coder-32b-instruct": _rmb_k(0.002),
    "qwen2.5-coder-14b-instruct": _rmb_k(0.002),
    "qwen2.5-coder-7b-instruct": _rmb_k(0.001),
    "qwen2.5-coder-3b-instruct": _rmb_k(0.001),
    "qwen2.5-coder-1.5b-instruct": _rmb_k(0.001),
    "qwen2.5-coder-0.5b-instruct": _rmb_k(0.001),
    "text-embedding-v1": _rmb_k(0.0007),
    "text-embedding-v2": _rmb_k(0.0007),
    "text-embedding-v3": _rmb_k(0.0007),
    "text-embedding-async-v1": _rmb_k(0.0007),
    "text-embedding-async-v2": _rmb_k(0.0007),
    "ali-stable-diffusion-xl": 8,
    "ali-stable-diffusion-v1.5": 8,
    "wanx-v1": 8,
    "deepseek-r1": _rmb_k(0.002),
    "deepseek-v3": _rmb_k(0.001),
    "deepseek-r1-distill-qwen-1.5b": _rmb_k(0.001),
    "deepseek-r1-distill-qwen-7b": _rmb_k(0.0005),
    "deepseek-r1-distill-qwen-14b": _rmb_k(0.001),
    "deepseek-r1-distill-qwen-32b": _rmb_k(0.002),
    "deepseek-r1-distill-llama-8b": _rmb_k(0.0005),
    "deepseek-r1-distill-llama-70b": _rmb_k(0.004),
    # Xunfei / 360 — https://xinghuo.xfyun.cn/sparkapi, https://ai.360.cn (unconfirmed: original's values)
    "SparkDesk": 1.2858,
    "SparkDesk-v1.1": 1.2858,
    "SparkDesk-v2.1": 1.2858,
    "SparkDesk-v3.1": 1.2858,
    "SparkDesk-v3.1-128K": 1.2858,
    "SparkDesk-v3.5": 1.2858,
    "SparkDesk-v3.5-32K": 1.2858,
    "SparkDesk-v4.0": 1.2858,
    "360GPT_S2_V9": 0.8572,
    "embedding-bert-512-v1": 0.0715,
    "embedding_s1_v1": 0.0715,
    "semantic_similarity_s1_v1": 0.0715,
    # Tencent Hunyuan — https://cloud.tencent.com/document/product/1729/97731 (unconfirmed: original's values)
    "hunyuan-turbo": _rmb_k(0.015),
    "hunyuan-large": _rmb_k(0.004),
    "hunyuan-large-longcontext": _rmb_k(0.006),
    "hunyuan-standard": _rmb_k(0.0008),
    "hunyuan-standard-256K": _rmb_k(0.0005),
    "hunyuan-translation-lite": _rmb_k(0.005),
    "hunyuan-role": _rmb_k(0.004),
    "hunyuan-functioncall": _rmb_k(0.004),
    "hunyuan-code": _rmb_k(0.004),
    "hunyuan-turbo-vision": _rmb_k(0.08),
    "hunyuan-vision": _rmb_k(0.018),
    "hunyuan-embedding": _rmb_k(0.0007),
    # Moonshot — https://platform.moonshot.cn/docs/pricing/chat (v1-8k ¥12/M checked; rest original's values)
    "moonshot-v1-8k": _rmb_k(0.012),
    "moonshot-v1-32k": _rmb_k(0.024),
    "moonshot-v1-128k": _rmb_k(0.06),
    # Baichuan — https://platform.baichuan-ai.com/price (unconfirmed: original's values)
    "Baichuan2-Turbo": _rmb_k(0.008),
    "Baichuan2-Turbo-192k": _rmb_k(0.016),
    "Baichuan2-53B": _rmb_k(0.02),
    # MiniMax — https://api.minimax.chat/document/price (unconfirmed: original's values)
    "abab6.5-chat": _rmb_k(0.03),
    "abab6.5s-chat": _rmb_k(0.01),
    "abab6-chat": _rmb_k(0.1),
    "abab5.5-chat": _rmb_k(0.015),
    "abab5.5s-chat": _rmb_k(0.005),
    # Mistral — https://mistral.ai/pricing (large $2/$6, medium $0.4/$2, small $0.1/$0.3 checked; rest orig.)
    "open-mistral-7b": _usd_m(0.25),
    "open-mixtral-8x7b": _usd_m(0.7),
    "mistral-small-latest": _usd_m(0.10),
    "mistral-medium-latest": _usd_m(0.40),
    "mistral-large-latest": _usd_m(2.00),
    "mistral-large-2411": _usd_m(2.00),
    "mistral-embed": _usd_m(0.1),
    # Groq — https://groq.com/pricing (3.x 8b/70b checked; rest original's $/M, its 1000x unit slip fixed)
    "gemma-7b-it": _usd_m(0.07),
    "gemma2-9b-it": _usd_m(0.20),
    "llama-3.1-70b-versatile": _usd_m(0.59),
    "llama-3.3-70b-versatile": _usd_m(0.59),
    "llama-3.1-8b-instant": _usd_m(0.05),
    "llama-3.2-11b-text-preview": _usd_m(0.05),
    "llama-3.2-11b-vision-preview": _usd_m(0.05),
    "llama-3.2-1b-preview": _usd_m(0.05),
    "llama-3.2-3b-preview": _usd_m(0.05),
    "llama-3.2-90b-text-preview": _usd_m(0.59),
    "llama-guard-3-8b": _usd_m(0.05),
    "llama3-70b-8192": _usd_m(0.59),
    "llama3-8b-8192": _usd_m(0.05),
    "llama3-groq-70b-8192-tool-use-preview": _usd_m(0.89),
    "llama3-groq-8b-8192-tool-use-preview": _usd_m(0.19),
    "mixtral-8x7b-32768": _usd_m(0.24),
    # 01.AI — https://platform.lingyiwanwu.com/docs (unconfirmed: original's values)
    "yi-34b-chat-0205": _rmb_k(0.0025),
    "yi-34b-chat-200k": _rmb_k(0.012),
    "yi-vl-plus": _rmb_k(0.006),
    # StepFun — https://platform.stepfun.com/docs/pricing/details (unconfirmed: original's, /1000 slip fixed)
    "step-1-8k": _rmb_k(0.005),
    "step-1-32k": _rmb_k(0.015),
    "step-1-128k": _rmb_k(0.040),
    "step-1-256k": _rmb_k(0.095),
    "step-1-flash": _rmb_k(0.001),
    "step-2-16k": _rmb_k(0.038),
    "step-1v-8k": _rmb_k(0.005),
    "step-1v-32k": _rmb_k(0.015),
    # AWS Bedrock llama3, channel type 33 only — https://aws.amazon.com/bedrock/pricing/ (spec values)
    "llama3-8b-8192(33)": round(0.0003 / 0.002, 8),
    "llama3-70b-8192(33)": round(0.00265 / 0.002, 8),
    # Cohere — https://cohere.com/pricing (unconfirmed: original's values)
    "command": 0.5,
    "command-nightly": 0.5,
    "command-light": 0.5,
    "command-light-nightly": 0.5,
    "command-r": _usd_m(0.5),
    "command-r-plus": _usd_m(3.0),
    # DeepSeek — https://api-docs.deepseek.com/quick_start/pricing (spec kept; page: chat $0.27, R1 $0.55)
    "deepseek-chat": _usd_m(0.14),
    "deepseek-reasoner": _usd_m(0.55),
    # DeepL — https://www.deepl.com/pro#developer (unconfirmed: original's values)
    "deepl-zh": _usd_m(25.0),
    "deepl-en": _usd_m(25.0),
    "deepl-ja": _usd_m(25.0),
    # xAI — https://docs.x.ai/docs/models (grok-beta, grok-2-1212, grok-3 family checked)
    "grok-beta": _usd_m(5.0),
    "grok-vision-beta": _usd_m(5.0),
    "grok-2": _usd_m(2.0),
    "grok-2-latest": _usd_m(2.0),
    "grok-2-1212": _usd_m(2.0),
    "grok-2-vision-1212": _usd_m(2.0),
    "grok-3": _usd_m(3.0),
    "grok-3-latest": _usd_m(3.0),
    "grok-3-fast": _usd_m(5.0),
    "grok-3-mini": _usd_m(0.30),
    "grok-3-mini-fast": _usd_m(0.60),
    # Replicate, per image then per 1K tokens — https://replicate.com/pricing (unconfirmed: original's values)
    "black-forest-labs/flux-1.1-pro": _usd_k(0.04),
    "black-forest-labs/flux-1.1-pro-ultra": _usd_k(0.06),
    "black-forest-labs/flux-canny-dev": _usd_k(0.025),
    "black-forest-labs/flux-canny-pro": _usd_k(0.05),
    "black-forest-labs/flux-depth-dev": _usd_k(0.025),
    "black-forest-labs/flux-depth-pro": _usd_k(0.05),
    "black-forest-labs/flux-dev": _usd_k(0.025),
    "black-forest-labs/flux-dev-lora": _usd_k(0.032),
    "black-forest-labs/flux-fill-dev": _usd_k(0.04),
    "black-forest-labs/flux-fill-pro": _usd_k(0.05),
    "black-forest-labs/flux-pro": _usd_k(0.055),
    "black-forest-labs/flux-redux-dev": _usd_k(0.025),
    "black-forest-labs/flux-redux-schnell": _usd_k(0.003),
    "black-forest-labs/flux-schnell": _usd_k(0.003),
    "black-forest-labs/flux-schnell-lora": _usd_k(0.02),
    "ideogram-ai/ideogram-v2": _usd_k(0.08),
    "ideogram-ai/ideogram-v2-turbo": _usd_k(0.05),
    "recraft-ai/recraft-v3": _usd_k(0.04),
    "recraft-ai/recraft-v3-svg": _usd_k(0.08),
    "stability-ai/stable-diffusion-3": _usd_k(0.035),
    "stability-ai/stable-diffusion-3.5-large": _usd_k(0.065),
    "stability-ai/stable-diffusion-3.5-large-turbo": _usd_k(0.04),
    "stability-ai/stable-diffusion-3.5-medium": _usd_k(0.035),
    "ibm-granite/granite-20b-code-instruct-8k": _usd_k(0.100),
    "ibm-granite/granite-3.0-2b-instruct": _usd_k(0.030),
    "ibm-granite/granite-3.0-8b-instruct": _usd_k(0.050),
    "ibm-granite/granite-8b-code-instruct-128k": _usd_k(0.050),
    "meta/llama-2-13b": _usd_k(0.100),
    "meta/llama-2-13b-chat": _usd_k(0.100),
    "meta/llama-2-70b": _usd_k(0.650),
    "meta/llama-2-70b-chat": _usd_k(0.650),
    "meta/llama-2-7b": _usd_k(0.050),
    "meta/llama-2-7b-chat": _usd_k(0.050),
    "meta/meta-llama-3.1-405b-instruct": _usd_k(9.500),
    "meta/meta-llama-3-70b": _usd_k(0.650),
    "meta/meta-llama-3-70b-instruct": _usd_k(0.650),
    "meta/meta-llama-3-8b": _usd_k(0.050),
    "meta/meta-llama-3-8b-instruct": _usd_k(0.050),
    "mistralai/mistral-7b-instruct-v0.2": _usd_k(0.050),
    "mistralai/mistral-7b-v0.1": _usd_k(0.050),
    "mistralai/mixtral-8x7b-instruct-v0.1": _usd_k(0.300),
}

DEFAULT_COMPLETION_RATIO: dict[str, float] = {
    # the original's five explicit defaults (spec §5)
    "llama3-8b-8192(33)": round(0.0006 / 0.0003, 8),
    "llama3-70b-8192(33)": round(0.0035 / 0.00265, 8),
    "whisper-1": 0,  # only input is billed
    "deepseek-chat": round(0.28 / 0.14, 8),
    "deepseek-reasoner": round(2.19 / 0.55, 8),
    # OpenAI current models (output / input list price)
    "gpt-4.1": 4,
    "gpt-4.1-2025-04-14": 4,
    "gpt-4.1-mini": 4,
    "gpt-4.1-mini-2025-04-14": 4,
    "gpt-4.1-nano": 4,
    "gpt-4.1-nano-2025-04-14": 4,
    "gpt-5": 8,
    "gpt-5-2025-08-07": 8,
    "gpt-5-chat-latest": 8,
    "gpt-5-mini": 8,
    "gpt-5-mini-2025-08-07": 8,
    "gpt-5-nano": 8,
    "gpt-5-nano-2025-08-07": 8,
    "gpt-5.1": 8,
    "o1-pro": 4,
    "o3": 4,
    "o3-2025-04-16": 4,
    "o3-pro": 4,
    "o3-mini": 4,
    "o3-mini-2025-01-31": 4,
    "o4-mini": 4,
    "o4-mini-2025-04-16": 4,
    # Anthropic (the generic "claude-*" rule would say 3)
    "claude-3-7-sonnet-20250219": 5,
    "claude-3-7-sonnet-latest": 5,
    "claude-sonnet-4-20250514": 5,
    "claude-sonnet-4-0": 5,
    "claude-opus-4-20250514": 5,
    "claude-opus-4-0": 5,
    "claude-opus-4-1-20250805": 5,
    "claude-opus-4-1": 5,
    "claude-sonnet-4-5-20250929": 5,
    "claude-sonnet-4-5": 5,
    "claude-haiku-4-5-20251001": 5,
    "claude-haiku-4-5": 5,
    "claude-opus-4-5-20251101": 5,
    "claude-opus-4-5": 5,
    # Google (the generic "gemini-*" rule would say 3)
    "gemini-2.0-flash-lite": 4,
    "gemini-2.0-flash-lite-001": 4,
    "gemini-2.5-pro": 8,
    "gemini-2.5-flash": round(2.50 / 0.30, 8),
    "gemini-2.5-flash-lite": 4,
    # Zhipu: glm-4-plus is one price for input and output
    "glm-4-plus": 1,
    # Mistral (large / small match the "mistral-*" rule of 3)
    "mistral-large-latest": 3,
    "mistral-large-2411": 3,
    "mistral-medium-latest": 5,
    "mistral-small-latest": 3,
    # Groq
    "llama-3.3-70b-versatile": round(0.79 / 0.59, 8),
    "llama-3.1-70b-versatile": round(0.79 / 0.59, 8),
    "llama-3.1-8b-instant": round(0.08 / 0.05, 8),
    # xAI
    "grok-vision-beta": 3,
    "grok-2": 5,
    "grok-2-latest": 5,
    "grok-2-1212": 5,
    "grok-2-vision-1212": 5,
    "grok-3": 5,
    "grok-3-latest": 5,
    "grok-3-fast": 5,
    "grok-3-mini": round(0.50 / 0.30, 8),
    "grok-3-mini-fast": round(4.00 / 0.60, 8),
}

DEFAULT_GROUP_RATIO: dict[str, float] = {"default": 1, "vip": 1, "svip": 1}

# Completion ratios of fixed model names, consulted after the explicit maps (spec §5 rules list).
_NAMED_COMPLETION_RATIO: dict[str, float] = {
    "llama2-70b-4096": 0.8 / 0.64,
    "llama3-8b-8192": 2,
    "llama3-70b-8192": 0.79 / 0.59,
    "command": 2,
    "command-light": 2,
    "command-nightly": 2,
    "command-light-nightly": 2,
    "command-r": 3,
    "command-r-plus": 5,
    "grok-beta": 3,
    # Replicate chat models — https://replicate.com/pricing
    "ibm-granite/granite-20b-code-instruct-8k": 5,
    "ibm-granite/granite-3.0-2b-instruct": 0.25 / 0.03,
    "ibm-granite/granite-3.0-8b-instruct": 5,
    "ibm-granite/granite-8b-code-instruct-128k": 5,
    "meta/llama-2-13b": 5,
    "meta/llama-2-13b-chat": 5,
    "meta/llama-2-7b": 5,
    "meta/llama-2-7b-chat": 5,
    "meta/meta-llama-3-8b": 5,
    "meta/meta-llama-3-8b-instruct": 5,
    "meta/llama-2-70b": 2.75 / 0.65,
    "meta/llama-2-70b-chat": 2.75 / 0.65,
    "meta/meta-llama-3-70b": 2.75 / 0.65,
    "meta/meta-llama-3-70b-instruct": 2.75 / 0.65,
    "meta/meta-llama-3.1-405b-instruct": 1,
    "mistralai/mistral-7b-instruct-v0.2": 5,
    "mistralai/mistral-7b-v0.1": 5,
    "mistralai/mixtral-8x7b-instruct-v0.1": 1.0 / 0.3,
}

_DEFAULTS_BY_OPTION: dict[str, dict[str, float]] = {
    "ModelRatio": DEFAULT_MODEL_RATIO,
    "CompletionRatio": DEFAULT_COMPLETION_RATIO,
    "GroupRatio": DEFAULT_GROUP_RATIO,
}


def _strip_internet(name: str) -> str:
    """``qwen-*-internet`` / ``command-*-internet`` are billed as the model without the suffix."""
    if name.endswith("-internet") and name.startswith(("qwen-", "command-")):
        return name[: -len("-internet")]
    return name


def _explicit(
    name: str, channel_type: int, overrides: dict[str, float] | None, defaults: dict[str, float]
) -> float | None:
    """The four-step explicit look-up shared by model and completion ratios (None when absent)."""
    overrides = overrides or {}
    typed = f"{name}({channel_type})"
    for table, key in ((overrides, typed), (defaults, typed), (overrides, name), (defaults, name)):
        if key in table:
            return float(table[key])
    return None


def model_ratio_lookup(model: str, channel_type: int, overrides: dict[str, float] | None) -> float:
    """overrides["name(type)"], default["name(type)"], overrides[name], default[name], else 30."""
    ratio = _explicit(_strip_internet(model), channel_type, overrides, DEFAULT_MODEL_RATIO)
    return FALLBACK_MODEL_RATIO if ratio is None else ratio


def completion_ratio_lookup(model: str, channel_type: int, overrides: dict[str, float] | None) -> float:
    """Explicit maps (typed key first, overrides before defaults), then the name rules, else 1.

    Deliberate fixes over the original: o3* / o4* get 4 (no rule existed, so o3-mini fell to 1),
    gpt-4.1* gets 4 (the original's gpt-4 rule said 2), and ``command-*-internet`` is stripped
    here as it is for the model ratio.
    """
    name = _strip_internet(model)
    ratio = _explicit(name, channel_type, overrides, DEFAULT_COMPLETION_RATIO)
    if ratio is not None:
        return ratio
    if name.startswith("gpt-3.5"):
        if name == "gpt-3.5-turbo" or name.endswith("0125"):
            return 3.0
        if name.endswith("1106"):
            return 2.0
        return 4.0 / 3.0
    if name.startswith("gpt-4.1"):
        return 4.0
    if name.startswith("gpt-4"):
        if name.startswith("gpt-4o"):
            return 3.0 if name == "gpt-4o-2024-05-13" else 4.0
        if name.startswith("gpt-4-turbo") or name.endswith("preview"):
            return 3.0
        return 2.0
    if name.startswith(("o1", "o3", "o4")):
        return 4.0
    if name == "chatgpt-4o-latest":
        return 3.0
    if name.startswith("claude-3"):
        return 5.0
    if name.startswith(("claude-", "mistral-", "gemini-")):
        return 3.0
    if name.startswith("deepseek-"):
        return 2.0
    return float(_NAMED_COMPLETION_RATIO.get(name, 1.0))


def group_ratio_lookup(group: str, overrides: dict[str, float] | None) -> float:
    """The group's ratio from the live map, then the defaults; an unknown group costs 1."""
    for table in (overrides or {}, DEFAULT_GROUP_RATIO):
        if group in table:
            return float(table[group])
    return 1.0


def _json_number(value: float) -> float | int:
    # Go's encoding/json writes 15, not 15.0; keep the option text looking the same.
    return int(value) if float(value).is_integer() else value


def default_ratio_json(key: str) -> str:
    """The default text of the ``ModelRatio`` / ``CompletionRatio`` / ``GroupRatio`` option."""
    try:
        table = _DEFAULTS_BY_OPTION[key]
    except KeyError:
        raise KeyError(f"no default ratio table for option {key!r}") from None
    return json.dumps(
        {name: _json_number(value) for name, value in table.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


# ---- images (spec §3.5) -------------------------------------------------------------------------

IMAGE_SIZE_RATIOS: dict[str, dict[str, float]] = {
    "dall-e-2": {"256x256": 1, "512x512": 1.125, "1024x1024": 1.25},
    "dall-e-3": {"1024x1024": 1, "1024x1792": 2, "1792x1024": 2},
    "ali-stable-diffusion-xl": {"512x1024": 1, "1024x768": 1, "1024x1024": 1, "576x1024": 1, "1024x576": 1},
    "ali-stable-diffusion-v1.5": {"512x1024": 1, "1024x768": 1, "1024x1024": 1, "576x1024": 1, "1024x576": 1},
    "wanx-v1": {"1024x1024": 1, "720x1280": 1, "1280x720": 1},
    "step-1x-medium": {
        "256x256": 1,
        "512x512": 1,
        "768x768": 1,
        "1024x1024": 1,
        "1280x800": 1,
        "800x1280": 1,
    },
}

# inclusive (min, max) of the ``n`` parameter
IMAGE_N_RANGE: dict[str, tuple[int, int]] = {
    "dall-e-2": (1, 10),
    "dall-e-3": (1, 1),
    "ali-stable-diffusion-xl": (1, 4),
    "ali-stable-diffusion-v1.5": (1, 4),
    "wanx-v1": (1, 4),
    "cogview-3": (1, 1),
    "step-1x-medium": (1, 1),
}

IMAGE_PROMPT_MAX_LENGTH: dict[str, int] = {
    "dall-e-2": 1000,
    "dall-e-3": 4000,
    "ali-stable-diffusion-xl": 4000,
    "ali-stable-diffusion-v1.5": 4000,
    "wanx-v1": 4000,
    "cogview-3": 833,
    "step-1x-medium": 4000,
}

# name sent upstream for the Ali-prefixed image models
IMAGE_ORIGIN_MODEL_NAME: dict[str, str] = {
    "ali-stable-diffusion-xl": "stable-diffusion-xl",
    "ali-stable-diffusion-v1.5": "stable-diffusion-v1.5",
}


def is_valid_image_size(model: str, size: str) -> bool:
    """Models without a size table (and cogview-3) accept any size, as in the original."""
    sizes = IMAGE_SIZE_RATIOS.get(model)
    if model == "cogview-3" or sizes is None:
        return True
    return size in sizes


def image_size_ratio(model: str, size: str, quality: str = "") -> float:
    """Size ratio (1 when the model has no entry), with dall-e-3 ``hd`` at x2 for 1024x1024, else x1.5."""
    ratio = float(IMAGE_SIZE_RATIOS.get(model, {}).get(size, 1))
    if quality == "hd" and model == "dall-e-3":
        ratio *= 2 if size == "1024x1024" else 1.5
    return ratio

"""OpenAI chat request → Anthropic Messages request body (pure; Bedrock and Vertex reuse it).

https://docs.anthropic.com/en/api/messages
"""

from __future__ import annotations

import base64
import binascii
import re

import orjson

from relay.errors import RelayError
from relay.providers.openai import apply_system_prompt

DEFAULT_MAX_TOKENS = 4096

# https://docs.anthropic.com/en/docs/build-with-claude/tool-use#forcing-tool-use
TOOL_CHOICES = {"auto": {"type": "auto"}, "required": {"type": "any"}, "none": {"type": "none"}}

# https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking (OpenAI reasoning_effort → budget)
THINKING_BUDGETS = {"minimal": 1024, "low": 1024, "medium": 4096, "high": 16384}

# OpenAI fields the Messages API has no equivalent for, and the values that are harmless to ignore.
UNSUPPORTED = {
    "n": (None, 1),
    "logprobs": (None, False),
    "top_logprobs": (None, 0),
    "logit_bias": (None, {}),
    "presence_penalty": (None, 0, 0.0),
    "frequency_penalty": (None, 0, 0.0),
    "audio": (None,),
    "prediction": (None,),
}

_DATA_URL = re.compile(r"^data:(?P<type>[\w.+-]+/[\w.+-]+)?(?:;[^,]*)?;base64,(?P<data>.*)$", re.S)


def unsupported(provider: str, field: str) -> RelayError:
    return RelayError(400, f"{provider} does not support {field}", code="unsupported_parameter", param=field)


def messages_body(body: dict, model: str, *, provider: str = "Anthropic", system_prompt: str = "") -> dict:
    """The Messages API body for an OpenAI chat body (``model`` included, ``stream`` only when asked)."""
    for field, harmless in UNSUPPORTED.items():
        if field in body and body[field] not in harmless:
            raise unsupported(provider, field)
    if system_prompt:
        body = dict(body)
        apply_system_prompt(body, system_prompt)
    system, messages = _messages(body.get("messages") or [], provider)
    out: dict = {
        "model": model,
        "messages": messages,
        "max_tokens": body.get("max_completion_tokens") or body.get("max_tokens") or DEFAULT_MAX_TOKENS,
    }
    for field in ("temperature", "top_p", "top_k"):
        if body.get(field) is not None:
            out[field] = body[field]
    stop = body.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if isinstance(body.get("user"), str) and body["user"]:
        out["metadata"] = {"user_id": body["user"]}
    if body.get("stream"):
        out["stream"] = True
    _tools(body, out, provider)
    _thinking(body, out)
    system = _response_format(body, out, system, provider)
    if system:
        out["system"] = system
    return out


def _text_of(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return ""


def _messages(messages: list, provider: str) -> tuple[str, list[dict]]:
    system_parts: list[str] = []
    out: list[dict] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            system_parts.append(_text_of(message.get("content")))
            continue
        if role in ("tool", "function"):
            tool_id = message.get("tool_call_id") or f"toolu_{message.get('name', '')}"
            blocks = [_tool_result(tool_id, message.get("content"), provider)]
            role = "user"
        elif role == "assistant":
            blocks = _assistant_blocks(message, provider)
        elif role == "user":
            blocks = _content_blocks(message.get("content"), provider)
        else:
            raise unsupported(provider, f"messages role {role!r}")
        if not blocks:
            continue
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)  # the API wants user and assistant turns to alternate
        else:
            out.append({"role": role, "content": blocks})
    for message in out:  # a lone text block travels as a plain string, like most clients send it
        content = message["content"]
        if len(content) == 1 and content[0]["type"] == "text":
            message["content"] = content[0]["text"]
    return "\n\n".join(part for part in system_parts if part), out


def _content_blocks(content: object, provider: str) -> list[dict]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks: list[dict] = []
    for part in content:
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            if part.get("text"):
                blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            blocks.append(image_block(str(url or ""), provider))
        else:
            raise unsupported(provider, f"content part type {kind!r}")
    return blocks


def image_block(url: str, provider: str) -> dict:
    """An OpenAI ``image_url`` (data URL or http URL) → an Anthropic image block."""
    match = _DATA_URL.match(url)
    if match:
        data = match.group("data").strip()
        try:
            base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise RelayError(400, "image data URL is not valid base64", param="messages") from None
        media_type = match.group("type") or "image/jpeg"
        return {"type": "image", "source": {"type": "base64", "media_type": media_type, "data": data}}
    if url.startswith(("http://", "https://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise RelayError(400, f"{provider}: image_url must be a data URL or an http(s) URL", param="messages")


def _assistant_blocks(message: dict, provider: str) -> list[dict]:
    blocks = _content_blocks(message.get("content"), provider)
    calls = list(message.get("tool_calls") or [])
    if isinstance(message.get("function_call"), dict):
        name = message["function_call"].get("name", "")
        calls.append({"id": f"toolu_{name}", "function": message["function_call"]})
    for call in calls:
        function = call.get("function") or {}
        blocks.append(
            {
                "type": "tool_use",
                "id": call.get("id") or f"toolu_{function.get('name', '')}",
                "name": function.get("name", ""),
                "input": _arguments(function.get("arguments")),
            }
        )
    return blocks


def _arguments(arguments: object) -> dict:
    if isinstance(arguments, dict):
        return arguments
    if not arguments:
        return {}
    try:
        parsed = orjson.loads(arguments)
    except (orjson.JSONDecodeError, TypeError):
        raise RelayError(400, "tool call arguments must be a JSON object", param="messages") from None
    return parsed if isinstance(parsed, dict) else {}


def _tool_result(tool_id: str, content: object, provider: str) -> dict:
    result: dict = {"type": "tool_result", "tool_use_id": tool_id}
    if isinstance(content, list):
        result["content"] = _content_blocks(content, provider)
    else:
        result["content"] = content if isinstance(content, str) else ""
    return result


def _tools(body: dict, out: dict, provider: str) -> None:
    tools = body.get("tools")
    if tools is None and body.get("functions"):
        tools = [{"type": "function", "function": f} for f in body["functions"]]
    if tools:
        out["tools"] = [_tool(tool, provider) for tool in tools]
    choice = body.get("tool_choice", body.get("function_call"))
    if choice is None:
        choice_out = None
    elif isinstance(choice, str) and choice in TOOL_CHOICES:
        choice_out = dict(TOOL_CHOICES[choice])
    elif isinstance(choice, dict) and (choice.get("function") or choice).get("name"):
        choice_out = {"type": "tool", "name": (choice.get("function") or choice)["name"]}
    else:
        raise RelayError(400, f"tool_choice {choice!r} is not valid", param="tool_choice")
    if body.get("parallel_tool_calls") is False:
        choice_out = choice_out or {"type": "auto"}
        if choice_out["type"] != "none":
            choice_out["disable_parallel_tool_use"] = True
    if choice_out is not None and tools:  # without tools there is nothing to choose from
        out["tool_choice"] = choice_out


def _tool(tool: dict, provider: str) -> dict:
    if tool.get("type", "function") != "function" or not isinstance(tool.get("function"), dict):
        raise unsupported(provider, f"tools of type {tool.get('type')!r}")
    function = tool["function"]
    out = {
        "name": function.get("name", ""),
        "input_schema": function.get("parameters") or {"type": "object", "properties": {}},
    }
    if function.get("description"):
        out["description"] = function["description"]
    return out


def _thinking(body: dict, out: dict) -> None:
    if isinstance(body.get("thinking"), dict):  # Anthropic-aware clients send it as is
        out["thinking"] = body["thinking"]
    elif body.get("reasoning_effort") in THINKING_BUDGETS:
        out["thinking"] = {"type": "enabled", "budget_tokens": THINKING_BUDGETS[body["reasoning_effort"]]}
    else:
        return
    budget = out["thinking"].get("budget_tokens") or 0
    if out["max_tokens"] <= budget:  # the budget is part of max_tokens and must leave room for the answer
        out["max_tokens"] = budget + DEFAULT_MAX_TOKENS


def _response_format(body: dict, out: dict, system: str, provider: str) -> str:
    fmt = body.get("response_format")
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if kind in (None, "text"):
        return system
    if kind == "json_schema":
        schema = (fmt.get("json_schema") or {}).get("schema")
        if not isinstance(schema, dict):
            raise RelayError(400, "response_format.json_schema.schema is required", param="response_format")
        out["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        return system
    if kind == "json_object":  # no JSON mode in the Messages API; Anthropic's docs say to ask for it
        instruction = "Respond only with a single valid JSON object."
        return f"{system}\n\n{instruction}" if system else instruction
    raise unsupported(provider, f"response_format {kind!r}")

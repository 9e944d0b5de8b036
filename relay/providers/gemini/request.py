"""OpenAI chat/embedding requests → Gemini ``generateContent`` / ``batchEmbedContents`` bodies.

Pure (no I/O, no Django): the Gemini adaptor and Gemini-on-Vertex build their bodies with these functions.
https://ai.google.dev/api/generate-content and https://ai.google.dev/api/embeddings
"""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable

import orjson

from relay.errors import RelayError
from relay.providers.gemini.schema import clean_schema

PROVIDER = "Gemini"

# https://ai.google.dev/gemini-api/docs/safety-settings (every adjustable category)
SAFETY_CATEGORIES = (
    "HARM_CATEGORY_HARASSMENT",
    "HARM_CATEGORY_HATE_SPEECH",
    "HARM_CATEGORY_SEXUALLY_EXPLICIT",
    "HARM_CATEGORY_DANGEROUS_CONTENT",
    "HARM_CATEGORY_CIVIC_INTEGRITY",
)

# https://ai.google.dev/gemini-api/docs/function-calling#function_calling_modes
_TOOL_CHOICE_MODES = {"auto": "AUTO", "none": "NONE", "required": "ANY"}

# https://ai.google.dev/gemini-api/docs/thinking#set-budget (OpenAI reasoning_effort → thinking budget)
THINKING_BUDGETS = {"none": 0, "minimal": 0, "low": 1024, "medium": 8192, "high": 24576}

# Fields Gemini has no counterpart for; asking for them is a 400, not a silent drop.
_UNSUPPORTED = ("logprobs", "top_logprobs", "audio", "prediction", "logit_bias")


def unsupported(param: str) -> RelayError:
    return RelayError(400, f"{PROVIDER} does not support {param}", code="unsupported_parameter", param=param)


def invalid(message: str, param: str = "messages") -> RelayError:
    return RelayError(400, message, code="invalid_request", param=param)


# --- request ---------------------------------------------------------------------------------------------


def chat_request(body: dict, *, system_prompt: str = "", safety_threshold: str = "BLOCK_NONE") -> dict:
    """An OpenAI chat body → a Gemini ``GenerateContentRequest`` (the model goes in the URL, not here).

    ``system_prompt`` (the channel's) replaces the client's first system message. Raises RelayError(400)
    for fields Gemini lacks.
    """
    for name in _UNSUPPORTED:
        if body.get(name) not in (None, False, {}, []):
            raise unsupported(name)
    messages = list(body.get("messages") or [])
    if system_prompt:
        first = next((i for i, m in enumerate(messages) if m.get("role") in ("system", "developer")), None)
        if first is None:
            messages.insert(0, {"role": "system", "content": system_prompt})
        else:
            messages[first] = {**messages[first], "content": system_prompt}
    system, contents = chat_contents(messages)
    request: dict = {"contents": contents}
    if system:
        request["systemInstruction"] = {"parts": system}
    request["safetySettings"] = [{"category": c, "threshold": safety_threshold} for c in SAFETY_CATEGORIES]
    if config := generation_config(body):
        request["generationConfig"] = config
    declarations = function_declarations(body)
    if declarations:
        request["tools"] = [{"functionDeclarations": declarations}]
        if tool_config := _tool_config(body):
            request["toolConfig"] = tool_config
    return request


def chat_contents(messages: Iterable[dict]) -> tuple[list[dict], list[dict]]:
    """(systemInstruction parts, contents): assistant → ``model``, tool results → ``functionResponse``.

    Consecutive turns of one role are merged, so parallel tool results travel in one content as Gemini wants.
    """
    system: list[dict] = []
    contents: list[dict] = []
    call_names: dict[str, str] = {}
    for message in messages:
        role = message.get("role")
        content = message.get("content")
        if role in ("system", "developer"):
            if text := message_text(content):
                system.append({"text": text})
        elif role == "assistant":
            parts = content_parts(content)
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                call_names[str(call.get("id"))] = str(function.get("name") or "")
                parts.append({"functionCall": _function_call(function)})
            if isinstance(message.get("function_call"), dict):
                parts.append({"functionCall": _function_call(message["function_call"])})
            _append(contents, "model", parts)
        elif role in ("tool", "function"):
            name = call_names.get(str(message.get("tool_call_id"))) or message.get("name")
            if not name:
                raise invalid("a tool message answers no earlier tool call (unknown tool_call_id)")
            response = {"name": name, "response": _function_response(content)}
            _append(contents, "user", [{"functionResponse": response}])
        else:
            _append(contents, "user", content_parts(content))
    return system, contents


def content_parts(content: object) -> list[dict]:
    """OpenAI message content (a string or parts) → Gemini parts; empty text is left out (Gemini rejects it)."""
    if isinstance(content, str):
        return [{"text": content}] if content else []
    parts: list[dict] = []
    for part in content if isinstance(content, list) else ():
        kind = part.get("type") if isinstance(part, dict) else None
        if kind in ("text", "input_text"):
            if part.get("text"):
                parts.append({"text": str(part["text"])})
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            parts.append(media_part(str(url or ""), "image/jpeg"))
        elif kind == "input_audio":
            audio = part.get("input_audio") or {}
            mime = f"audio/{audio.get('format') or 'wav'}"
            parts.append({"inlineData": {"mimeType": mime, "data": str(audio.get("data") or "")}})
        elif kind == "file":
            file = part.get("file") or {}
            parts.append(
                media_part(str(file.get("file_data") or file.get("file_id") or ""), "application/pdf")
            )
        else:
            raise unsupported(f"content parts of type {kind!r}")
    return parts


def media_part(url: str, default_mime: str) -> dict:
    """A data: URL → ``inlineData``; any other URL → ``fileData`` (Files API, gs:// and https URIs).

    The gateway never downloads client-supplied URLs itself (no SSRF, no I/O in translation).
    """
    if url.startswith("data:"):
        header, _, data = url.partition(",")
        mime = header[5:].split(";", 1)[0] or default_mime
        return {"inlineData": {"mimeType": mime, "data": data}}
    if not url:
        raise invalid("an image or file part has no URL")
    mime = mimetypes.guess_type(url.split("?", 1)[0])[0] or default_mime
    return {"fileData": {"mimeType": mime, "fileUri": url}}


def generation_config(body: dict) -> dict:
    """temperature, top_p, max_tokens, n, stop, penalties, seed, response_format, reasoning_effort."""
    config: dict = {}
    for ours, theirs in (
        ("temperature", "temperature"),
        ("top_p", "topP"),
        ("presence_penalty", "presencePenalty"),
        ("frequency_penalty", "frequencyPenalty"),
        ("seed", "seed"),
    ):
        if body.get(ours) is not None:
            config[theirs] = body[ours]
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens:
        config["maxOutputTokens"] = max_tokens
    if isinstance(body.get("n"), int) and body["n"] > 1:
        config["candidateCount"] = body["n"]
    stop = body.get("stop")
    if stop:
        config["stopSequences"] = [stop] if isinstance(stop, str) else list(stop)
    config.update(_response_format(body.get("response_format")))
    effort = body.get("reasoning_effort")
    if effort is not None:
        if effort not in THINKING_BUDGETS:
            raise invalid(
                f"reasoning_effort {effort!r} is not one of {sorted(THINKING_BUDGETS)}", "reasoning_effort"
            )
        config["thinkingConfig"] = {"thinkingBudget": THINKING_BUDGETS[effort]}
    return config


def _response_format(value: object) -> dict:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind in (None, "text"):
        return {}
    if kind == "json_object":
        return {"responseMimeType": "application/json"}
    if kind == "json_schema":
        schema = (value.get("json_schema") or {}).get("schema")
        out = {"responseMimeType": "application/json"}
        if isinstance(schema, dict):
            out["responseSchema"] = clean_schema(schema)
        return out
    raise unsupported(f"response_format type {kind!r}")


def function_declarations(body: dict) -> list[dict]:
    """``tools`` (or legacy ``functions``) → Gemini function declarations with cleaned parameter schemas."""
    functions: list[dict] = []
    for tool in body.get("tools") or ():
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            raise unsupported(f"tools of type {tool.get('type') if isinstance(tool, dict) else tool!r}")
        functions.append(tool.get("function") or {})
    functions.extend(f for f in body.get("functions") or () if isinstance(f, dict))
    return [function_declaration(f) for f in functions]


def function_declaration(function: dict) -> dict:
    declaration: dict = {"name": str(function.get("name") or "")}
    if function.get("description"):
        declaration["description"] = str(function["description"])
    parameters = clean_schema(function.get("parameters"))
    # A parameterless function: Gemini rejects an OBJECT schema with no properties, so send none at all.
    if parameters.get("properties"):
        declaration["parameters"] = parameters
    return declaration


def _tool_config(body: dict) -> dict | None:
    choice = body.get("tool_choice", body.get("function_call"))
    if choice is None:
        return None
    if isinstance(choice, str):
        if choice not in _TOOL_CHOICE_MODES:
            raise invalid(f"tool_choice {choice!r} is not one of auto, none, required", "tool_choice")
        return {"functionCallingConfig": {"mode": _TOOL_CHOICE_MODES[choice]}}
    name = (choice.get("function") or choice).get("name") if isinstance(choice, dict) else None
    if not name:
        raise invalid("tool_choice names no function", "tool_choice")
    return {"functionCallingConfig": {"mode": "ANY", "allowedFunctionNames": [name]}}


def _function_call(function: dict) -> dict:
    arguments = function.get("arguments")
    if isinstance(arguments, str):
        try:
            arguments = orjson.loads(arguments) if arguments.strip() else {}
        except orjson.JSONDecodeError:
            raise invalid("tool call arguments must be a JSON object") from None
    if not isinstance(arguments, dict):
        raise invalid("tool call arguments must be a JSON object")
    return {"name": str(function.get("name") or ""), "args": arguments}


def _function_response(content: object) -> dict:
    # Gemini wants an object; a JSON object result goes as is, anything else under "content".
    text = message_text(content)
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        parsed = text
    return parsed if isinstance(parsed, dict) else {"content": parsed}


def _append(contents: list[dict], role: str, parts: list[dict]) -> None:
    if not parts:
        return
    if contents and contents[-1]["role"] == role:
        contents[-1]["parts"].extend(parts)
    else:
        contents.append({"role": role, "parts": parts})


def message_text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(p.get("text") or "") for p in content if isinstance(p, dict) and p.get("type") == "text"
        )
    return ""


def embedding_request(body: dict, model: str) -> dict:
    """An OpenAI embeddings body → ``batchEmbedContents`` (one request per input string)."""
    inputs = body.get("input")
    if isinstance(inputs, str):
        inputs = [inputs]
    if not isinstance(inputs, list) or not inputs or not all(isinstance(i, str) for i in inputs):
        raise unsupported("input as token ids")
    extra: dict = {}
    if body.get("dimensions"):
        extra["outputDimensionality"] = body["dimensions"]
    name = model if model.startswith("models/") else f"models/{model}"
    return {"requests": [{"model": name, "content": {"parts": [{"text": text}]}, **extra} for text in inputs]}

"""DashScope image synthesis (wanx): an async task, polled until it ends, answered as OpenAI images.

``build_request`` makes the task-creation request (``X-DashScope-Async: enable``); ``poll_image_task`` (called
by the adaptor's ``follow_up`` after the relay sent it, or by ``run_image_task`` which sends it too) polls
``<base>/api/v1/tasks/<id>`` every ``TASK_POLL_INTERVAL_S`` and returns the final task JSON, which
``image_answer`` turns into ``{"created", "data": [{"url"} | {"b64_json"}]}``.
"""

from __future__ import annotations

import asyncio
import base64

import httpx
import orjson

from relay.errors import RelayError, upstream_error
from relay.providers.ali.wire import PROVIDER, ali_error, error_payload
from relay.providers.base import UpstreamRequest
from relay.providers.shapes import bad_response, json_object, now, unsupported

SYNTHESIS_PATH = "/api/v1/services/aigc/text2image/image-synthesis"
TASK_POLL_INTERVAL_S = 2.0  # tests patch this
TASK_POLL_ATTEMPTS = 30
FINAL_STATUSES = {"SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}


def image_body(body: dict, model: str) -> dict:
    if body.get("response_format") not in (None, "url", "b64_json"):
        raise unsupported(PROVIDER, "response_format")
    task: dict = {"model": model, "input": {"prompt": body.get("prompt") or ""}, "parameters": {}}
    if body.get("negative_prompt"):
        task["input"]["negative_prompt"] = body["negative_prompt"]
    if isinstance(body.get("size"), str):
        task["parameters"]["size"] = body["size"].replace("x", "*")
    if body.get("n"):
        task["parameters"]["n"] = body["n"]
    return task


def _fail(status: int, body: bytes) -> RelayError:
    payload = error_payload(body)
    return ali_error(status, payload) if payload else upstream_error(status, body)


async def _call(
    client: httpx.AsyncClient, method: str, url: str, headers: dict, content: bytes = b""
) -> bytes:
    try:
        response = await client.request(method, url, headers=headers, content=content)
    except httpx.HTTPError as exc:
        message = f"upstream unreachable: {exc.__class__.__name__}"
        raise RelayError(
            502, message, type="upstream_error", code="do_request_failed", retryable=True
        ) from None
    if response.status_code != 200:
        raise _fail(response.status_code, response.content)
    return response.content


async def poll_image_task(
    client: httpx.AsyncClient,
    url: str,
    authorization: str,
    created: bytes,
    *,
    response_format: object = "url",
) -> bytes:
    """From the task-creation answer (``created``, sent to ``url``) poll the task to its end and return the
    final task JSON (``b64_image`` filled in for ``response_format="b64_json"``). RelayError on failure."""
    payload = json_object(created, PROVIDER)
    task_id = (payload.get("output") or {}).get("task_id")
    if not task_id:
        raise _fail(500, created) if payload.get("code") else bad_response("DashScope sent no task id")
    base = url.split("/api/v1/services/", 1)[0]
    headers = {"Authorization": authorization}
    for _ in range(TASK_POLL_ATTEMPTS):
        task = json_object(await _call(client, "GET", f"{base}/api/v1/tasks/{task_id}", headers), PROVIDER)
        if (task.get("output") or {}).get("task_status") in FINAL_STATUSES:
            break
        await asyncio.sleep(TASK_POLL_INTERVAL_S)
    else:
        message = f"DashScope image task {task_id} did not finish in time"
        raise RelayError(504, message, type="upstream_error", code="task_timeout")
    if response_format == "b64_json":
        for result in (task.get("output") or {}).get("results") or ():
            if isinstance(result, dict) and result.get("url") and not result.get("b64_image"):
                image = await _call(client, "GET", result["url"], {})
                result["b64_image"] = base64.b64encode(image).decode()
    return orjson.dumps(task)


async def run_image_task(
    client: httpx.AsyncClient, upstream: UpstreamRequest, *, response_format: object = "url"
) -> bytes:
    """Send the task-creation request and poll the task to its end (see ``poll_image_task``)."""
    created = await _call(client, "POST", upstream.url, upstream.headers, upstream.content)
    authorization = upstream.headers.get("Authorization", "")
    return await poll_image_task(
        client, upstream.url, authorization, created, response_format=response_format
    )


def image_answer(payload: dict) -> bytes:
    output = payload.get("output") or {}
    status = output.get("task_status")
    if status not in FINAL_STATUSES:
        raise bad_response(f"DashScope image task is {status or 'unknown'}, not finished (poll it first)")
    if status != "SUCCEEDED":
        code = str(output.get("code") or f"Task{str(status).title()}")
        message = str(output.get("message") or f"DashScope image task ended as {status}")
        bad_request = code in ("DataInspectionFailed", "InvalidParameter")
        raise ali_error(400 if bad_request else 500, {"code": code, "message": message})
    data = []
    for result in output.get("results") or ():
        if isinstance(result, dict) and result.get("b64_image"):
            data.append({"b64_json": result["b64_image"], "revised_prompt": ""})
        elif isinstance(result, dict) and result.get("url"):
            data.append({"url": result["url"], "revised_prompt": ""})
    if not data:
        raise RelayError(
            500, "DashScope image task produced no image", type="upstream_error", code="no_image"
        )
    return orjson.dumps({"created": now(), "data": data})

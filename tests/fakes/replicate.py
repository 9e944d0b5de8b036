"""A fake Replicate HTTP API: predictions that start, process and finish over a few polls, their SSE stream,
and the files they produce. URLs it hands out point at api.replicate.com / stream.replicate.com (as the real
service does), so a gateway that failed to move them onto the channel's base URL would never reach it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from dataclasses import dataclass, field

from tests.fakes.server import read_body, send_answer

PNG = bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")


@dataclass
class Plan:
    status: int = 201
    error: dict | None = None  # problem+json body for a failed create
    output: object = field(default_factory=lambda: ["Hello", " from", " Replicate."])
    final_status: str = "succeeded"
    error_message: str | None = None
    polls: int = 2  # polls before the prediction reaches its final status
    metrics: dict | None = field(default_factory=lambda: {"input_token_count": 12, "output_token_count": 3})
    stream_url: bool = True  # offer urls.stream when the create asks to stream
    stream_error_after: int | None = None


@dataclass
class Prediction:
    id: str
    model: str
    input: dict
    plan: Plan
    polls: int = 0


@dataclass
class FakeReplicate:
    url: str = ""
    plans: dict[str, Plan] = field(default_factory=dict)  # by API token
    created: list[dict] = field(default_factory=list)  # {"path", "headers", "body"} per create
    predictions: dict[str, Prediction] = field(default_factory=dict)
    gets: list[str] = field(default_factory=list)
    _ids: itertools.count = field(default_factory=itertools.count)

    def plan(self, key: str, **kwargs) -> Plan:
        self.plans[key] = Plan(**kwargs)
        return self.plans[key]

    def reset(self) -> None:
        self.plans.clear()
        self.created.clear()
        self.predictions.clear()
        self.gets.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        raw = await read_body(receive)
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        path = scope["path"]
        if path.startswith("/files/"):  # delivery URLs are public
            return await send_answer(send, 200, PNG, "image/png")
        key = headers.get("authorization", "").removeprefix("Bearer ")
        if key not in self.plans:
            problem = {
                "title": "Unauthenticated",
                "detail": "You did not pass a valid authentication token",
                "status": 401,
            }
            return await send_answer(send, 401, problem)
        if match := re.fullmatch(r"/v1/models/([^/]+/[^/]+)/predictions", path):
            self.created.append({"path": path, "headers": headers, "body": json.loads(raw)})
            return await self._create(send, self.plans[key], match[1], json.loads(raw))
        if match := re.fullmatch(r"/v1/predictions/([\w-]+)", path):
            self.gets.append(path)
            prediction = self.predictions[match[1]]
            prediction.polls += 1
            return await send_answer(send, 200, self._view(prediction))
        if match := re.fullmatch(r"/v1/files/([\w-]+)", path):
            if headers.get("accept") != "text/event-stream":
                return await send_answer(
                    send, 406, {"title": "Not Acceptable", "detail": "stream wants text/event-stream"}
                )
            return await self._stream(send, self.predictions[match[1]])
        await send_answer(
            send,
            404,
            {"title": "Not found", "detail": "The requested resource could not be found.", "status": 404},
        )

    async def _create(self, send, plan: Plan, model: str, body: dict) -> None:
        if plan.status != 201:
            return await send_answer(send, plan.status, plan.error or {"title": "Error", "detail": "failure"})
        if not isinstance(body.get("input"), dict) or not body["input"].get("prompt"):
            problem = {
                "title": "Input validation failed",
                "detail": "- (root): prompt is required",
                "status": 422,
            }
            return await send_answer(send, 422, problem)
        prediction = Prediction(f"pred{next(self._ids)}", model, body["input"], plan)
        self.predictions[prediction.id] = prediction
        view = self._view(prediction)
        if body.get("stream") and plan.stream_url:
            view["urls"]["stream"] = f"https://stream.replicate.com/v1/files/{prediction.id}"
        await send_answer(send, 201, view)

    def _view(self, prediction: Prediction) -> dict:
        plan = prediction.plan
        done = prediction.polls >= plan.polls
        status = plan.final_status if done else ("starting" if prediction.polls == 0 else "processing")
        output = plan.output
        if done and isinstance(output, list) and output and str(output[0]).startswith("/files/"):
            output = [self.url + str(item) for item in output]
        view = {
            "id": prediction.id,
            "model": prediction.model,
            "version": "dp-fake",
            "input": prediction.input,
            "status": status,
            "output": output if done and status == "succeeded" else None,
            "error": plan.error_message if done else None,
            "logs": "",
            "metrics": plan.metrics if done else {},
            "urls": {
                "get": f"https://api.replicate.com/v1/predictions/{prediction.id}",
                "cancel": f"https://api.replicate.com/v1/predictions/{prediction.id}/cancel",
            },
        }
        return view

    async def _stream(self, send, prediction: Prediction) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/event-stream")],
            }
        )
        plan = prediction.plan
        for n, piece in enumerate(plan.output if isinstance(plan.output, list) else [plan.output]):
            if plan.stream_error_after is not None and n >= plan.stream_error_after:
                frame = 'event: error\ndata: {"detail": "CUDA out of memory"}\n\n'
                frame += 'event: done\ndata: {"reason": "error"}\n\n'
                await send({"type": "http.response.body", "body": frame.encode(), "more_body": True})
                break
            data = "\n".join(f"data: {line}" for line in str(piece).split("\n"))
            await send(
                {
                    "type": "http.response.body",
                    "body": f"event: output\nid: {n}\n{data}\n\n".encode(),
                    "more_body": True,
                }
            )
            await asyncio.sleep(0)
        else:
            await send(
                {"type": "http.response.body", "body": b"event: done\ndata: {}\n\n", "more_body": True}
            )
        await send({"type": "http.response.body", "body": b""})

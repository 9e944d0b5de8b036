"""A fake provider billing API: ``route(path, ...)`` says how a GET of that path is answered.

Paths are matched without the query string; every request is recorded with its query and headers.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field

from tests.fakes.server import send_answer


@dataclass
class Route:
    status: int = 200
    body: bytes = b"{}"
    delay: float = 0.0
    content_type: str = "application/json"


@dataclass
class FakeBilling:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[tuple[str, str, dict[str, str]]] = field(default_factory=list)  # (path, query, headers)

    def route(self, path: str, answer: object = None, *, raw: bytes | None = None, **kwargs) -> None:
        body = raw if raw is not None else json.dumps(answer).encode()
        self.routes[path] = Route(body=body, **kwargs)

    def reset(self) -> None:
        self.routes.clear()
        self.requests.clear()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        self.requests.append((scope["path"], scope.get("query_string", b"").decode(), headers))
        route = self.routes.get(scope["path"], Route(status=404, body=b'{"error": "no such route"}'))
        if route.delay:
            await asyncio.sleep(route.delay)
        await send_answer(send, route.status, route.body, route.content_type)

"""A fake DashScope upstream (PROVIDERS.md §7): checks the Bearer key, headers and native bodies; answers from
the fixtures with DashScope's own SSE framing, and runs image tasks that finish on the second poll."""

from __future__ import annotations

from tests.fakes.native import Received, RecordingFake, Reply, fixture, sse_pieces

TEXT = "/api/v1/services/aigc/text-generation/generation"
MULTIMODAL = "/api/v1/services/aigc/multimodal-generation/generation"
EMBEDDING = "/api/v1/services/embeddings/text-embedding/text-embedding"
SYNTHESIS = "/api/v1/services/aigc/text2image/image-synthesis"
TASK = "/api/v1/tasks/13b1848b-5493-4c0e-8c44-ca4aaaad5b1e"


class FakeAli(RecordingFake):
    def __init__(self) -> None:
        super().__init__()
        self.key = ""
        self.polls = 0

    def reset(self) -> None:
        super().reset()
        self.polls = 0

    def answer(self, request: Received) -> Reply:
        assert request.headers.get("authorization") == f"Bearer {self.key}", "wrong or missing Bearer key"
        if request.method == "GET" and request.path == TASK:
            self.polls += 1
            return _reply("image_task_running.json" if self.polls < 2 else "image_task_succeeded.json")
        body = request.json
        if request.path in (TEXT, MULTIMODAL):
            return self._chat(request, body)
        if request.path == EMBEDDING:
            assert isinstance(body["input"]["texts"], list), "texts must be a list"
            return _reply("embeddings.json")
        if request.path == SYNTHESIS:
            assert request.headers.get("x-dashscope-async") == "enable", "image tasks are async"
            assert body["input"]["prompt"] and "*" in body["parameters"].get("size", "*")
            return _reply("image_task_created.json")
        return Reply(404, b'{"code":"NotFound","message":"no such API"}')

    def _chat(self, request: Received, body: dict) -> Reply:
        assert body["parameters"]["result_format"] == "message", "result_format must be message"
        assert body["input"]["messages"], "input.messages is required"
        assert 0 < body["parameters"].get("top_p", 0.5) < 1, "top_p must be inside (0, 1)"
        stream = request.headers.get("x-dashscope-sse") == "enable"
        assert stream == bool(body["parameters"].get("incremental_output")), "stream needs incremental output"
        name = "tool_call" if body["parameters"].get("tools") else "chat"
        return _reply(f"{name}_stream.sse" if stream else f"{name}.json")


def _reply(name: str) -> Reply:
    raw = fixture("ali", name)
    if name.endswith(".sse"):
        return Reply(200, content_type="text/event-stream;charset=UTF-8", chunks=sse_pieces(raw))
    return Reply(200, raw)

"""A fake AIProxy Library upstream: checks the Bearer key and the ask body, answers from the fixtures."""

from __future__ import annotations

from tests.fakes.native import Received, RecordingFake, Reply, fixture


class FakeLibrary(RecordingFake):
    def __init__(self) -> None:
        super().__init__()
        self.key = ""
        self.library_id = ""

    def answer(self, request: Received) -> Reply:
        assert request.method == "POST" and request.path == "/api/library/ask", f"unexpected {request.path}"
        assert request.headers.get("authorization") == f"Bearer {self.key}", "wrong Bearer key"
        body = request.json
        assert body["libraryId"] == self.library_id and body["query"], "libraryId and query are required"
        assert body["stream"] is False, "the library is always asked for a whole answer"
        return Reply(200, fixture("aiproxy_library", "answer.json"))

"""A fake upstream behind a Proxy channel (type 43): records what arrives and answers with whatever the test
asks for — a JSON body with its own status and headers, a slow stream, or a gzip-encoded body."""

from __future__ import annotations

import gzip

from tests.fakes.native import Received, RecordingFake, Reply, fixture


class FakeProxied(RecordingFake):
    def answer(self, request: Received) -> Reply:
        if request.path.endswith("/stream"):
            pieces = [f"event {i}\n".encode() for i in range(3)]
            return Reply(200, content_type="text/plain", chunks=pieces, chunk_delay=0.05)
        if request.path.endswith("/gzip"):
            return Reply(
                200,
                gzip.compress(b"compressed hello"),
                "text/plain",
                headers=[(b"content-encoding", b"gzip")],
            )
        status = 201 if request.method == "POST" else 200
        return Reply(status, fixture("proxy", "files_list.json"), headers=[(b"x-upstream", b"fake-files")])

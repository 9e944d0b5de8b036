"""The adaptor contract: pure translation between OpenAI requests/responses and one provider's wire format.

I/O stays in relay.services / relay.streaming; adaptors build requests and parse bytes.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, ClassVar

from billing.usage import Usage
from relay.errors import RelayError, upstream_error

if TYPE_CHECKING:
    import httpx

    from channels_app.routing import ChannelSnapshot
    from relay.channel_types import ChannelTypeInfo
    from relay.schemas import RelayRequest

# Streamed completion text kept for counting when the upstream sends no usage. Beyond this many characters
# the text is counted and dropped, so memory per stream stays constant however long the answer is.
TEXT_COUNT_BLOCK = 16_384


@dataclass(slots=True)
class UpstreamRequest:
    method: str
    url: str
    headers: dict[str, str]
    content: bytes = b""
    system_prompt_reset: bool = False


@dataclass(slots=True)
class StreamState:
    """What a stream parser remembers between events. Parsers mutate only this."""

    model: str
    hide_usage: bool = False
    usage: Usage | None = None
    finished: bool = False
    done: bool = False
    text_parts: list[str] = field(default_factory=list)
    text_chars: int = 0
    counted_tokens: int = 0
    error: RelayError | None = None

    def add_text(self, text: str) -> None:
        if not text:
            return
        self.text_parts.append(text)
        self.text_chars += len(text)
        if self.text_chars >= TEXT_COUNT_BLOCK:
            self.flush_text()

    def flush_text(self) -> None:
        from relay.tokens import count_completion

        if self.text_parts:
            self.counted_tokens += count_completion("".join(self.text_parts), self.model)
            self.text_parts.clear()
            self.text_chars = 0

    def completion_tokens_counted(self) -> int:
        self.flush_text()
        return self.counted_tokens


class Adaptor:
    """One provider. Subclasses override what differs; the defaults speak OpenAI.

    An upstream that is not one HTTP request (iFlytek Spark's WebSocket) defines
    ``async def websocket_call(self, upstream: UpstreamRequest, *, stream: bool) -> httpx.Response``; the relay
    and the channel test then call it with ``build_request``'s result instead of sending that over HTTP. It
    does the I/O, raises RelayError for refused connections and error frames, and returns an ``httpx.Response``
    whose body ``parse_response`` (non-stream) or ``stream_events`` (stream) read as usual.
    """

    name: ClassVar[str] = "openai"

    def __init__(self, channel: ChannelSnapshot, info: ChannelTypeInfo) -> None:
        self.channel = channel
        self.info = info

    async def prepare(self, client: httpx.AsyncClient) -> None:
        """Fetch anything the request needs first (an access token). Default: nothing."""

    async def follow_up(
        self, client: httpx.AsyncClient, req: RelayRequest, response: httpx.Response
    ) -> httpx.Response:
        """More I/O the first answer calls for (poll an asynchronous prediction, open its stream URL); returns
        the response to read in its place. Default: the answer itself. Raise RelayError on failure."""
        return response

    def build_request(self, req: RelayRequest, upstream_model: str) -> UpstreamRequest:
        """The HTTP request for the upstream; raise RelayError(400) for features the provider lacks."""
        raise RelayError(400, f"{self.info.name} does not support {req.mode}", code="unsupported_endpoint")

    def parse_response(self, req: RelayRequest, status: int, body: bytes) -> tuple[bytes, Usage | None]:
        """A successful non-stream upstream body → (OpenAI JSON bytes, usage or None). Raise on errors."""
        raise RelayError(500, f"{self.info.name}: cannot parse response", code="bad_response")

    def stream_is_error(self, status: int, content_type: str) -> bool:
        """Whether the answer to a stream request is an error body (read whole, then ``map_error``).

        Default: any non-200 status, or a JSON (not NDJSON) body, which streaming upstreams send for errors.
        Providers that never stream (their one JSON answer is replayed as a stream) or stream with another
        JSON media type override this.
        """
        return status != 200 or ("json" in content_type and "ndjson" not in content_type)

    def stream_events(self, response: httpx.Response) -> AsyncIterator[str]:
        """The upstream stream as a sequence of event data strings. Default: server-sent events."""
        from relay.streaming import upstream_events

        return upstream_events(response)

    async def stream_event_batches(self, response: httpx.Response) -> AsyncIterator[list[str]]:
        """``stream_events`` grouped by what arrived together, each group relayed in one write. Default:
        one event per group; the OpenAI reader groups by upstream read."""
        async for data in self.stream_events(response):
            yield [data]

    def parse_stream_event(self, data: str, state: StreamState) -> list[bytes]:
        """One upstream stream event's data → OpenAI chunk payloads to send (may be none)."""
        raise RelayError(500, f"{self.info.name}: cannot parse stream", code="bad_response")

    def map_error(self, status: int, body: bytes) -> RelayError:
        """An unsuccessful upstream answer → RelayError saying whether to retry or disable the channel."""
        return upstream_error(status, body)

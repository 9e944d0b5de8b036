"""The one pooled upstream HTTP client per process (per event loop): aiohttp underneath, httpx's types on top.

Why aiohttp: against deploy/bench's fake upstream, 32 requests at a time on one core, a call through
``httpx.AsyncClient`` (httpx + httpcore + h11 + anyio) cost 754 µs of CPU; the same call through aiohttp's
C-parser client, handed back as an ``httpx.Response``, 146 µs. That difference was a third of a relayed request.

- ``upstream_send`` is the relay's hot path: one aiohttp request, answered as an ``httpx.Response`` (body read
  whole, or streamed chunk by chunk as it arrives).
- ``upstream_client()`` is an ``httpx.AsyncClient`` for adaptors' extra calls (token exchanges, polling). Its
  transport sends through the same aiohttp session, so each event loop keeps one connection pool.

Callers see only httpx: ``httpx.Response`` and httpx's exceptions (``TimeoutException``, ``TransportError``),
so adaptors and their tests are independent of the library underneath. Upstream cookies are never kept: one
client serves every user and channel, so a cookie from one answer must not ride along on the next request.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable
from urllib.parse import quote

import aiohttp
import httpx
import yarl
from django.conf import settings

_sessions: dict[int, tuple[asyncio.AbstractEventLoop, aiohttp.ClientSession]] = {}
_clients: dict[int, httpx.AsyncClient] = {}
_urls: dict[str, yarl.URL] = {}
MAX_CONNECTIONS = 2000
_URL_SAFE = "!#$%&'()*+,/:;=?@[]~"  # everything a URL may hold; '%' so existing escapes stay
KEEPALIVE_S = 60.0


def _timeout(total: float | None) -> aiohttp.ClientTimeout:
    # Connecting should never take long even when the answer may (a long stream); each read waits at most
    # RELAY_TIMEOUT when it is set, as in the original.
    return aiohttp.ClientTimeout(total=None, sock_connect=min(total or 15.0, 15.0), sock_read=total)


def upstream_session() -> aiohttp.ClientSession:
    """This event loop's aiohttp session (created on first use; RELAY_TIMEOUT and RELAY_PROXY read then)."""
    loop = asyncio.get_running_loop()
    entry = _sessions.get(id(loop))
    if entry is None or entry[0] is not loop or entry[1].closed:
        session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=MAX_CONNECTIONS, keepalive_timeout=KEEPALIVE_S, ttl_dns_cache=60
            ),
            timeout=_timeout(settings.RELAY_TIMEOUT or None),
            cookie_jar=aiohttp.DummyCookieJar(),
            proxy=settings.RELAY_PROXY or None,
            trust_env=False,
            # Some providers' firewalls refuse requests without an agent; an adaptor's own agent wins.
            headers={"User-Agent": f"one-api/{settings.VERSION}"},
        )
        entry = _sessions[id(loop)] = (loop, session)
    return entry[1]


def _url(url: str) -> yarl.URL:
    """The URL as sent: escapes kept as the adaptor wrote them (SigV4 signs ``%3A`` in a Bedrock path, which
    re-normalising would turn back into ``:``); only characters a URL cannot hold (spaces, non-ASCII) are
    percent-encoded. Kept per URL text: channels send to a handful of URLs over and over."""
    parsed = _urls.get(url)
    if parsed is None:
        if len(_urls) >= 4096:
            _urls.clear()
        parsed = _urls[url] = yarl.URL(quote(url, safe=_URL_SAFE), encoded=True)
    return parsed


def as_httpx_error(exc: BaseException) -> httpx.TransportError:
    """aiohttp's (and asyncio's) failure → the httpx exception that says the same thing."""
    message = str(exc) or exc.__class__.__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(exc, (aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError)):
        return httpx.UnsupportedProtocol(message)
    if isinstance(exc, aiohttp.ClientProxyConnectionError):
        return httpx.ProxyError(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(
        exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError)
    ):
        return httpx.RemoteProtocolError(message)
    return httpx.ReadError(message)


_FAILURES = (aiohttp.ClientError, TimeoutError)


def _unread(content: aiohttp.StreamReader) -> bytes:
    """Bytes received before the connection broke but not read yet. aiohttp raises the failure before
    handing them over, so they are taken from its buffer (private, hence the guarded lookups)."""
    buffer = getattr(content, "_buffer", None)
    if not buffer:
        return b""
    data = b"".join(buffer)[getattr(content, "_buffer_offset", 0) :]
    buffer.clear()
    return data


class _Body(httpx.AsyncByteStream):
    """A streamed upstream body: chunks as they arrive; closing early drops the connection (cancels upstream)."""

    def __init__(self, answer: aiohttp.ClientResponse) -> None:
        self._answer = answer

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._answer.content
        try:
            async for chunk in content.iter_any():
                yield chunk
        except _FAILURES as exc:
            unread = _unread(content)
            if unread:
                yield unread  # it arrived before the break: the client gets (and pays for) what was sent
            raise as_httpx_error(exc) from exc

    async def aclose(self) -> None:
        if self._answer.content.is_eof():
            self._answer.release()  # read to the end: the connection goes back to the pool
        else:
            self._answer.close()


def body_chunks(response: httpx.Response) -> AsyncIterator[bytes]:
    """A streamed response's body chunks as they arrive. For an answer of ``upstream_send`` with nothing
    left to decode, straight from the aiohttp session: httpx's own layers (decoders, chunker) would only
    pass each chunk along, at a few microseconds per chunk."""
    stream = response.stream
    if isinstance(stream, _Body) and "content-encoding" not in response.headers:
        return stream.__aiter__()
    return response.aiter_bytes()


class UpstreamResponse(httpx.Response):
    """An ``httpx.Response`` whose ``request`` is built only if someone reads it (two adaptors do)."""

    def __init__(self, status: int, *, sent: tuple[str, str, Iterable], **kwargs) -> None:
        super().__init__(status, **kwargs)
        self._sent = sent

    @property
    def request(self) -> httpx.Request:
        if self._request is None:
            method, url, headers = self._sent
            self._request = httpx.Request(method, url, headers=list(headers))
        return self._request

    @request.setter
    def request(self, value: httpx.Request) -> None:
        self._request = value

    @classmethod
    def read_whole(
        cls, status: int, headers: list[tuple[bytes, bytes]], body: bytes, sent: tuple
    ) -> UpstreamResponse:
        """A response whose body is already read. With nothing to decode it is set as is: passing it as
        ``content=`` ran it through httpx's decoder pipeline (~40 µs a request) to get the same bytes."""
        if any(name.lower() == b"content-encoding" for name, _ in headers):
            return cls(status, headers=headers, content=body, sent=sent)  # httpx decodes it, as before
        response = cls(status, headers=headers, stream=_READ, sent=sent)
        response._content = body
        response.is_stream_consumed = True
        response.is_closed = True
        return response


class _AlreadyRead(httpx.AsyncByteStream):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        raise httpx.StreamConsumed()
        yield b""  # an async generator


_READ = _AlreadyRead()


def _asks_encoding(headers: dict[str, str] | Iterable[tuple[str, str]]) -> bool:
    names = headers.keys() if isinstance(headers, dict) else [name for name, _ in headers]
    for name in names:  # a plain loop: this runs for every upstream call
        if len(name) == 15 and name.lower() == "accept-encoding":
            return True
    return False


def _answer_headers(answer: aiohttp.ClientResponse, decoded: bool) -> list[tuple[bytes, bytes]]:
    if decoded and "Content-Encoding" in answer.headers:
        # aiohttp has already decoded the body: the header must not make httpx decode it again.
        return [(name, value) for name, value in answer.raw_headers if name.lower() != b"content-encoding"]
    return list(answer.raw_headers)


async def upstream_send(
    method: str,
    url: str,
    headers: dict[str, str] | Iterable[tuple[str, str]],
    content: bytes = b"",
    *,
    stream: bool = False,
    timeout: aiohttp.ClientTimeout | None = None,
) -> httpx.Response:
    """Send one upstream request on the pooled session. Non-stream: the body is read whole before returning.
    Stream: the body is read as the caller iterates; the caller must ``aclose()`` the response."""
    session = upstream_session()
    # A caller that names its own Accept-Encoding (the proxy channel) gets the body as encoded; otherwise
    # aiohttp asks for what it can decode and decodes it, as httpx did.
    decode = not _asks_encoding(headers)
    try:
        answer = await session.request(
            method,
            _url(url),
            headers=headers,
            data=content or None,
            allow_redirects=False,
            auto_decompress=decode,
            **({"timeout": timeout} if timeout is not None else {}),
        )
    except _FAILURES as exc:
        raise as_httpx_error(exc) from exc
    sent = (method, url, headers.items() if isinstance(headers, dict) else headers)
    if stream:
        return UpstreamResponse(
            answer.status, headers=_answer_headers(answer, decode), stream=_Body(answer), sent=sent
        )
    try:
        body = await answer.read()
    except _FAILURES as exc:
        answer.close()
        raise as_httpx_error(exc) from exc
    except BaseException:
        answer.close()
        raise
    answer.release()
    return UpstreamResponse.read_whole(answer.status, _answer_headers(answer, decode), body, sent)


def _request_timeout(extension: dict | None) -> aiohttp.ClientTimeout | None:
    if not extension:
        return None
    connect, read = extension.get("connect"), extension.get("read")
    return aiohttp.ClientTimeout(total=None, sock_connect=connect, sock_read=read)


class _SessionTransport(httpx.AsyncBaseTransport):
    """httpx's transport interface over the loop's aiohttp session (timeouts per request kept)."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await upstream_send(
            request.method,
            str(request.url),
            request.headers.multi_items(),
            await request.aread(),
            stream=True,
            timeout=_request_timeout(request.extensions.get("timeout")),
        )
        response.request = request
        return response


class _NoCookies(httpx.Cookies):
    def extract_cookies(self, response: httpx.Response) -> None:
        return None


class UpstreamClient(httpx.AsyncClient):
    _no_cookies = _NoCookies()

    @property
    def cookies(self) -> httpx.Cookies:
        return self._no_cookies

    @cookies.setter
    def cookies(self, value) -> None:
        pass


def upstream_client() -> httpx.AsyncClient:
    """An httpx client for adaptors' extra calls; it sends through this loop's pooled aiohttp session."""
    loop_id = id(asyncio.get_running_loop())
    client = _clients.get(loop_id)
    if client is None or client.is_closed:
        total = settings.RELAY_TIMEOUT or None
        client = UpstreamClient(
            transport=_SessionTransport(),
            timeout=httpx.Timeout(total, connect=min(total or 15.0, 15.0)),
            follow_redirects=False,
            trust_env=False,
        )
        _clients[loop_id] = client
    return client


async def upstream_clients_close() -> None:
    """Close the running loop's client and session (lifespan shutdown, tests); the next request opens new ones."""
    loop = asyncio.get_running_loop()
    client = _clients.pop(id(loop), None)
    if client is not None:
        await client.aclose()
    entry = _sessions.pop(id(loop), None)
    if entry is not None and entry[0] is loop:
        await entry[1].close()

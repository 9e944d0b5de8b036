"""Builders for the provider adaptor unit tests: a channel snapshot, an adaptor on it, a relay request."""

from __future__ import annotations

from typing import TypeVar

import orjson

from channels_app.routing import ChannelSnapshot
from relay.channel_types import channel_type_info
from relay.schemas import RelayRequest

A = TypeVar("A")


def snapshot(type_id: int, **fields) -> ChannelSnapshot:
    values = dict(id=1, type=type_id, name="", key="", status=1, base_url="", weight=0, priority=0,
                  models=(), groups=())  # fmt: skip
    values.update(fields)
    return ChannelSnapshot(**values)


def adaptor_for(cls: type[A], type_id: int, **fields) -> A:
    return cls(snapshot(type_id, **fields), channel_type_info(type_id))


def relay_request(
    body: dict, *, model: str, mode: str = "chat", path: str = "/v1/x", headers: dict | None = None
) -> RelayRequest:
    body = {"model": model, **body}
    return RelayRequest(mode=mode, path=path, model=body["model"], raw=orjson.dumps(body), body=body,
                        stream=bool(body.get("stream")), headers=headers or {})  # fmt: skip

"""API-key authentication for /v1 (spec §3.1), from the in-process key cache."""

from __future__ import annotations

import time
from dataclasses import dataclass

from asgiref.sync import sync_to_async

from accounts.auth_cache import TokenSnapshot, token_mark_status, token_snapshot_get
from accounts.models import Role, TokenStatus
from relay.errors import RelayError


@dataclass(frozen=True, slots=True)
class RelayAuth:
    token: TokenSnapshot
    specific_channel_id: int | None = None


def _refuse(status: int, message: str) -> RelayError:
    return RelayError(status=status, message=message, type="one_api_error")


def split_key(authorization: str) -> tuple[str, str]:
    """``Bearer sk-KEY[-CHANNELID]`` → (KEY, CHANNELID or "")."""
    raw = authorization.strip()
    if raw[:7].lower() == "bearer ":
        raw = raw[7:].strip()
    raw = raw.removeprefix("sk-")
    key, _, channel = raw.partition("-")
    return key, channel


async def relay_authenticate(authorization: str, client_ip: str) -> RelayAuth:
    key, channel_part = split_key(authorization)
    if not key:
        raise _refuse(401, "未提供令牌")
    token = await token_snapshot_get(key)
    if token is None:
        raise _refuse(401, "无效的令牌")
    _check_status(token)
    await check_not_expired(token)
    if not token.allows_ip(client_ip):
        raise _refuse(403, f"该令牌只能在指定网段使用，当前 ip：{client_ip}")
    if not token.user.enabled:
        raise _refuse(403, "用户已被封禁")
    return RelayAuth(token, _specific_channel(token, channel_part))


def _check_status(token: TokenSnapshot) -> None:
    if token.status == TokenStatus.EXHAUSTED:
        raise _refuse(401, f"令牌 {token.name}（#{token.id}）额度已用尽")
    if token.status == TokenStatus.EXPIRED:
        raise _refuse(401, "该令牌已过期")
    if token.status != TokenStatus.ENABLED:
        raise _refuse(401, "该令牌状态不可用")


async def check_not_expired(token: TokenSnapshot) -> None:
    if token.expired(time.time()):
        await sync_to_async(token_mark_status, thread_sensitive=False)(token.id, TokenStatus.EXPIRED)
        raise _refuse(401, "该令牌已过期")


def _specific_channel(token: TokenSnapshot, channel_part: str) -> int | None:
    if not channel_part:
        return None
    if token.user.role < Role.ADMIN:
        raise _refuse(403, "普通用户不支持指定渠道")
    if not channel_part.isdigit():
        raise _refuse(400, "无效的渠道 Id")
    return int(channel_part)


def check_model_allowed(token: TokenSnapshot, model: str) -> None:
    if not token.allows_model(model):
        raise _refuse(403, f"该令牌无权使用模型：{model}")

"""Channel balances: ask the provider how much credit a channel's key has left (spec ONEAPI §6).

One small reader per provider below, each documented by the provider's own answer shape. Addresses are built
from the channel's ``base_url`` when it is set (a proxy or a self-hosted reseller), else from the provider's
default. An answer that is not what the provider documents (an HTML error page, a missing field, a string
where a number belongs) or no answer in time leaves the stored balance as it was: the balance is *unknown*,
not zero, so a flaky endpoint never makes a funded channel look empty. ``channel_balances_update_all`` logs
such a failure once per channel (and once more when it recovers), not at every run.

Units are the provider's own (USD for OpenAI and its resellers, CNY for DeepSeek, SiliconFlow and Moonshot),
as in the original.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

import httpx
from django.conf import settings

from channels_app.models import Channel, ChannelStatus
from relay.channel_types import ChannelType, channel_type_info

logger = logging.getLogger(__name__)

TIMEOUT_S = 10.0
NOT_SUPPORTED = "尚未实现"  # the original's answer for types without a balance endpoint


class BalanceError(Exception):
    """The provider gave no usable balance; the message says why (shown to the admin as is)."""


def _get(url: str, key: str, *, headers: dict[str, str] | None = None) -> object:
    sent = {"Authorization": f"Bearer {key}", **(headers or {})}
    try:
        response = httpx.get(url, headers=sent, timeout=TIMEOUT_S, proxy=settings.RELAY_PROXY or None)
    except httpx.TimeoutException:
        raise BalanceError(f"no answer from {url} within {TIMEOUT_S:g} s") from None
    except httpx.HTTPError as exc:
        raise BalanceError(f"{url} unreachable: {exc.__class__.__name__}") from None
    if response.status_code != 200:
        raise BalanceError(f"{url} answered HTTP {response.status_code}: {response.text[:200]}")
    try:
        return response.json()
    except ValueError:
        raise BalanceError(f"{url} answered something that is not JSON: {response.text[:100]!r}") from None


def _field(payload: object, *path: str | int) -> object:
    value = payload
    for step in path:
        try:
            value = value[step]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            raise BalanceError(f"the answer has no {'.'.join(map(str, path))}") from None
    return value


def _number(value: object, what: str) -> float:
    """A finite number, also from a numeric string (DeepSeek, SiliconFlow and OpenAI-SB send strings)."""
    if isinstance(value, bool):
        raise BalanceError(f"{what} is not a number: {value!r}")
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise BalanceError(f"{what} is not a number: {value!r}") from None
    if not math.isfinite(number):
        raise BalanceError(f"{what} is not a finite number: {value!r}")
    return number


# --- one reader per provider: (base URL, key) -> balance ------------------------------------------------


def _openai(base: str, key: str) -> float:
    """https://platform.openai.com/docs/api-reference (legacy dashboard billing endpoints, PROVIDERS §1)."""
    subscription = _get(f"{base}/v1/dashboard/billing/subscription", key)
    hard_limit = _number(_field(subscription, "hard_limit_usd"), "hard_limit_usd")
    today = date.today()
    start = today.replace(day=1)
    if not (isinstance(subscription, dict) and subscription.get("has_payment_method")):
        start = today - timedelta(days=100)
    usage = _get(
        f"{base}/v1/dashboard/billing/usage?start_date={start:%Y-%m-%d}&end_date={today:%Y-%m-%d}", key
    )
    return hard_limit - _number(_field(usage, "total_usage"), "total_usage") / 100


def _credit_grants(field_name: str) -> Callable[[str, str], float]:
    """CloseAI, API2GPT, AIGC2D: ``GET <base>/dashboard/billing/credit_grants``."""

    def read(base: str, key: str) -> float:
        grants = _get(f"{base}/dashboard/billing/credit_grants", key)
        return _number(_field(grants, field_name), field_name)

    return read


def _openai_sb(base: str, key: str) -> float:
    """``GET /sb-api/user/status?api_key=<key>`` → ``{"msg", "data": {"credit": "12.3"}}``."""
    answer = _get(f"{base}/sb-api/user/status?api_key={key}", key)
    return _number(_field(answer, "data", "credit"), "data.credit")


def _aiproxy(base: str, key: str) -> float:
    """https://docs.aiproxy.io: ``GET /api/report/getUserOverview`` (header Api-Key) → data.totalPoints."""
    answer = _get(f"{base}/api/report/getUserOverview", key, headers={"Api-Key": key})
    if isinstance(answer, dict) and answer.get("success") is False:
        raise BalanceError(f"AIProxy refused: {answer.get('message') or 'no message'}")
    return _number(_field(answer, "data", "totalPoints"), "data.totalPoints")


def _siliconflow(base: str, key: str) -> float:
    """https://docs.siliconflow.cn/cn/api-reference/userinfo/get-user-info: code 20000, data.totalBalance."""
    answer = _get(f"{base}/v1/user/info", key)
    if _field(answer, "code") != 20000:
        raise BalanceError(f"SiliconFlow refused: {answer.get('message') or answer.get('code')}")  # type: ignore[union-attr]
    return _number(_field(answer, "data", "totalBalance"), "data.totalBalance")


def _deepseek(base: str, key: str) -> float:
    """https://api-docs.deepseek.com/api/get-user-balance: the CNY entry of balance_infos."""
    answer = _get(f"{base}/user/balance", key)
    infos = _field(answer, "balance_infos")
    if not isinstance(infos, list) or not infos:
        raise BalanceError("the answer has no balance_infos")
    chosen = next((i for i in infos if isinstance(i, dict) and i.get("currency") == "CNY"), infos[0])
    return _number(_field(chosen, "total_balance"), "total_balance")


def _openrouter(base: str, key: str) -> float:
    """https://openrouter.ai/docs/api-reference/get-credits: data.total_credits − data.total_usage."""
    answer = _get(f"{base}/v1/credits", key)
    credits = _number(_field(answer, "data", "total_credits"), "data.total_credits")
    return credits - _number(_field(answer, "data", "total_usage"), "data.total_usage")


def _moonshot(base: str, key: str) -> float:
    """https://platform.moonshot.cn/docs/api/misc: ``GET /v1/users/me/balance`` → data.available_balance."""
    answer = _get(f"{base}/v1/users/me/balance", key)
    if isinstance(answer, dict) and answer.get("status") is False:
        raise BalanceError(f"Moonshot refused: {answer.get('error') or answer.get('code')}")
    return _number(_field(answer, "data", "available_balance"), "data.available_balance")


@dataclass(frozen=True)
class _Reader:
    read: Callable[[str, str], float]
    base_url: str = ""  # where the balance lives when the channel has no base_url ("" = the type's default)


_T = ChannelType
READERS: dict[int, _Reader] = {
    _T.OPENAI: _Reader(_openai),
    _T.CUSTOM: _Reader(_openai),
    _T.CLOSEAI: _Reader(_credit_grants("total_available")),
    _T.OPENAI_SB: _Reader(_openai_sb),
    _T.AIPROXY: _Reader(_aiproxy, "https://aiproxy.io"),  # the API lives on api.aiproxy.io, the report here
    _T.API2GPT: _Reader(_credit_grants("total_remaining")),
    _T.AIGC2D: _Reader(_credit_grants("total_available")),
    _T.OPENROUTER: _Reader(_openrouter),
    _T.MOONSHOT: _Reader(_moonshot),
    _T.DEEPSEEK: _Reader(_deepseek),
    _T.SILICONFLOW: _Reader(_siliconflow),
}


def balance_supported(channel_type: int) -> bool:
    return channel_type in READERS


def balance_url_base(channel: Channel) -> str:
    """The channel's base URL (without a trailing ``/v1``), else where the provider serves balances."""
    info = channel_type_info(channel.type)
    reader = READERS[channel.type]
    base = (channel.base_url or "").strip().rstrip("/")
    if not base or base == info.base_url:
        base = reader.base_url or info.base_url
    return base.removesuffix("/v1")


def channel_balance_update(channel: Channel) -> float | None:
    """Read and store the channel's balance; returns it. Raises BalanceError (stored balance untouched)."""
    reader = READERS.get(channel.type)
    if reader is None:
        raise BalanceError(NOT_SUPPORTED)
    base = balance_url_base(channel)
    if not base:
        raise BalanceError("the channel has no base URL")
    key = channel.key.strip().splitlines()[0] if channel.key.strip() else ""
    balance = round(reader.read(base, key), 6)
    now = int(time.time())
    Channel.objects.filter(pk=channel.pk).update(balance=balance, balance_updated_time=now)
    channel.balance, channel.balance_updated_time = balance, now
    return balance


@dataclass
class BalanceSummary:
    updated: dict[int, float] = field(default_factory=dict)
    unknown: dict[int, str] = field(default_factory=dict)  # channel id -> why
    disabled: list[int] = field(default_factory=list)

    def text(self) -> str:
        return f"{len(self.updated)} updated, {len(self.unknown)} unknown, {len(self.disabled)} disabled (no credit)"


_failing: dict[
    int, str
] = {}  # channel id -> last failure; a channel's failure is logged once until it recovers


def channel_balances_update_all(
    *,
    channel_ids: Iterable[int] | None = None,
    progress: Callable[[Channel, float | None, str], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> BalanceSummary:
    """Update every enabled channel whose type has a balance endpoint, POLLING_INTERVAL seconds apart.

    A channel left with no credit (balance ≤ 0) is disabled automatically when AutomaticDisableChannelEnabled.
    """
    channels = Channel.objects.filter(type__in=list(READERS)).order_by("pk")
    if channel_ids is None:
        channels = channels.filter(status=ChannelStatus.ENABLED)
    else:
        channels = channels.filter(pk__in=list(channel_ids))
    summary = BalanceSummary()
    for index, channel in enumerate(channels):
        if index and settings.POLLING_INTERVAL:
            sleep(settings.POLLING_INTERVAL)
        try:
            balance = channel_balance_update(channel)
        except BalanceError as exc:
            _note_failure(channel, str(exc))
            summary.unknown[channel.pk] = str(exc)
            if progress is not None:
                progress(channel, None, str(exc))
            continue
        if _failing.pop(channel.pk, None) is not None:
            logger.info("balance of channel #%s (%s) readable again", channel.pk, channel.name)
        summary.updated[channel.pk] = balance
        if balance is not None and balance <= 0 and _disable_empty(channel):
            summary.disabled.append(channel.pk)
        if progress is not None:
            progress(channel, balance, "")
    logger.info("channel balance update finished: %s", summary.text())
    return summary


def _note_failure(channel: Channel, reason: str) -> None:
    if channel.pk not in _failing:
        logger.warning("balance of channel #%s (%s) unknown: %s", channel.pk, channel.name, reason)
    _failing[channel.pk] = reason


def _disable_empty(channel: Channel) -> bool:
    from channels_app.health import channel_auto_disable
    from config.options import option_bool

    if channel.status != ChannelStatus.ENABLED or not option_bool("AutomaticDisableChannelEnabled"):
        return False
    return channel_auto_disable(channel.pk, "余额不足")

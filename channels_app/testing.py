"""Test every channel ("test all"): the periodic job, the console's button and ``manage.py test_channels``.

Per channel (spec ONEAPI §6, §3.9, with the fixes users asked for in PEERS §3 items 16–17):

- the channel's own ``test_model`` is asked for (else the original's rule: gpt-3.5-turbo or its first model);
- channels with ``auto_test_enabled=False`` are skipped unless named explicitly;
- the response time and a type-5 log are recorded (``relay.channel_test``), and nobody is charged;
- an enabled channel that answers with a disabling error is disabled when AutomaticDisableChannelEnabled;
- an enabled channel slower than ChannelDisableThreshold seconds is disabled when AutomaticDisableChannelEnabled,
  otherwise root is told;
- with AutomaticEnableChannelEnabled only *automatically* disabled channels (status 3) that pass are
  re-enabled: the original also re-enabled channels an operator had switched off by hand;
- a manual run ends with a "test all finished" notification.

Only one run at a time across all nodes (a lock in the shared cache), so a slow run and the next beat tick,
or two admins pressing the button, never test (and bill the upstream for) every channel twice.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction

from channels_app.models import Channel, ChannelStatus
from config.options import option_bool, option_float

logger = logging.getLogger(__name__)

LOCK_KEY = "lock:channel-test-all"
LOCK_TTL_S = 6 * 3600  # a crashed run frees the lock after this long
SCOPES = ("all", "disabled")


@dataclass
class ChannelTestOutcome:
    channel_id: int
    name: str
    success: bool
    time_s: float
    model: str
    message: str = ""
    action: str = ""  # "disabled", "enabled", "slow" (notified) or ""


@dataclass
class TestAllSummary:
    outcomes: list[ChannelTestOutcome] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    already_running: bool = False

    @property
    def passed(self) -> int:
        return sum(o.success for o in self.outcomes)

    @property
    def failed(self) -> int:
        return sum(not o.success for o in self.outcomes)

    def count(self, action: str) -> int:
        return sum(o.action == action for o in self.outcomes)

    def text(self) -> str:
        return (
            f"{len(self.outcomes)} tested, {self.passed} passed, {self.failed} failed, "
            f"{self.count('disabled')} disabled, {self.count('enabled')} re-enabled, "
            f"{len(self.skipped)} skipped"
        )

    def as_dict(self) -> dict:
        return {
            "tested": len(self.outcomes),
            "passed": self.passed,
            "failed": self.failed,
            "disabled": self.count("disabled"),
            "enabled": self.count("enabled"),
            "skipped": len(self.skipped),
            "already_running": self.already_running,
            "outcomes": [asdict(o) for o in self.outcomes],
        }


def channels_to_test(
    *, scope: str = "all", channel_ids: Iterable[int] | None = None
) -> tuple[list[int], list[int]]:
    """(ids to test, ids skipped because they opted out), in id order. Named channels are always tested."""
    if channel_ids is not None:
        return sorted(Channel.objects.filter(pk__in=list(channel_ids)).values_list("pk", flat=True)), []
    channels = Channel.objects.order_by("pk")
    if scope == "disabled":
        channels = channels.filter(status__in=(ChannelStatus.MANUALLY_DISABLED, ChannelStatus.AUTO_DISABLED))
    chosen: list[int] = []
    skipped: list[int] = []
    for pk, opted_in in channels.values_list("pk", "auto_test_enabled"):
        (chosen if opted_in else skipped).append(pk)
    return chosen, skipped


def channels_test_all(
    *,
    scope: str = "all",
    manual: bool = False,
    channel_ids: Iterable[int] | None = None,
    progress: Callable[[ChannelTestOutcome], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> TestAllSummary:
    """Test channels one after another, POLLING_INTERVAL seconds apart, acting on each result."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {SCOPES}, not {scope!r}")
    summary = TestAllSummary()
    if not _lock_acquire():
        logger.info("channel test run skipped: another run is in progress")
        summary.already_running = True
        return summary
    try:
        ids, summary.skipped = channels_to_test(scope=scope, channel_ids=channel_ids)
        for index, channel_id in enumerate(ids):
            if index and settings.POLLING_INTERVAL:
                sleep(settings.POLLING_INTERVAL)
            outcome = channel_test_and_act(channel_id)
            if outcome is None:  # deleted meanwhile
                continue
            summary.outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    finally:
        _lock_release()
    logger.info("channel test run (%s) finished: %s", scope, summary.text())
    if manual:
        from config.notify import notify_root

        notify_root(
            "渠道测试完成", f"渠道测试完成：{summary.text()}。如果没有收到禁用通知，说明所有渠道都正常。"
        )
    return summary


def channel_test_and_act(channel_id: int) -> ChannelTestOutcome | None:
    """Test one channel and disable, enable or report it as the options say."""
    from relay.channel_test import channel_test

    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return None
    was_enabled = channel.status == ChannelStatus.ENABLED
    try:
        result = channel_test(channel, channel.test_model or "")
    except Exception as exc:  # an adaptor bug must not end the whole run
        logger.exception("testing channel #%s failed unexpectedly", channel_id)
        return ChannelTestOutcome(channel_id, channel.name, False, 0.0, "", f"internal error: {exc}")
    outcome = ChannelTestOutcome(
        channel_id, channel.name, result.success, result.time_s, result.model, result.message
    )
    threshold = option_float("ChannelDisableThreshold")
    if was_enabled:
        if result.error is not None and result.error.disable_channel:
            if _auto_disable(channel_id, result.message):
                outcome.action = "disabled"
        elif threshold > 0 and result.time_s > threshold:
            outcome.action = _too_slow(channel, result.time_s, threshold)
    elif result.success and channel.status == ChannelStatus.AUTO_DISABLED:
        if option_bool("AutomaticEnableChannelEnabled") and channel_auto_enable(channel_id):
            outcome.action = "enabled"
    return outcome


def _auto_disable(channel_id: int, reason: str) -> bool:
    from channels_app.health import channel_auto_disable

    return option_bool("AutomaticDisableChannelEnabled") and channel_auto_disable(channel_id, reason)


def _too_slow(channel: Channel, time_s: float, threshold: float) -> str:
    reason = f"响应时间 {time_s:.2f}s 超过阈值 {threshold:.2f}s"
    if _auto_disable(channel.pk, reason):
        return "disabled"
    from config.notify import notify_root

    notify_root(f"渠道「{channel.name}」（#{channel.pk}）测试超时", reason)
    return "slow"


def channel_auto_enable(channel_id: int) -> bool:
    """Enable a channel that the gateway itself disabled (status 3); never one switched off by hand."""
    from channels_app.services import channel_status_set
    from config.notify import notify_root

    with transaction.atomic():
        channel = Channel.objects.select_for_update().filter(pk=channel_id).first()
        if channel is None or channel.status != ChannelStatus.AUTO_DISABLED:
            return False
        channel_status_set(channel, ChannelStatus.ENABLED)
    logger.info("channel #%s (%s) enabled again: its test passed", channel_id, channel.name)
    notify_root(
        f"渠道「{channel.name}」（#{channel_id}）已被启用",
        f"渠道「{channel.name}」（#{channel_id}）已被启用：测试已通过",
    )
    return True


def _lock_acquire() -> bool:
    try:
        acquired = cache.add(LOCK_KEY, time.time(), LOCK_TTL_S)
    except Exception:
        acquired = None
    if acquired is None:  # the shared cache is away (django-redis answers None): run, at worst twice
        logger.warning("could not take the channel test lock; running without it")
        return True
    return bool(acquired)


def _lock_release() -> None:
    try:
        cache.delete(LOCK_KEY)
    except Exception:
        logger.warning("could not release the channel test lock; it expires in %d s", LOCK_TTL_S)

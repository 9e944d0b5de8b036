"""Channel health seen on the request path: automatic disabling (spec §3.9) and the success-rate metric."""

from __future__ import annotations

import logging
import threading
from collections import deque

from django.conf import settings

from channels_app.models import Channel, ChannelStatus
from channels_app.services import channel_status_set
from config.options import option_bool

logger = logging.getLogger(__name__)
_windows: dict[int, deque[bool]] = {}
_lock = threading.Lock()


def channel_auto_disable(channel_id: int, reason: str) -> bool:
    """Mark a channel automatically disabled (status 3) and tell root; False if it was not enabled."""
    channel = Channel.objects.filter(pk=channel_id, status=ChannelStatus.ENABLED).first()
    if channel is None:
        return False
    channel_status_set(channel, ChannelStatus.AUTO_DISABLED)
    logger.warning("channel #%s (%s) disabled automatically: %s", channel_id, channel.name, reason)
    from config.notify import notify_root

    notify_root(
        f"渠道「{channel.name}」（#{channel_id}）已被禁用",
        f"渠道「{channel.name}」（#{channel_id}）已被禁用，原因：{reason}",
    )
    return True


def channel_failure_record(channel_id: int, *, disable: bool, reason: str) -> None:
    """Called (in a worker thread) after an upstream failure on ``channel_id``."""
    if disable and option_bool("AutomaticDisableChannelEnabled"):
        channel_auto_disable(channel_id, reason)
        return
    if settings.ENABLE_METRIC and _metric_says_disable(channel_id, success=False):
        channel_auto_disable(channel_id, f"success rate below {settings.METRIC_SUCCESS_RATE_THRESHOLD:.0%}")


def channel_success_record(channel_id: int) -> None:
    if settings.ENABLE_METRIC:
        _metric_says_disable(channel_id, success=True)


def _metric_says_disable(channel_id: int, *, success: bool) -> bool:
    with _lock:
        window = _windows.setdefault(channel_id, deque(maxlen=settings.METRIC_QUEUE_SIZE))
        window.append(success)
        if success or len(window) < window.maxlen:
            return False
        rate = sum(window) / len(window)
        if rate < settings.METRIC_SUCCESS_RATE_THRESHOLD:
            window.clear()
            return True
        return False

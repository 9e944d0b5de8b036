"""Writes for channels. Abilities (the routing index) are derived here and nowhere else."""

from __future__ import annotations

from django.db import transaction

from channels_app.models import Ability, Channel, ChannelStatus
from config import cache_versions


def abilities_for(channel: Channel) -> list[Ability]:
    """The ability rows a channel implies: one per (group, model)."""
    enabled = channel.status == ChannelStatus.ENABLED
    return [
        Ability(group=group, model=model, channel_id=channel.pk, enabled=enabled, priority=channel.priority)
        for group in dict.fromkeys(channel.groups_list)
        for model in dict.fromkeys(channel.models_list)
    ]


@transaction.atomic
def ability_sync_for_channel(channel: Channel) -> None:
    """Replace a channel's abilities with what its models, groups, status and priority imply."""
    Ability.objects.filter(channel_id=channel.pk).delete()
    Ability.objects.bulk_create(abilities_for(channel))
    transaction.on_commit(lambda: cache_versions.bump(cache_versions.CHANNELS))


@transaction.atomic
def abilities_rebuild_all() -> int:
    """Rebuild the whole routing index from the channels table; returns the number of rows written."""
    Ability.objects.all().delete()
    rows = [ability for channel in Channel.objects.all() for ability in abilities_for(channel)]
    Ability.objects.bulk_create(rows, batch_size=500)
    transaction.on_commit(lambda: cache_versions.bump(cache_versions.CHANNELS))
    return len(rows)


@transaction.atomic
def channel_save(channel: Channel) -> Channel:
    """Save a channel and keep its abilities in step, in one transaction."""
    channel.save()
    ability_sync_for_channel(channel)
    return channel


@transaction.atomic
def channel_status_set(channel: Channel, status: int) -> None:
    Channel.objects.filter(pk=channel.pk).update(status=status)
    channel.status = status
    Ability.objects.filter(channel_id=channel.pk).update(enabled=status == ChannelStatus.ENABLED)
    transaction.on_commit(lambda: cache_versions.bump(cache_versions.CHANNELS))


@transaction.atomic
def channel_delete(channel: Channel) -> None:
    Ability.objects.filter(channel_id=channel.pk).delete()
    channel.delete()


def channel_test_record(
    channel: Channel, *, success: bool, elapsed_s: float, model: str, message: str
) -> None:
    """Store a test's outcome on the channel and as a type-5 (test) log."""
    import time

    from logs_app.models import Log, LogType

    response_ms = int(elapsed_s * 1000) if success else 0
    now = int(time.time())
    Channel.objects.filter(pk=channel.pk).update(response_time=response_ms, test_time=now)
    channel.response_time, channel.test_time = response_ms, now
    outcome = "测试成功" if success else f"测试失败：{message}"
    Log.objects.create(
        type=LogType.TEST,
        created_at=now,
        content=f"渠道「{channel.name}」（#{channel.pk}）{outcome}，模型 {model}，耗时 {elapsed_s:.2f} 秒",
        model_name=model,
        channel_id=channel.pk,
        elapsed_time=int(elapsed_s * 1000),
    )


# --- Management API writes (each one audited with a manage log; keys are never written into logs) ---------


def _channel_log(actor, content: str) -> None:
    from logs_app.services import manage_log_create

    manage_log_create(actor=actor, content=content)


@transaction.atomic
def channels_create(*, actor, keys: list[str], **fields) -> list[Channel]:
    """``POST /api/channel/``: one channel per key, all alike otherwise, with their abilities."""
    import time

    now = int(time.time())
    created = [channel_save(Channel(key=key, created_time=now, **fields)) for key in keys]
    ids = ", ".join(f"#{channel.pk}" for channel in created)
    _channel_log(actor, f"created {len(created)} channel(s) {fields.get('name', '')!r}: {ids}")
    return created


@transaction.atomic
def channel_update(*, actor, channel: Channel, **fields) -> Channel:
    """``PUT /api/channel/``: apply ``fields`` and rebuild the channel's abilities."""
    for name, value in fields.items():
        setattr(channel, name, value)
    channel_save(channel)
    shown = ", ".join(sorted("key" if name == "key" else name for name in fields))
    _channel_log(actor, f"channel #{channel.pk} {channel.name!r} changed: {shown or 'nothing'}")
    return channel


@transaction.atomic
def channel_remove(*, actor, channel: Channel) -> None:
    _channel_log(actor, f"channel #{channel.pk} {channel.name!r} deleted")
    channel_delete(channel)


@transaction.atomic
def channels_delete_disabled(*, actor) -> int:
    """Delete manually and automatically disabled channels and (unlike the original) their abilities."""
    disabled = Channel.objects.filter(
        status__in=(ChannelStatus.MANUALLY_DISABLED, ChannelStatus.AUTO_DISABLED)
    )
    ids = list(disabled.values_list("pk", flat=True))
    Ability.objects.filter(channel_id__in=ids).delete()
    count, _ = Channel.objects.filter(pk__in=ids).delete()
    _channel_log(actor, f"deleted {count} disabled channel(s)")
    transaction.on_commit(lambda: cache_versions.bump(cache_versions.CHANNELS))
    return count


def channel_key_reveal(*, actor, channel: Channel) -> tuple[str, str]:
    """Root's explicit "show key": returns (key, config) and leaves an audit line saying who looked."""
    _channel_log(actor, f"viewed the key of channel #{channel.pk} {channel.name!r}")
    return channel.key, channel.config

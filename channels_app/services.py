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

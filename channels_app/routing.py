"""The relay's in-process routing table: which enabled channels serve a (group, model), by priority tier.

Rebuilt from the abilities and channels tables when channels change on any node (``cache_versions.CHANNELS``,
seen within a second) or every SYNC_FREQUENCY seconds; never read from the database per request.
"""

from __future__ import annotations

import json
import logging
import random
from collections import defaultdict
from dataclasses import dataclass, field
from types import MappingProxyType

from django.conf import settings

from channels_app.models import Ability, Channel, ChannelStatus
from config import cache_versions

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChannelSnapshot:
    id: int
    type: int
    name: str
    key: str
    status: int
    base_url: str
    weight: int
    priority: int
    models: tuple[str, ...]
    groups: tuple[str, ...]
    model_mapping: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    system_prompt: str = ""
    config: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    other: str = ""

    @property
    def enabled(self) -> bool:
        return self.status == ChannelStatus.ENABLED

    def upstream_model(self, model: str) -> str:
        return self.model_mapping.get(model) or model


def _json_object(text: str | None, what: str, channel_id: int) -> MappingProxyType:
    if not text:
        return MappingProxyType({})
    try:
        value = json.loads(text)
    except ValueError:
        logger.error("channel #%s has invalid %s JSON; ignoring it", channel_id, what)
        return MappingProxyType({})
    return MappingProxyType(value if isinstance(value, dict) else {})


def channel_snapshot(channel: Channel) -> ChannelSnapshot:
    return ChannelSnapshot(
        id=channel.id,
        type=channel.type,
        name=channel.name,
        key=channel.key,
        status=channel.status,
        base_url=channel.base_url or "",
        weight=channel.weight,
        priority=channel.priority,
        models=tuple(channel.models_list),
        groups=tuple(channel.groups_list),
        model_mapping=_json_object(channel.model_mapping, "model_mapping", channel.id),
        system_prompt=channel.system_prompt or "",
        config=_json_object(channel.config, "config", channel.id),
        other=channel.other or "",
    )


Tier = tuple[int, tuple[ChannelSnapshot, ...]]  # (priority, channels)


@dataclass(frozen=True)
class RoutingTable:
    channels: dict[int, ChannelSnapshot]
    routes: dict[tuple[str, str], tuple[Tier, ...]]  # (group, model) -> tiers, highest priority first
    group_models: dict[str, tuple[str, ...]]

    def tiers(self, group: str, model: str) -> tuple[Tier, ...]:
        return self.routes.get((group, model), ())


def routing_table_build() -> RoutingTable:
    channels = {c.id: channel_snapshot(c) for c in Channel.objects.all()}
    grouped: dict[tuple[str, str], dict[int, list[ChannelSnapshot]]] = defaultdict(lambda: defaultdict(list))
    for group, model, channel_id, priority in Ability.objects.filter(enabled=True).values_list(
        "group", "model", "channel_id", "priority"
    ):
        channel = channels.get(channel_id)
        if channel is not None and channel.enabled:
            grouped[(group, model)][priority].append(channel)
    routes = {
        route: tuple(
            (prio, tuple(sorted(chs, key=lambda c: c.id)))
            for prio, chs in sorted(tiers.items(), reverse=True)
        )
        for route, tiers in grouped.items()
    }
    group_models: dict[str, set[str]] = defaultdict(set)
    for group, model in routes:
        group_models[group].add(model)
    return RoutingTable(channels, routes, {g: tuple(sorted(m)) for g, m in group_models.items()})


routing_table = cache_versions.VersionedSnapshot(
    cache_versions.CHANNELS, routing_table_build, max_age=float(settings.SYNC_FREQUENCY)
)


def _weighted_choice(channels: list[ChannelSnapshot], rng: random.Random) -> ChannelSnapshot:
    if len(channels) == 1:
        return channels[0]  # the common case: no draw (random.choices builds its cumulative weights each call)
    # Weight 0 (the default) counts as 1, so channels nobody weighted share traffic evenly.
    weights = [max(c.weight, 1) for c in channels]
    return rng.choices(channels, weights=weights, k=1)[0]


def channel_pick(
    table: RoutingTable,
    group: str,
    model: str,
    *,
    exclude: frozenset[int] | set[int] = frozenset(),
    rng: random.Random | None = None,
) -> ChannelSnapshot | None:
    """Weighted-random channel from the highest priority tier that still has one not in ``exclude``."""
    rng = rng or random
    for _priority, channels in table.tiers(group, model):
        candidates = [c for c in channels if c.id not in exclude]
        if candidates:
            return _weighted_choice(candidates, rng)
    return None

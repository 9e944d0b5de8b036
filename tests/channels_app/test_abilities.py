from __future__ import annotations

from channels_app.models import Ability, Channel, ChannelStatus
from channels_app.services import abilities_rebuild_all, channel_delete, channel_save, channel_status_set


def _rows(channel: Channel) -> set[tuple]:
    return set(Ability.objects.filter(channel=channel).values_list("group", "model", "enabled", "priority"))


def test_abilities_follow_models_groups_and_priority(db):
    channel = channel_save(
        Channel(
            name="c",
            type=1,
            key="k",
            model_names="gpt-4o, gpt-4o-mini,gpt-4o",
            group="default,vip",
            priority=5,
        )
    )
    assert _rows(channel) == {
        ("default", "gpt-4o", True, 5),
        ("default", "gpt-4o-mini", True, 5),
        ("vip", "gpt-4o", True, 5),
        ("vip", "gpt-4o-mini", True, 5),
    }
    channel.model_names = "o3"
    channel.group = "svip"
    channel.priority = 1
    channel_save(channel)
    assert _rows(channel) == {("svip", "o3", True, 1)}


def test_abilities_track_status_and_deletion(db):
    channel = channel_save(Channel(name="c", type=1, model_names="a,b", group="default"))
    channel_status_set(channel, ChannelStatus.AUTO_DISABLED)
    assert {row[2] for row in _rows(channel)} == {False}
    channel_status_set(channel, ChannelStatus.ENABLED)
    assert {row[2] for row in _rows(channel)} == {True}
    channel_delete(channel)
    assert not Ability.objects.exists()


def test_rebuild_repairs_drifted_abilities(db):
    channel = channel_save(Channel(name="c", type=1, model_names="a", group="default"))
    Ability.objects.create(group="default", model="ghost", channel=channel)
    Ability.objects.filter(model="a").delete()
    assert abilities_rebuild_all() == 1
    assert _rows(channel) == {("default", "a", True, 0)}

"""Every channel type the console offers can actually relay: its row names an adaptor that imports."""

from __future__ import annotations

import pytest

from relay.channel_types import CHANNEL_TYPES, ChannelType
from relay.providers import ADAPTORS, adaptor_class
from relay.providers.base import Adaptor


@pytest.mark.parametrize("channel_type", list(ChannelType), ids=lambda t: f"{t.value}-{t.name}")
def test_every_channel_type_resolves_to_an_adaptor(channel_type):
    info = CHANNEL_TYPES[channel_type]
    assert info.adaptor in ADAPTORS, f"{info.name} names adaptor {info.adaptor!r}, which is not registered"
    cls = adaptor_class(info.adaptor)
    assert isinstance(cls, type) and issubclass(cls, Adaptor)


def test_every_registered_adaptor_is_used_by_some_channel_type():
    used = {info.adaptor for info in CHANNEL_TYPES.values()}
    assert set(ADAPTORS) <= used, f"registered but unreachable: {sorted(set(ADAPTORS) - used)}"

"""Who is the client? One answer for the relay, the rate limits and the console."""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings


@cache
def _trusted_networks(networks: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(net, strict=False) for net in networks)


def forwarded_client_ip(peer: str, forwarded: str | None) -> str:
    """The peer address, or the last X-Forwarded-For hop when the peer is one of settings.TRUSTED_PROXIES.

    Trusting the header only from known proxies keeps a client from dodging a limit or an allowlist with a
    made-up header.
    """
    if not forwarded:
        return peer
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return peer
    if not any(address in net for net in _trusted_networks(tuple(settings.TRUSTED_PROXIES))):
        return peer
    return forwarded.split(",")[-1].strip() or peer

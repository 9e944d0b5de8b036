"""Reads for /v1/models: what a key may use, from the cached routing table."""

from __future__ import annotations

from accounts.auth_cache import TokenSnapshot
from channels_app.routing import routing_table
from relay.channel_types import CHANNEL_TYPES, channel_type_info

MODEL_CREATED = 1626777600  # the original's fixed timestamp


def model_object(model: str, owned_by: str) -> dict:
    return {
        "id": model,
        "object": "model",
        "created": MODEL_CREATED,
        "owned_by": owned_by,
        "permission": [],
        "root": model,
        "parent": None,
    }


def _builtin_owners() -> dict[str, str]:
    owners: dict[str, str] = {}
    for info in CHANNEL_TYPES.values():
        for model in info.models:
            owners.setdefault(model, info.adaptor if info.adaptor != "openai" else info.name.lower())
    return owners


async def models_for_token(token: TokenSnapshot, *, include_builtin: bool = False) -> list[dict]:
    """The key's allowlist if it has one, else every model its owner's group can reach now."""
    table = await routing_table.aget()
    owners = _builtin_owners()
    if token.models:
        names = sorted(token.models)
    else:
        names = list(table.group_models.get(token.user.group, ()))
    result = []
    for name in names:
        tiers = table.tiers(token.user.group, name)
        owner = channel_type_info(tiers[0][1][0].type).name.lower() if tiers else owners.get(name, "custom")
        result.append(model_object(name, owner))
    if include_builtin:
        seen = {item["id"] for item in result}
        result.extend(model_object(m, o) for m, o in owners.items() if m not in seen)
    return result

"""Create the benchmark's user, limited key and OpenAI channel in the database the environment names.

Run by deploy/bench/run.py after ``manage.py bootstrap``, with the same environment as the gateway. Prints
one JSON line: the API key to send and the ids created.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from accounts.services import token_create, user_create  # noqa: E402
from channels_app.models import Channel, ChannelStatus  # noqa: E402
from channels_app.services import channel_save, channel_status_set  # noqa: E402

AMPLE = 10**15  # quota units: enough for any run, but still a *limited* key (the billing path is exercised)


def main() -> None:
    upstream = sys.argv[1]
    model = sys.argv[2] if len(sys.argv) > 2 else "gpt-4o-mini"
    # A database kept between runs (--sql-dsn) still has earlier runs' channels, whose fakes are gone.
    for stale in Channel.objects.filter(name__startswith="bench-fake-", status=ChannelStatus.ENABLED):
        channel_status_set(stale, ChannelStatus.MANUALLY_DISABLED)
    suffix = secrets.token_hex(4)
    user = user_create(username=f"bench-{suffix}", password=secrets.token_urlsafe(16), quota=AMPLE)
    token = token_create(user=user, name=f"bench-{suffix}", remain_quota=AMPLE, unlimited_quota=False)
    channel = channel_save(
        Channel(
            type=1,  # OpenAI
            name=f"bench-fake-{suffix}",
            key="sk-upstream-bench",
            base_url=upstream,
            model_names=model,
            group="default",
        )
    )
    print(
        json.dumps(
            {"key": f"sk-{token.key}", "user_id": user.id, "token_id": token.id, "channel_id": channel.id}
        )
    )


if __name__ == "__main__":
    main()

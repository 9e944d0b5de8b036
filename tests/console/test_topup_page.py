from __future__ import annotations

from accounts.models import User
from config.options import option_set
from redeem.models import Redemption, RedemptionStatus
from tests.console.conftest import csrf_client, csrf_token_from


def test_redeeming_a_code_adds_its_quota(as_alice, alice):
    Redemption.objects.create(key="a" * 32, name="gift", quota=250_000)
    response = as_alice.post("/topup", {"key": "a" * 32}, follow=True)
    assert "Redeemed: $0.50 added to your balance." in response.content.decode()
    assert User.objects.get(pk=alice.pk).quota == 1_250_000
    assert Redemption.objects.get(key="a" * 32).status == RedemptionStatus.USED


def test_a_used_or_unknown_code_is_refused_next_to_the_field(as_alice, alice):
    Redemption.objects.create(key="b" * 32, quota=5, status=RedemptionStatus.USED)
    for key in ("b" * 32, "nope"):
        page = as_alice.post("/topup", {"key": key}).content.decode()
        block = page.split('id="field-key"')[1].split("</div>")[0]
        assert "兑换失败" in block
    assert User.objects.get(pk=alice.pk).quota == 1_000_000


def test_the_top_up_link_carries_the_originals_parameters(as_alice, alice):
    option_set("TopUpLink", "https://pay.example/buy?x=1")
    page = as_alice.get("/topup").content.decode()
    assert (
        f"https://pay.example/buy?x=1&amp;username=alice&amp;user_id={alice.pk}&amp;transaction_id=" in page
    )


def test_redeeming_requires_the_csrf_token(alice):
    Redemption.objects.create(key="c" * 32, quota=5)
    client = csrf_client(alice)
    assert client.post("/topup", {"key": "c" * 32}).status_code == 403
    token = csrf_token_from(client, "/topup")
    assert client.post("/topup", {"key": "c" * 32, "csrfmiddlewaretoken": token}).status_code == 302

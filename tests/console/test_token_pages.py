from __future__ import annotations

import time

from accounts.models import Token, TokenStatus
from accounts.services import token_create
from channels_app.models import Channel
from channels_app.services import channel_save
from tests.console.conftest import csrf_client, csrf_token_from


def _form(**overrides) -> dict:
    data = {"name": "ci", "never_expires": "on", "remain_quota": "1000", "subnet": ""}
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def test_the_list_shows_only_my_keys_with_a_copy_button(as_alice, alice_token, bob):
    token_create(user=bob, name="bobs-secret-key")
    page = as_alice.get("/token").content.decode()
    assert "alice-key" in page and f'data-copy="sk-{alice_token.key}"' in page
    assert "bobs-secret-key" not in page


def test_someone_elses_key_is_a_404_everywhere(as_mallory, alice_token):
    for method, path in (
        ("get", f"/token/{alice_token.pk}/edit"),
        ("post", f"/token/{alice_token.pk}/edit"),
        ("post", f"/token/{alice_token.pk}/status"),
        ("post", f"/token/{alice_token.pk}/delete"),
    ):
        assert getattr(as_mallory, method)(path).status_code == 404, path
    assert Token.objects.filter(pk=alice_token.pk, status=TokenStatus.ENABLED).exists()


def test_search_matches_name_prefixes(as_alice, alice, alice_token):
    token_create(user=alice, name="other")
    page = as_alice.get("/token?keyword=alice").content.decode()
    assert "alice-key" in page and ">other<" not in page


def test_creating_a_key_with_models_and_subnet(as_alice, alice):
    channel_save(Channel(name="c", type=1, key="k", model_names="gpt-4o,gpt-4o-mini", group="default"))
    form_page = as_alice.get("/token/new").content.decode()
    assert 'value="gpt-4o-mini"' in form_page
    response = as_alice.post("/token/new", _form(allowed_models=["gpt-4o"], subnet="10.0.0.0/8, 192.168.1.5"))
    assert response.status_code == 302
    token = Token.objects.get(user=alice, name="ci")
    assert token.allowed_models == "gpt-4o" and token.subnet == "10.0.0.0/8,192.168.1.5"
    assert token.remain_quota == 1000 and token.expired_time == -1 and not token.unlimited_quota


def test_models_outside_the_group_cannot_be_picked(as_alice):
    response = as_alice.post("/token/new", _form(allowed_models=["secret-model"]))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


def test_bad_input_is_reported_next_to_the_field(as_alice):
    response = as_alice.post(
        "/token/new", _form(name="", subnet="10.0.0.300/8", never_expires=None, expired_at="2001-01-01T00:00")
    )
    page = response.content.decode()
    for field, message in (
        ("name", "This field is required."),
        ("subnet", "10.0.0.300/8 is not an IP range (CIDR)."),
        ("expired_at", "The expiry time must be in the future."),
    ):
        block = page.split(f'id="field-{field}"')[1].split("</div>")[0]
        assert message in block, field


def test_editing_a_key_keeps_its_secret_and_revives_an_exhausted_one(as_alice, alice_token):
    Token.objects.filter(pk=alice_token.pk).update(status=TokenStatus.EXHAUSTED, remain_quota=0)
    page = as_alice.get(f"/token/{alice_token.pk}/edit").content.decode()
    assert 'value="alice-key"' in page
    response = as_alice.post(f"/token/{alice_token.pk}/edit", _form(name="renamed", unlimited_quota="on"))
    assert response.status_code == 302
    token = Token.objects.get(pk=alice_token.pk)
    assert token.name == "renamed" and token.unlimited_quota and token.key == alice_token.key
    assert token.status == TokenStatus.ENABLED


def test_disable_enable_and_the_expired_refusal(as_alice, alice_token):
    as_alice.post(f"/token/{alice_token.pk}/status", {"enable": "0"})
    assert Token.objects.get(pk=alice_token.pk).status == TokenStatus.DISABLED
    Token.objects.filter(pk=alice_token.pk).update(expired_time=int(time.time()) - 10)
    response = as_alice.post(f"/token/{alice_token.pk}/status", {"enable": "1"}, follow=True)
    assert "cannot be enabled" in response.content.decode()
    assert Token.objects.get(pk=alice_token.pk).status == TokenStatus.DISABLED


def test_delete(as_alice, alice_token):
    assert as_alice.post(f"/token/{alice_token.pk}/delete").status_code == 302
    assert not Token.objects.filter(pk=alice_token.pk).exists()


def test_creating_a_key_requires_the_csrf_token(alice):
    client = csrf_client(alice)
    assert client.post("/token/new", _form()).status_code == 403
    token = csrf_token_from(client, "/token/new")
    assert client.post("/token/new", {**_form(), "csrfmiddlewaretoken": token}).status_code == 302


def test_key_names_are_escaped(as_alice, alice):
    token_create(user=alice, name='<img src=x onerror="alert(1)">')
    page = as_alice.get("/token").content.decode()
    assert '<img src=x onerror="alert(1)">' not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;" in page

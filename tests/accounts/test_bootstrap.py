from __future__ import annotations

from django.core.management import call_command

from accounts.models import Role, Token, User


def test_bootstrap_creates_root_once_with_default_password(db, settings, capsys):
    call_command("bootstrap")
    call_command("bootstrap")
    roots = User.objects.filter(role=Role.ROOT)
    assert roots.count() == 1
    root = roots.get()
    assert root.username == "root" and root.check_password("123456")
    assert root.quota == 500_000_000_000_000
    assert root.display_name == "Root User"
    assert len(root.access_token) == 32
    assert "default password" in capsys.readouterr().out
    # every new user gets an unlimited "default" key
    assert Token.objects.filter(user=root, name="default", unlimited_quota=True).count() == 1


def test_bootstrap_applies_initial_root_token_and_access_token(db, settings):
    settings.INITIAL_ROOT_TOKEN = "sk-initialrootkey0123456789"
    settings.INITIAL_ROOT_ACCESS_TOKEN = "a" * 32
    call_command("bootstrap")
    call_command("bootstrap")
    token = Token.objects.get(key="initialrootkey0123456789")
    assert token.name == "Initial Root Token" and token.unlimited_quota and token.expired_time == -1
    assert User.objects.get(role=Role.ROOT).access_token == "a" * 32


def test_bootstrap_leaves_an_existing_database_alone(alice):
    call_command("bootstrap")
    assert not User.objects.filter(role=Role.ROOT).exists()
    assert User.objects.count() == 1


def test_slave_node_skips_migrations(db, settings, capsys):
    settings.IS_MASTER_NODE = False
    call_command("bootstrap")
    assert "migrations skipped" in capsys.readouterr().out

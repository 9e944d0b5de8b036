"""Users and their API keys; table and column names follow the original so its data imports as-is."""

from __future__ import annotations

import time

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.db import models


class Role(models.IntegerChoices):
    GUEST = 0, "guest"
    COMMON = 1, "common"
    ADMIN = 10, "admin"
    ROOT = 100, "root"


class UserStatus(models.IntegerChoices):
    ENABLED = 1, "enabled"
    DISABLED = 2, "disabled"
    DELETED = 3, "deleted"


class UserManager(BaseUserManager):
    def create_user(self, username: str, password: str | None = None, **fields) -> User:
        user = self.model(username=username, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, username: str, password: str | None = None, **fields) -> User:
        fields.setdefault("role", Role.ROOT)
        fields.setdefault("display_name", "Root User")
        return self.create_user(username, password, **fields)


class User(AbstractBaseUser):
    username = models.CharField(max_length=64, unique=True)
    display_name = models.CharField(max_length=64, blank=True, default="", db_index=True)
    role = models.IntegerField(choices=Role.choices, default=Role.COMMON)
    status = models.IntegerField(choices=UserStatus.choices, default=UserStatus.ENABLED)
    email = models.CharField(max_length=64, blank=True, default="", db_index=True)
    github_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    wechat_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    lark_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    oidc_id = models.CharField(max_length=64, blank=True, default="", db_index=True)
    access_token = models.CharField(max_length=32, unique=True, null=True, blank=True, default=None)
    quota = models.BigIntegerField(default=0)
    used_quota = models.BigIntegerField(default=0)
    request_count = models.IntegerField(default=0)
    group = models.CharField(max_length=32, default="default")
    aff_code = models.CharField(max_length=32, unique=True, null=True, blank=True, default=None)
    inviter_id = models.IntegerField(default=0, db_index=True)

    USERNAME_FIELD = "username"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []
    objects = UserManager()

    class Meta:
        db_table = "users"

    def __str__(self) -> str:
        return self.username

    # Django admin and auth look at these; One API's role and status are the source of truth.
    @property
    def is_active(self) -> bool:
        return self.status == UserStatus.ENABLED

    @property
    def is_staff(self) -> bool:
        return self.role >= Role.ADMIN

    @property
    def is_superuser(self) -> bool:
        return self.role >= Role.ROOT

    @property
    def is_admin(self) -> bool:
        return self.role >= Role.ADMIN

    @property
    def is_root(self) -> bool:
        return self.role >= Role.ROOT

    def has_perm(self, perm: str, obj: object = None) -> bool:
        if not self.is_active:
            return False
        if self.is_root:
            return True
        # Admins manage everything except system options, which only root may change.
        return self.is_admin and not perm.startswith("config.")

    def has_perms(self, perm_list, obj: object = None) -> bool:
        return all(self.has_perm(p, obj) for p in perm_list)

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_root or (self.is_admin and self.is_active and app_label != "config")


class TokenStatus(models.IntegerChoices):
    ENABLED = 1, "enabled"
    DISABLED = 2, "disabled"
    EXPIRED = 3, "expired"
    EXHAUSTED = 4, "exhausted"


def _now() -> int:
    return int(time.time())


class Token(models.Model):
    """An API key. ``key`` is stored without the ``sk-`` prefix, as in the original."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, db_constraint=False, related_name="tokens")
    key = models.CharField(max_length=48, unique=True)
    status = models.IntegerField(choices=TokenStatus.choices, default=TokenStatus.ENABLED)
    name = models.CharField(max_length=64, blank=True, default="", db_index=True)
    created_time = models.BigIntegerField(default=_now)
    accessed_time = models.BigIntegerField(default=_now)
    expired_time = models.BigIntegerField(default=-1)
    remain_quota = models.BigIntegerField(default=0)
    unlimited_quota = models.BooleanField(default=False)
    used_quota = models.BigIntegerField(default=0)
    # Comma-separated allowlist; empty means every model the user's group may use.
    allowed_models = models.TextField(db_column="models", null=True, blank=True, default="")
    subnet = models.CharField(max_length=1024, blank=True, default="")

    class Meta:
        db_table = "tokens"
        indexes = [models.Index(fields=["user", "id"], name="idx_tokens_user_id")]

    def __str__(self) -> str:
        return f"{self.name} (#{self.pk})"

"""Reading configuration from the environment.

Every variable is read through these helpers so that a bad value stops the process with one line naming the
variable and the form it expects, never a traceback (see ``config.cli``).
"""

from __future__ import annotations

import os
from urllib.parse import parse_qsl, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    """The variable's value, or the contents of the file named by ``<NAME>_FILE`` (Docker secrets)."""
    file_path = os.environ.get(f"{name}_FILE")
    if file_path:
        try:
            with open(file_path, encoding="utf-8") as fh:
                return fh.read().strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE: cannot read {file_path!r} ({exc.strerror})") from None
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r}: expected true or false")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a whole number") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a whole number >= {minimum}")
    return value


def env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return float(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected a number") from None


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = os.environ.get(name, default).strip().lower() or default
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r}: expected one of {', '.join(choices)}")
    return raw


def env_cidrs(name: str, default: str) -> list[str]:
    """A comma-separated list of CIDRs or addresses, validated."""
    import ipaddress

    raw = os.environ.get(name, default)
    items = [part.strip() for part in raw.split(",") if part.strip()]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ImproperlyConfigured(
                f"{name}={raw!r}: {item!r} is not an IP network (e.g. 10.0.0.0/8)"
            ) from None
    return items


DSN_FORMS = (
    "user:pass@tcp(host:port)/db?params (one-api MySQL form), mysql://user:pass@host:port/db, "
    "or postgres://user:pass@host:port/db"
)


def parse_sql_dsn(name: str, dsn: str) -> dict:
    """Turn any DSN form the original accepted into a Django ``DATABASES`` entry."""
    dsn = dsn.strip()
    if dsn.startswith(("postgres://", "postgresql://")):
        return _url_database(name, dsn, "django.db.backends.postgresql", 5432)
    if dsn.startswith("mysql://"):
        return _url_database(name, dsn, "django.db.backends.mysql", 3306)
    if "@tcp(" in dsn or dsn.startswith("tcp("):
        return _go_mysql_database(name, dsn)
    raise ImproperlyConfigured(f"{name}: unrecognised DSN; expected {DSN_FORMS}")


def _url_database(name: str, dsn: str, engine: str, default_port: int) -> dict:
    parts = urlsplit(dsn)
    db_name = unquote(parts.path.lstrip("/"))
    try:
        port = parts.port or default_port
    except ValueError:
        raise ImproperlyConfigured(f"{name}: bad port in DSN; expected {DSN_FORMS}") from None
    if not parts.hostname or not db_name:
        raise ImproperlyConfigured(f"{name}: DSN needs a host and a database name; expected {DSN_FORMS}")
    options = dict(parse_qsl(parts.query))
    return {
        "ENGINE": engine,
        "NAME": db_name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": parts.hostname,
        "PORT": str(port),
        "OPTIONS": _engine_options(engine, options),
    }


def _go_mysql_database(name: str, dsn: str) -> dict:
    # go-sql-driver form: [user[:password]@]tcp(host[:port])/dbname[?param=value]
    creds, _, rest = dsn.rpartition("@tcp(") if "@tcp(" in dsn else ("", "", dsn[len("tcp(") :])
    address, sep, tail = rest.partition(")/")
    if not sep:
        raise ImproperlyConfigured(f"{name}: missing ')/' after the address; expected {DSN_FORMS}")
    db_name, _, query = tail.partition("?")
    if not db_name:
        raise ImproperlyConfigured(f"{name}: DSN has no database name; expected {DSN_FORMS}")
    user, _, password = creds.partition(":")
    host, _, port = address.partition(":")
    if port and not port.isdigit():
        raise ImproperlyConfigured(f"{name}: bad port {port!r} in DSN; expected {DSN_FORMS}")
    return {
        "ENGINE": "django.db.backends.mysql",
        "NAME": db_name,
        "USER": user,
        "PASSWORD": password,
        "HOST": host or "127.0.0.1",
        "PORT": port or "3306",
        "OPTIONS": _engine_options("django.db.backends.mysql", dict(parse_qsl(query))),
    }


def _engine_options(engine: str, params: dict[str, str]) -> dict:
    if engine.endswith("mysql"):
        # parseTime/loc/charset are go-driver parameters; Django always speaks utf8mb4 and UTC.
        return {"charset": "utf8mb4"}
    options: dict[str, str] = {}
    if "sslmode" in params:
        options["sslmode"] = params["sslmode"]
    return options

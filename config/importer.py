"""Import a database of the original one-api (SQLite file, MySQL or PostgreSQL DSN) into this one.

Tables and columns are the original's (spec §1), so reading is plain ``SELECT``s through a Django connection
opened at run time under the alias ``oneapi_source``. Every row is upserted by its primary key: a row that
already matches is left alone, so running the import twice changes nothing, and ``dry_run`` only counts.
Password hashes from Go's bcrypt (``$2a$…``) become Django's ``bcrypt$$2a$…``, which Django's bcrypt hasher
verifies (and upgrades on the next sign-in). Abilities are not copied: they are rebuilt from the channels.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.color import no_style
from django.db import DatabaseError, IntegrityError, connections, models, router, transaction
from django.db.utils import load_backend

from config.env import parse_sql_dsn

SOURCE_ALIAS = "oneapi_source"
BATCH_SIZE = 1000
_BCRYPT_PREFIXES = ("$2a$", "$2b$", "$2y$")
NO_PASSWORD = "!imported-without-password"  # "!" marks an unusable password in Django


class ImportFailed(Exception):
    """The import cannot go on; the message says why and what to do."""


@dataclass(frozen=True)
class TableSpec:
    table: str
    model_path: str  # "app_label.Model"
    renames: dict[str, str] = field(default_factory=dict)  # source column → target attname
    fix: Callable[[dict], dict] | None = None

    @property
    def model(self) -> type[models.Model]:
        from django.apps import apps

        return apps.get_model(self.model_path)


@dataclass
class TableCounts:
    table: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    note: str = ""


def password_from_original(hashed: str) -> str:
    """Go bcrypt ``$2a$10$…`` → Django ``bcrypt$$2a$10$…``; anything else cannot be verified here."""
    if hashed.startswith(_BCRYPT_PREFIXES):
        return "bcrypt$" + hashed
    if hashed.startswith(("bcrypt$", "pbkdf2_", "argon2", "bcrypt_sha256$", "!")):
        return hashed  # already Django's (a database exported by this edition)
    return NO_PASSWORD


def _fix_user(row: dict) -> dict:
    row["password"] = password_from_original(row.get("password") or "")
    for unique_or_null in ("access_token", "aff_code"):
        row[unique_or_null] = row.get(unique_or_null) or None
    return row


SPECS = (
    TableSpec("users", "accounts.User", fix=_fix_user),
    TableSpec("tokens", "accounts.Token", renames={"models": "allowed_models"}),
    TableSpec("channels", "channels_app.Channel", renames={"models": "model_names"}),
    TableSpec("options", "config.Option"),
    TableSpec("redemptions", "redeem.Redemption"),
    TableSpec("logs", "logs_app.Log"),
)


def source_settings(source: str) -> dict:
    """A Django DATABASES entry for ``--from``: a DSN the original accepted, or an SQLite file path."""
    if "://" in source or "@tcp(" in source or source.startswith("tcp("):
        try:
            return parse_sql_dsn("--from", source)
        except ImproperlyConfigured as exc:
            raise ImportFailed(str(exc)) from None
    path = Path(source).expanduser()
    if not path.is_file():
        raise ImportFailed(f"--from {source}: no such SQLite file (or give a MySQL/PostgreSQL DSN)")
    return {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path.resolve())}


@contextmanager
def source_connection(source: str) -> Iterator:
    """The source database as a private Django connection (never registered in ``connections``), closed after."""
    wanted = {"default": dict(connections.settings["default"]), SOURCE_ALIAS: source_settings(source)}
    settings_dict = connections.configure_settings(wanted)[SOURCE_ALIAS]  # Django's defaults filled in
    try:
        connection = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, SOURCE_ALIAS)
        connection.ensure_connection()
    except (DatabaseError, ImproperlyConfigured, ImportError) as exc:
        raise ImportFailed(f"cannot open the source database: {exc}") from None
    try:
        yield connection
    finally:
        connection.close()


def _source_columns(connection, table: str) -> list[str] | None:
    """The table's column names, or None without the table. Plain SQL: Django's introspection helpers assume
    a connection registered in ``connections``, and this one deliberately is not."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA table_info({connection.ops.quote_name(table)})")
            names = [row[1] for row in cursor.fetchall()]
        else:
            schema = "current_schema()" if connection.vendor == "postgresql" else "DATABASE()"
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                f"WHERE table_schema = {schema} AND table_name = %s ORDER BY ordinal_position",
                [table],
            )
            names = [row[0] for row in cursor.fetchall()]
    return names or None


def _source_rows(
    connection, table: str, columns: list[str], order_by: str, batch: int
) -> Iterator[list[dict]]:
    quote = connection.ops.quote_name
    sql = f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} ORDER BY {quote(order_by)}"
    with connection.cursor() as cursor:
        cursor.execute(sql)
        while rows := cursor.fetchmany(batch):
            yield [dict(zip(columns, row, strict=True)) for row in rows]


def _clean(model: type[models.Model], row: dict) -> dict:
    """Source values → what the target columns hold: NULL → the field's default, lengths trimmed, bools."""
    clean = {}
    for target in model._meta.concrete_fields:
        if target.attname not in row:
            continue
        value = row[target.attname]
        if value is None and not target.null:
            value = target.default if target.has_default() and not callable(target.default) else None
            if value is None:
                value = _zero(target)
        if isinstance(target, models.BooleanField) and value is not None:
            value = value not in (0, "0", "false", "f", False)
        elif isinstance(value, str) and target.max_length and len(value) > target.max_length:
            value = value[: target.max_length]
        elif isinstance(target, models.FloatField) and value is not None:
            value = float(value)
        clean[target.attname] = value
    return clean


def _zero(target: models.Field):
    if isinstance(target, models.BooleanField):
        return False
    if isinstance(target, models.IntegerField | models.FloatField | models.BigIntegerField):
        return 0
    return ""


def _upsert(model: type[models.Model], rows: list[dict], counts: TableCounts, dry_run: bool) -> None:
    pk = model._meta.pk.attname
    names = {f.attname: f.name for f in model._meta.concrete_fields}
    existing = model.objects.in_bulk([row[pk] for row in rows])
    to_create, to_update, changed_fields = [], [], set()
    for row in rows:
        current = existing.get(row[pk])
        if current is None:
            to_create.append(model(**row))
            continue
        changed = [attname for attname, value in row.items() if getattr(current, attname) != value]
        if not changed:
            counts.unchanged += 1
            continue
        for attname in changed:
            setattr(current, attname, row[attname])
        changed_fields.update(names[a] for a in changed)
        to_update.append(current)
    counts.created += len(to_create)
    counts.updated += len(to_update)
    if dry_run or not (to_create or to_update):
        return
    alias = router.db_for_write(model)
    try:
        with transaction.atomic(using=alias):
            model.objects.bulk_create(to_create)
            if to_update:
                model.objects.bulk_update(to_update, sorted(changed_fields))
    except IntegrityError as exc:
        raise ImportFailed(
            f"{counts.table}: a row conflicts with data already here ({exc}); import into an empty database "
            "or remove the conflicting rows first"
        ) from None


def _import_table(connection, spec: TableSpec, *, dry_run: bool, progress, batch: int) -> TableCounts:
    counts = TableCounts(spec.table)
    columns = _source_columns(connection, spec.table)
    if columns is None:
        counts.note = "not in the source database"
        return counts
    model = spec.model
    known = {f.attname for f in model._meta.concrete_fields}
    wanted = [c for c in columns if spec.renames.get(c, c) in known]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(spec.table)}")
        total = cursor.fetchone()[0]
    pk_column = next(c for c in wanted if spec.renames.get(c, c) == model._meta.pk.attname)
    for source_rows in _source_rows(connection, spec.table, wanted, pk_column, batch):
        rows = []
        for source_row in source_rows:
            row = {spec.renames.get(column, column): value for column, value in source_row.items()}
            rows.append(_clean(model, spec.fix(row) if spec.fix else row))
        _upsert(model, rows, counts, dry_run)
        counts.read += len(rows)
        progress(f"{spec.table}: {counts.read}/{total} ({100 * counts.read // max(total, 1)}%)")
    return counts


def _after_import() -> None:
    """Derived state: abilities from channels, id sequences past the imported ids, every node's caches."""
    from channels_app.services import abilities_rebuild_all
    from config import cache_versions
    from config.options import options_changed

    abilities_rebuild_all()
    for spec in SPECS:
        model = spec.model
        connection = connections[router.db_for_write(model)]
        statements = connection.ops.sequence_reset_sql(no_style(), [model])
        if statements:  # PostgreSQL: explicit ids do not move the sequence
            with connection.cursor() as cursor:
                for sql in statements:
                    cursor.execute(sql)
    cache_versions.bump(cache_versions.AUTH)
    cache_versions.bump(cache_versions.CHANNELS)
    options_changed()


def import_oneapi(
    *, source: str, dry_run: bool = False, progress: Callable[[str], None] = print, batch: int = BATCH_SIZE
) -> list[TableCounts]:
    """Import every table of the original; returns per-table counts (what would change, with ``dry_run``)."""
    results = []
    with source_connection(source) as connection:
        for spec in SPECS:
            results.append(_import_table(connection, spec, dry_run=dry_run, progress=progress, batch=batch))
    if not dry_run:
        _after_import()
    return results

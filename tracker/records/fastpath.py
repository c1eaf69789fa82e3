"""The request path's hand-written bypasses of the ORM, and the list of every other one.

Each bypass stays only while it pays. For each: what it replaces (the plain path), the benchmark
that justifies it, and the test that holds it equal to the plain path (on SQLite and PostgreSQL;
CI runs the suite on both).

``insert_together(objs)``
    Replaces ``obj.save(force_insert=True)`` for each row in ``transaction.atomic()``: an entry is
    three to five rows (the assessment, its safety flags, its patient's outbox row, its audit
    event). On PostgreSQL they go as one statement of data-modifying CTEs
    (``WITH w0 AS (INSERT ...), w1 AS (INSERT ...) INSERT ...``): one round trip, atomic on its
    own, its text cached per shape so that psycopg prepares it. Foreign keys between the rows are
    checked at the end of the statement, so a flag may reference the assessment inserted beside
    it. On other databases (SQLite) it is the plain path.
    Benchmark: ``manage.py benchmark api`` (a submission's app CPU; the plain path's compiling of
    each INSERT is the cost it removes).
    Tests: ``tests/tracker/records/test_db.py`` (the rows and the instances are those ``save()`` leaves; a
    failure stores nothing and leaves the caller's transaction usable; the upsert).

``token_with_user(digest)``
    Replaces ``AuthToken.objects.select_related("user", "user__patient__clinic").filter(digest=digest,
    revoked_at__isnull=True, expires_at__gt=now).first()``, the first query of every authenticated
    request: the same join, its SQL written once per process and database (``JoinedSelect``)
    instead of compiled on every request. The patient's clinic comes with it: a flagged entry's
    answer (the clinic's crisis resources) and the entry's date check read it without a query.
    Benchmark: ``manage.py benchmark api`` (every submission authenticates).
    Tests: ``tests/tracker/records/test_auth.py`` (``test_token_with_user_loads_what_the_orm_loads`` and
    the refusals of revoked, expired and unknown tokens).

``insert_per_patient(template, patient_ids)``
    Replaces ``bulk_create`` of one audit event per patient that a list read or an export returned
    (tens of thousands for an export): one ``INSERT ... SELECT`` over the ids as an array, with no
    model instance per patient. Benchmark: ``manage.py benchmark exports`` (its export audits every
    patient it lists). Tests: ``tests/tracker/records/test_db.py`` (the rows ``bulk_create`` writes,
    in the order given).

All three run through Django's cursor, so query logging, execute wrappers, error translation and the
connection's health checks (``CONN_HEALTH_CHECKS``) apply to them as to any query.

The other bypasses live beside the code they serve, because they belong to the layers above this
one (each one's docstring says what it replaces):

``tracker/api/serializers/assessments.py`` (``assessment_body``)
    An entry as the API answers it (a submission, an entry, a patient's entries, an amendment),
    written out field by field instead of rendered by ``AssessmentSerializer``, which still
    describes it in the schema. DRF's rendering walks every field through its generic machinery on
    each entry. Benchmark: ``manage.py benchmark api`` (the submission's app CPU). Tests:
    ``tests/tracker/api/test_assessment_body.py`` (any entry, in any active time zone, renders as the
    serializer renders it, keys in the same order) and
    ``tests/tracker/records/test_assessments.py`` (stored entries, through the API).

``projections/storage.py``
    The nightly job's PostgreSQL reads and its COPY writes (column lists from the models' ``_meta``).
    Benchmarks: ``manage.py benchmark projections`` and ``benchmark nightly``. Tests:
    ``tests/projections/test_storage.py`` (every column written as the per-patient path writes it).

``tracker/reports/read_model.py`` (``_FRESH_SQL``)
    The response CSV's freshness check: the server hashes each course's entries and compares them with
    the stored snapshot's fingerprint, instead of loading every entry into Python. Benchmark:
    ``manage.py benchmark exports``. Tests: ``tests/tracker/reports/test_reports_csv_stream.py`` (the
    export byte for byte equal to the plain path).
"""

from __future__ import annotations

import contextlib
import functools
import uuid
from collections.abc import Callable
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Field, Model
from django.utils import timezone

from tracker.records.models import AuthToken, Clinic, Patient, User

__all__ = ["insert_per_patient", "insert_together", "token_with_user"]


def quoted_columns(q: Callable[[str], str], model: type[Model], *names: str) -> list[str]:
    """The quoted column of each named field of ``model`` ("pk": its primary key), for SQL
    written by hand."""
    fields = [model._meta.pk if name == "pk" else model._meta.get_field(name) for name in names]
    return [q(str(f.column)) for f in fields]  # type: ignore[union-attr]


class JoinedSelect:
    """A SELECT of whole rows of several models joined, written by hand once per process; the rows
    come back as model instances built as the ORM builds them.

    The ORM compiles a query anew on every call. Here the columns, and each column's value converters,
    are taken from the models' ``_meta`` (as the ORM's compiler takes them) and the SQL is built
    once per database; ``tail(quote)`` writes the ``FROM ... WHERE ...`` part (``quoted_columns``
    names its columns). A model whose primary key comes back NULL (the outer side of a LEFT JOIN
    that found nothing) is None.
    """

    def __init__(self, models: list[tuple[type[Model], str]], tail: Callable[[Callable[[str], str]], str]) -> None:
        self.models = models
        self.tail = tail
        self.fields = [list(m._meta.concrete_fields) for m, _ in models]
        self.attnames = [[f.attname for f in fields] for fields in self.fields]
        self.pk_at = [names.index(m._meta.pk.attname) for (m, _), names in zip(models, self.attnames, strict=True)]  # type: ignore[union-attr]
        self._prepared: dict[str, tuple[str, list[tuple[int, list[Any], Any]]]] = {}

    def sql(self, conn: Any) -> str:
        return (self._prepared.get(conn.alias) or self._prepare(conn))[0]

    def _prepare(self, conn: Any) -> tuple[str, list[tuple[int, list[Any], Any]]]:
        q = conn.ops.quote_name
        columns, converters = [], []
        for (_, alias), fields in zip(self.models, self.fields, strict=True):
            for f in fields:
                columns.append(f"{alias}.{q(f.column)}")
                col = f.get_col(alias)
                funcs = conn.ops.get_db_converters(col) + col.get_db_converters(conn)
                if funcs:
                    converters.append((len(columns) - 1, funcs, col))
        sql = f"SELECT {', '.join(columns)} {self.tail(q)}"
        self._prepared[conn.alias] = (sql, converters)
        return sql, converters

    def load(self, conn: Any, row: tuple[Any, ...]) -> list[Model | None]:
        """One fetched row as one instance (or None) per model, in the order of ``models``."""
        _, converters = self._prepared.get(conn.alias) or self._prepare(conn)
        values = list(row)
        for i, funcs, col in converters:
            for func in funcs:
                values[i] = func(values[i], col, conn)
        instances: list[Model | None] = []
        start = 0
        for (model, _), names, pk in zip(self.models, self.attnames, self.pk_at, strict=True):
            part = values[start : start + len(names)]
            start += len(names)
            instances.append(None if part[pk] is None else model.from_db(conn.alias, names, part))
        return instances


def _generated(field: Field[Any, Any]) -> bool:
    """Filled in by the database (an auto-increment primary key), read back with RETURNING."""
    return bool(getattr(field, "db_returning", False))


@functools.cache
def _insert_fields(model: type[Model]) -> list[Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not _generated(f)]


@functools.cache
def _returned_fields(model: type[Model]) -> list[Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if _generated(f)]


_statements: dict[tuple[tuple[type[Model], int], ...], str] = {}


def _on_conflict_update(model: type[Model]) -> list[str]:
    """A model declares ``ON_CONFLICT_UPDATE = [field names]`` to be upserted on its primary key."""
    return list(getattr(model, "ON_CONFLICT_UPDATE", []))


def _sql(shape: tuple[tuple[type[Model], int], ...], q: Any) -> str:
    if shape in _statements:
        return _statements[shape]
    parts = []
    for model, rows in shape:
        fields = _insert_fields(model)
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        sql = (
            f"INSERT INTO {q(model._meta.db_table)} ({', '.join(q(f.column) for f in fields)}) "  # noqa: S608 (names from _meta)
            f"VALUES {', '.join([row] * rows)}"
        )
        if update := _on_conflict_update(model):
            [pk] = quoted_columns(q, model, "pk")
            sql += f" ON CONFLICT ({pk}) DO UPDATE SET " + ", ".join(
                f"{c} = EXCLUDED.{c}" for c in quoted_columns(q, model, *update)
            )
        parts.append(sql)
    *ctes, last = parts
    returning = _returned_fields(shape[-1][0])
    if returning:
        last += " RETURNING " + ", ".join(q(f.column) for f in returning)
    sql = last if not ctes else "WITH " + ", ".join(f"w{i} AS ({c})" for i, c in enumerate(ctes)) + " " + last
    _statements[shape] = sql
    return sql


def insert_together(objs: list[Model]) -> None:
    """INSERT new instances, grouped by model in the order given; only the last model may have a
    database-generated primary key (it is read back with RETURNING). A model that declares
    ``ON_CONFLICT_UPDATE`` is upserted: an existing row with its primary key gets those fields."""
    if not objs:
        return
    conn = connections[router.db_for_write(type(objs[0]))]
    if conn.vendor != "postgresql":
        with transaction.atomic(using=conn.alias):
            for obj in objs:
                model = type(obj)
                if update := _on_conflict_update(model):
                    model._default_manager.using(conn.alias).bulk_create(
                        [obj], update_conflicts=True, unique_fields=[model._meta.pk.name],  # type: ignore[union-attr]
                        update_fields=update,
                    )  # fmt: skip
                else:
                    obj.save(force_insert=True, using=conn.alias)
        return
    groups: list[tuple[type[Model], list[Model]]] = []
    for obj in objs:
        if groups and groups[-1][0] is type(obj):
            groups[-1][1].append(obj)
        else:
            groups.append((type(obj), [obj]))
    if any(_returned_fields(model) for model, _ in groups[:-1]):
        raise ValueError("only the last model may have database-generated values")
    if len(groups[-1][1]) > 1 and _returned_fields(groups[-1][0]):
        raise ValueError("database-generated values are read back for one row only")
    params: list[Any] = []
    for model, rows in groups:
        fields = _insert_fields(model)
        for obj in rows:
            params.extend(f.get_db_prep_save(f.pre_save(obj, add=True), connection=conn) for f in fields)
    shape = tuple((model, len(rows)) for model, rows in groups)
    sql = _sql(shape, conn.ops.quote_name)
    # Alone the statement is atomic; inside a caller's transaction a savepoint keeps a failure
    # (say, a unique violation the caller handles) from aborting the caller's transaction.
    savepoint = transaction.atomic(using=conn.alias) if conn.in_atomic_block else contextlib.nullcontext()
    with savepoint, conn.cursor() as cursor:
        cursor.execute(sql, params)
        returned = cursor.fetchone() if cursor.description else None
    last_model, last_rows = groups[-1]
    if returned is not None:
        for f, value in zip(_returned_fields(last_model), returned, strict=True):
            setattr(last_rows[0], f.attname, value)
    for obj in objs:
        obj._state.adding = False
        obj._state.db = conn.alias


def insert_per_patient(template: Model, patient_ids: list[uuid.UUID]) -> None:
    """INSERT one row per patient, in the order given: ``template``'s values, with ``patient_id`` the
    patient and ``object_id`` the patient's id as text (an audit event for each patient a list read
    returned). On PostgreSQL one ``INSERT ... SELECT`` over the ids as an array, its columns from
    ``_meta``; elsewhere the plain path, ``bulk_create``."""
    model = type(template)
    conn = connections[router.db_for_write(model)]
    fields = _insert_fields(model)
    if conn.vendor != "postgresql":
        values = {f.attname: getattr(template, f.attname) for f in fields}
        model._default_manager.using(conn.alias).bulk_create(
            [model(**{**values, "patient_id": pid, "object_id": str(pid)}) for pid in patient_ids]
        )
        return
    per_patient = {"patient_id": "u.p", "object_id": "u.p::text"}
    columns, exprs, params = [], [], []
    for f in fields:
        columns.append(conn.ops.quote_name(f.column))
        if f.attname in per_patient:
            exprs.append(per_patient[f.attname])
        else:
            exprs.append(f"%s::{f.db_type(conn)}")
            params.append(f.get_db_prep_save(f.pre_save(template, add=True), connection=conn))
    sql = (
        f"INSERT INTO {conn.ops.quote_name(model._meta.db_table)} ({', '.join(columns)}) "  # noqa: S608 (names from _meta)
        f"SELECT {', '.join(exprs)} FROM unnest(%s::uuid[]) WITH ORDINALITY AS u(p, n) ORDER BY u.n"
    )
    with conn.cursor() as cursor:
        cursor.execute(sql, [*params, list(patient_ids)])


def _token_tail(q: Callable[[str], str]) -> str:
    t, u, p, c = (q(m._meta.db_table) for m in (AuthToken, User, Patient, Clinic))
    [user_pk], [clinic_pk] = quoted_columns(q, User, "pk"), quoted_columns(q, Clinic, "pk")
    patient_user, patient_clinic = quoted_columns(q, Patient, "user", "clinic")
    token_user, digest, revoked, expires = quoted_columns(q, AuthToken, "user", "digest", "revoked_at", "expires_at")
    return (
        f"FROM {t} t INNER JOIN {u} u ON u.{user_pk} = t.{token_user} "
        f"LEFT OUTER JOIN {p} p ON p.{patient_user} = u.{user_pk} "
        f"LEFT OUTER JOIN {c} c ON c.{clinic_pk} = p.{patient_clinic} "
        f"WHERE t.{digest} = %s AND t.{revoked} IS NULL AND t.{expires} > %s"
    )


_TOKEN_SELECT = JoinedSelect([(AuthToken, "t"), (User, "u"), (Patient, "p"), (Clinic, "c")], _token_tail)


def token_with_user(digest: str) -> AuthToken | None:
    """The live (unrevoked, unexpired) token with this digest, its ``user``, the user's
    ``patient`` (None for staff: reading ``user.patient`` then raises without a query) and the
    patient's ``clinic`` loaded in one query; None if there is none. Whether the user is active is
    the caller's to check."""
    conn = connections[router.db_for_read(AuthToken)]
    with conn.cursor() as cursor:
        cursor.execute(_TOKEN_SELECT.sql(conn), [digest, conn.ops.adapt_datetimefield_value(timezone.now())])
        row = cursor.fetchone()
    if row is None:
        return None
    token, user, patient, clinic = _TOKEN_SELECT.load(conn, row)
    assert isinstance(token, AuthToken) and isinstance(user, User)
    if patient is not None:
        patient.user = user  # type: ignore[attr-defined]
        Patient.clinic.field.set_cached_value(patient, clinic)
    token.user = user
    User.patient.related.set_cached_value(user, patient)
    return token

"""Inserting model instances with one plain ``INSERT … RETURNING id``.

The registration path (``cases.actions.do_create_ticket``) writes four kinds of rows
per request; Django's ``Model.save``/``bulk_create`` rebuild the INSERT statement and
run every field through the compiler each time, about a fifth of a registration's
CPU. ``insert`` writes the same values (each field's ``pre_save`` and
``get_db_prep_save``, as Django does; plain text, numbers and booleans passed as they
are, which is what those fields' conversions return) with the statement text built
once per model, table and database vendor, and sends ``post_save`` as ``Model.save``
would, so receivers (live updates, cache generations) see the rows. ``Insert``
computes the parameters ahead, so that only the INSERT itself runs inside a
transaction (on SQLite: inside the one write lock every writer waits for).

Not for models with multi-table inheritance, and only for new rows with an
auto-incremented primary key (the caller sets no pk). A test compares its rows with
Django's own ``save`` column by column (tests/cases/test_fast_insert_writes_what_django_would.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, models, router
from django.db.models.base import ModelState
from django.db.models.signals import post_init, post_save, pre_init

_Plan = tuple[str, list[tuple[models.Field[Any, Any], bool, type | None]]]


def _plain_type(field: models.Field[Any, Any]) -> type | None:
    """The Python type whose values this field stores unchanged (its ``get_prep_value``
    returns them as they are and neither backend adapts them further), or None."""
    if isinstance(field, models.BooleanField):
        return bool
    if isinstance(field, (models.CharField, models.TextField)) and not isinstance(field, (models.EmailField, models.GenericIPAddressField)):
        return str
    if isinstance(field, (models.IntegerField, models.AutoField)):
        return int
    if isinstance(field, models.ForeignKey) and isinstance(field.target_field, (models.IntegerField, models.AutoField)):
        return int
    return None
_plans: dict[tuple[type[models.Model], str, str, int, tuple[str, ...]], _Plan] = {}


def _plan(model: type[models.Model], alias: str, rows: int, unless: tuple[str, ...] = ()) -> _Plan:
    connection = connections[alias]
    key = (model, alias, connection.vendor, rows, unless)
    plan = _plans.get(key)
    if plan is None:
        meta = model._meta
        if meta.parents:
            raise TypeError(f"{meta.label}: multi-table inheritance is not supported")
        fields = [f for f in meta.concrete_fields if not f.primary_key]
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in fields)
        one = "(" + ", ".join(["%s"] * len(fields)) + ")"
        conflict = ""
        if unless:
            conflict = f"ON CONFLICT ({', '.join(quote(meta.get_field(name).column) for name in unless)}) DO NOTHING "
        sql = (
            f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([one] * rows)} "
            f"{conflict}RETURNING {quote(meta.pk.column)}"
        )
        spec = [
            (f, bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)), _plain_type(f))
            for f in fields
        ]
        plan = _plans[key] = (sql, spec)
    return plan


def _params(obj: models.Model, spec: Sequence[tuple[models.Field[Any, Any], bool, type | None]], connection: Any) -> list[Any]:
    out: list[Any] = []
    append = out.append
    for field, auto, plain in spec:
        value = field.pre_save(obj, True) if auto else getattr(obj, field.attname)
        if value is None or type(value) is plain:
            append(value)
        else:
            append(field.get_db_prep_save(value, connection))
    return out


class Insert:
    """An ``INSERT … RETURNING id`` of new instances (all of one model), its parameters
    computed when it is built, except for the ``late`` fields (attribute names, or the
    names of foreign keys), read again when it runs.

    The registration path builds its inserts before the write transaction and runs them
    inside it, filling in only what exists there: the citizen's id and the ticket number
    on the ticket, the ticket's id on its events and audit row. A late foreign key whose
    related object was assigned before that object was saved takes its primary key at
    ``run`` (as Django's ``save`` does)."""

    __slots__ = ("objs", "model", "using", "sql", "params", "late")

    def __init__(self, objs: Sequence[models.Model], *, late: Sequence[str] = (), using: str = "default") -> None:
        if not objs:
            raise ValueError("Insert() needs at least one instance")
        model = type(objs[0])
        connection = connections[using]
        self.sql, spec = _plan(model, using, len(objs))
        meta = model._meta
        late_fields = {meta.get_field(name) for name in late}
        params: list[Any] = []
        places: list[tuple[int, models.Model, models.Field[Any, Any], type | None]] = []
        for obj in objs:
            if type(obj) is not model or obj.pk is not None:
                raise ValueError("Insert() takes new instances of one model")
            start = len(params)
            params.extend(_params(obj, spec, connection))
            if late_fields:
                places.extend((start + i, obj, field, plain) for i, (field, _, plain) in enumerate(spec) if field in late_fields)
        self.objs, self.model, self.using, self.params, self.late = list(objs), model, using, params, places

    def run(self, *, signal: bool = True) -> None:
        """INSERT the rows; set the instances' primary keys and mark them saved; send
        ``post_save(created=True)`` for each."""
        connection = connections[self.using]
        params = self.params
        for at, obj, field, plain in self.late:
            if field.is_relation and field.is_cached(obj):
                related = getattr(obj, field.name)
                if related is not None and getattr(obj, field.attname) is None:
                    if related.pk is None:
                        raise ValueError(f"{field.name}: the related object is not saved")
                    setattr(obj, field.attname, related.pk)
            value = getattr(obj, field.attname)
            params[at] = value if value is None or type(value) is plain else field.get_db_prep_save(value, connection)
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            ids = [row[0] for row in cursor.fetchall()]
        objs, using = self.objs, self.using
        if len(ids) != len(objs):
            raise AssertionError(f"INSERT returned {len(ids)} ids for {len(objs)} rows")
        # Rows come back in VALUES order on SQLite and PostgreSQL for a single multi-row
        # INSERT into a table with an auto-incremented key (ids ascend in that order).
        ids.sort()
        _saved(objs, ids, using, signal)


def _saved(objs: Sequence[models.Model], ids: Sequence[Any], using: str, signal: bool) -> None:
    """Mark freshly inserted instances saved with their new keys, as ``save`` does."""
    for obj, pk in zip(objs, ids):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = using
    if signal:
        for obj in objs:
            post_save.send(sender=type(obj), instance=obj, created=True, update_fields=None, raw=False, using=using)


def insert(objs: Sequence[models.Model], *, using: str = "default", signal: bool = True) -> None:
    """INSERT ``objs`` (all of one model, none saved yet) in one statement; set their
    primary keys and mark them saved; send ``post_save(created=True)`` for each."""
    if objs:
        Insert(objs, using=using).run(signal=signal)


def insert_unless(obj: models.Model, unless: tuple[str, ...], *, using: str = "default", signal: bool = True) -> bool:
    """INSERT one new instance unless a row with the same values in ``unless`` (the
    fields of a unique constraint) exists: ``ON CONFLICT (…) DO NOTHING``. True, the
    instance saved and ``post_save`` sent; or False, nothing written and the instance
    left unsaved. On PostgreSQL a conflicting row of a transaction still running makes
    the INSERT wait for that transaction, as the unique index does for any writer."""
    if obj.pk is not None:
        raise ValueError("insert_unless() takes a new instance")
    connection = connections[using]
    sql, spec = _plan(type(obj), using, 1, unless)
    with connection.cursor() as cursor:
        cursor.execute(sql, _params(obj, spec, connection))
        row = cursor.fetchone()
    if row is None:
        return False
    _saved([obj], [row[0]], using, signal)
    return True


_PROBE = "\x00hotline-probe\x00"
_selects: dict[tuple[type[models.Model], str, str, str], tuple[str, list[Any], int, Any, list[str]]] = {}


def first_by(model: type[models.Model], field: str, value: Any, *, using: str = "default") -> Any:
    """``model.objects.filter(<field>=value).order_by("pk").first()`` with the statement
    compiled once per model, field and database (the ORM compiles it on every call: an
    eighth of a registration's CPU for the citizen look-up). Values are converted by
    the same converters the ORM applies; the row becomes an instance by ``from_db``."""
    connection = connections[using]
    key = (model, field, using, connection.vendor)
    plan = _selects.get(key)
    if plan is None:
        qs = model._default_manager.using(using).filter(**{field: _PROBE}).order_by("pk")[:1]
        compiler = qs.query.get_compiler(using=using)
        sql, params = compiler.as_sql()
        columns = [col for col, _, _ in compiler.select]
        converters = compiler.get_converters(columns)
        names = [col.target.attname for col in columns]
        plan = _selects[key] = (sql, list(params), list(params).index(_PROBE), converters, names)
    sql, params, at, converters, names = plan
    params = list(params)
    params[at] = value
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = list(row)
        for pos, (convs, expression) in converters.items():
            for convert in convs:
                row[pos] = convert(row[pos], expression, connection)
    return model.from_db(using, names, row)


def sql_params(model: type[models.Model], obj: models.Model, *, using: str = "default") -> tuple[str, list[Any]]:
    """The statement and parameters ``insert([obj])`` would run (for tests and tools)."""
    sql, spec = _plan(model, using, 1)
    return sql, _params(obj, spec, connections[using])


_Build = tuple[list[tuple[str, str, models.Field[Any, Any], bool]], list[str], bool]
_builds: dict[type[models.Model], _Build] = {}


def build(model: type[models.Model], **values: Any) -> Any:
    """``model(**values)`` — the same new, unsaved instance — at a third of the cost.

    Django's keyword path looks every concrete field up in the keywords, raising and
    catching a ``KeyError`` for each one not given, and sends ``pre_init``/``post_init``
    (68 µs for a ticket; 24 µs here, docs/cases.md "Registration"). Here each
    field takes its given value or its default, in field order; a related object given
    by field name sets the id and is cached, as ``model(**values)`` does. When nothing
    listens to ``pre_init``/``post_init`` for the model, the values are set on a new
    instance directly (what ``Model.__init__`` does for a new row); otherwise they go
    to ``Model.__init__`` positionally (decided at each model's first build: fields
    that listen, such as ``ImageField``, connect when their class is prepared). Field
    names or ``attname``s only (no properties); a test compares the result with
    ``model(**values)`` field by field."""
    plan = _builds.get(model)
    if plan is None:
        fields = [(f.name, f.attname, f, bool(f.is_relation and f.many_to_one)) for f in model._meta.concrete_fields]
        direct = not (pre_init.has_listeners(model) or post_init.has_listeners(model))
        plan = _builds[model] = (fields, [attname for _, attname, _, _ in fields], direct)
    fields, attnames, direct = plan
    args: list[Any] = []
    related: list[tuple[models.Field[Any, Any], Any]] = []
    for name, attname, field, to_one in fields:
        if to_one and name in values:
            obj = values.pop(name)
            args.append(None if obj is None else getattr(obj, field.target_field.attname))  # type: ignore[attr-defined]
            related.append((field, obj))
        elif attname in values:
            args.append(values.pop(attname))
        else:
            args.append(field.get_default())
    if values:
        raise TypeError(f"{model.__name__}: unexpected fields {sorted(values)}")
    if direct:
        instance = model.__new__(model)
        instance._state = ModelState()
        instance.__dict__.update(zip(attnames, args))
    else:
        instance = model(*args)
    for field, obj in related:
        # as the related descriptor's __set__: both sides get a database, then the cache
        # (None included)
        if obj is not None:
            if instance._state.db is None:
                instance._state.db = router.db_for_write(model, instance=obj)
            if obj._state.db is None:
                obj._state.db = router.db_for_write(type(obj), instance=instance)
        field.set_cached_value(instance, obj)  # type: ignore[attr-defined]
    return instance

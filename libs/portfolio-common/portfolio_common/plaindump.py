"""`dump_many(schema, rows)`: what `schema(many=True).dump(rows)` answers, for read schemas made
of plain fields only, without marshmallow's per-field machinery.

A teacher's queue is 300 rows of 30 fields: marshmallow spent about half of
certification.list_queue's time on them (issue 10, docs/benchmarks.md). The schema stays the
contract: the converters are built from its declared fields (output name `data_key`, input
`attribute`), a row without a field's key leaves the field out as marshmallow does, and a
schema with any other kind of field (Nested, Method, Boolean, a DateTime with a format, ...) is dumped by
marshmallow itself. tests/unit/test_plaindump.py holds the two to the same answers.
"""
import functools

from marshmallow import fields, missing

_MISSING = object()


def _text(v):
    return None if v is None else str(v)


def _int(v):
    return None if v is None else int(v)


def _iso(v):
    return None if v is None else v.isoformat()


def _converter(field):
    """A function of the value, or None when this module does not know the field."""
    kind = type(field)
    if kind in (fields.String, fields.Str, fields.UUID):
        return _text
    if kind in (fields.Integer, fields.Int):
        return _int
    if kind is fields.DateTime and field.format in (None, "iso", "iso8601"):
        return _iso
    if kind in (fields.Dict, fields.Mapping) and field.mapping_type is dict:
        key = _converter(field.key_field) if field.key_field is not None else (lambda k: k)
        if field.value_field is None:
            value = lambda v: v  # noqa: E731
        else:
            value = _converter(field.value_field)
        if key is None or value is None:
            return None
        if field.key_field is None and field.value_field is None:
            return lambda m: None if m is None else dict(m)
        return lambda m: None if m is None else {key(k): value(v) for k, v in m.items()}
    return None


@functools.lru_cache(maxsize=None)
def _plan(schema_cls):
    schema = schema_cls()
    plan = []
    for name, field in schema.dump_fields.items():
        if field.dump_default is not missing:
            return None
        conv = _converter(field)
        if conv is None:
            return None
        plan.append((field.attribute or name, field.data_key or name, conv))
    return tuple(plan)


def dump_many(schema_cls, rows) -> list:
    """`schema_cls(many=True).dump(rows)` for rows that are mappings (dicts of a query's row)."""
    plan = _plan(schema_cls)
    if plan is None:
        return schema_cls(many=True).dump(rows)
    out = []
    for row in rows:
        item = {}
        for src, dst, conv in plan:
            value = row.get(src, _MISSING)
            if value is not _MISSING:
                item[dst] = conv(value)
        out.append(item)
    return out

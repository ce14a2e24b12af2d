"""plaindump.dump_many answers what marshmallow's dump answers (it replaces it on hot reads)."""
import datetime as dt
import uuid

from marshmallow import Schema, fields

from portfolio_common.plaindump import dump_many


class Plain(Schema):
    id = fields.String()
    n = fields.Integer(allow_none=True)
    at = fields.DateTime(allow_none=True)
    files = fields.Dict(keys=fields.String(), values=fields.Dict())
    prints = fields.Dict(keys=fields.String(), values=fields.String(), allow_none=True)
    extra = fields.Dict()
    renamed = fields.String(data_key="shown", attribute="stored")


class WithNested(Schema):
    id = fields.String()
    ok = fields.Boolean()
    inner = fields.Nested(Plain)


def rows():
    when = dt.datetime(2026, 11, 30, 6, 1, 2, 345678, tzinfo=dt.timezone.utc)
    return [
        {"id": uuid.uuid4(), "n": 3, "at": when, "files": {"document": {"sha256": "a" * 64, "size": 3}},
         "prints": {"document": "a" * 64}, "extra": {"k": [1, 2]}, "stored": "s", "ignored": object()},
        {"id": "x", "n": None, "at": None, "files": None, "prints": None, "extra": None, "stored": None},
        {"id": "only the id"},   # absent keys are left out, as marshmallow does
    ]


def test_the_same_answer_as_marshmallow():
    data = rows()
    assert dump_many(Plain, data) == Plain(many=True).dump(data)


def test_a_schema_with_other_fields_is_dumped_by_marshmallow():
    data = [{"id": "1", "ok": 1, "inner": rows()[1]}]
    assert dump_many(Plain, []) == []
    assert dump_many(WithNested, data) == WithNested(many=True).dump(data)

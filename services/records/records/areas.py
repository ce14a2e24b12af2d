"""The item kinds of the student record, one package each, found at import time.

Each area is a sub-package of `records` (profile/, status/, ...) with any of these modules:

  orm.py         its tables, on `records.orm.metadata` (one Alembic chain: records/migrations)
  repository.py  REPOSITORIES = {"name": (SqlRepository, FakeRepository)}: the unit of work
                 gives use cases `uow.<name>`, real or fake
  usecases.py    plain functions over a unit of work; HISTORY_READERS = {entity: may_read}
                 says who may read the history of its records
  importer.py    IMPORTERS = {"kind": Importer()}: rows of a spreadsheet, checked and written
                 by records.importing.run_import
  rpc.py         class Rpc: its nameko entrypoints (load, call a use case, dump), mixed into
                 RecordsService

So a developer adding an item kind adds a package and touches no line another kind owns.
"""
import functools
import importlib
import os
import pkgutil

_HERE = os.path.dirname(__file__)
_SKIP = {"migrations"}


@functools.cache
def _names() -> tuple:
    # the packages are fixed for the life of the process; scanning the folder on every unit of
    # work cost records ~8% of its time per event (issue 10, docs/benchmarks.md)
    return tuple(sorted(m.name for m in pkgutil.iter_modules([_HERE]) if m.ispkg and m.name not in _SKIP))


def names() -> list:
    return list(_names())


@functools.cache
def _found(module) -> tuple:
    return tuple(importlib.import_module(f"records.{name}.{module}") for name in _names()
                 if os.path.exists(os.path.join(_HERE, name, f"{module}.py")))


def _modules(module):
    return list(_found(module))


def load_tables():
    _modules("orm")


def rpc_mixins() -> tuple:
    return tuple(m.Rpc for m in _modules("rpc"))


def repositories() -> dict:
    out = {}
    for m in _modules("repository"):
        for key, pair in m.REPOSITORIES.items():
            assert key not in out, f"two areas define uow.{key}"
            out[key] = pair
    return out


def importers() -> dict:
    out = {}
    for m in _modules("importer"):
        for key, imp in m.IMPORTERS.items():
            assert key not in out, f"two areas define the import kind {key}"
            out[key] = imp
    return out


def history_readers() -> dict:
    out = {}
    for m in _modules("usecases"):
        out.update(getattr(m, "HISTORY_READERS", {}))
    return out


def item_kinds() -> dict:
    """{name: ItemKind} of the staff-entered item kinds (records/itemkit.py), in package order."""
    out = {}
    for m in _modules("usecases"):
        kind = getattr(m, "KIND", None)
        if kind is not None:
            out[kind.name] = kind
    return out

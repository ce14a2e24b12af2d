"""The fingerprint table and its outbox, behind a small interface; plus in-memory fakes."""
import io

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from portfolio_common.db import add_outbox_event

from .errors import AlreadyUploaded
from .orm import outbox, stored_files


class SqlFileRepository:
    def __init__(self, engine):
        self.engine = engine

    def exists_for(self, subject_id) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(stored_files.c.id).where(
                stored_files.c.subject_id == subject_id)).first() is not None

    def record(self, row: dict, envelope: dict):
        """The fingerprint and its event in one transaction."""
        try:
            with self.engine.begin() as conn:
                conn.execute(stored_files.insert().values(**row))
                add_outbox_event(conn, outbox, envelope)
        except IntegrityError:
            raise AlreadyUploaded("this outcome has already been uploaded") from None

    def find(self, file_id, tenant):
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(stored_files).where(
                stored_files.c.id == file_id, stored_files.c.tenant == tenant)).first()
        return dict(row._mapping) if row else None


class FakeFileRepository:
    def __init__(self, fail_on_record=None):
        self.rows, self.events = {}, []
        self.fail_on_record = fail_on_record

    def exists_for(self, subject_id):
        return any(r["subject_id"] == subject_id for r in self.rows.values())

    def record(self, row, envelope):
        if self.fail_on_record:
            raise self.fail_on_record
        if self.exists_for(row["subject_id"]):
            raise AlreadyUploaded("this outcome has already been uploaded")
        self.rows[row["id"]] = dict(row)
        self.events.append(envelope)

    def find(self, file_id, tenant):
        row = self.rows.get(str(file_id))
        return row if row and row["tenant"] == tenant else None


class FakeObjectStore:
    """Versioned buckets in memory, with the ObjectStore interface."""

    def __init__(self):
        self.objects = {}  # (bucket, key, version) -> bytes
        self._n = 0

    def bucket_for(self, tenant):
        return f"fake-{tenant}"

    def ensure_bucket(self, tenant):
        return self.bucket_for(tenant)

    def put_stream(self, bucket, key, stream, content_type="application/octet-stream"):
        data = b"".join(iter(lambda: stream.read(65536), b""))
        self._n += 1
        self.objects[(bucket, key, str(self._n))] = data
        return str(self._n)

    def promote(self, bucket, src_key, dst_key, content_type):
        src = max((k for k in self.objects if k[:2] == (bucket, src_key)), key=lambda k: int(k[2]))
        self._n += 1
        self.objects[(bucket, dst_key, str(self._n))] = self.objects[src]
        return str(self._n)

    def remove_version(self, bucket, key, version_id):
        self.objects.pop((bucket, key, version_id), None)

    def open(self, bucket, key, version_id=None):
        return io.BytesIO(self.objects[(bucket, key, version_id)])

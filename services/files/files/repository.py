"""The files database behind a small interface (uploads, fingerprints, outbox); plus fakes.

Every state change of an upload is conditional on the state it expects (`receiving`, an
offset), so two replicas racing on one upload cannot both win.
"""
import copy
import datetime as dt
import hashlib
import io
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from portfolio_common import sealing
from portfolio_common.db import add_outbox_event

from .domain import PACKAGE_KINDS
from .errors import StudentSealed, TicketUsed
from .orm import outbox, package_download_log, package_downloads, stored_files, uploads


def _now():
    return dt.datetime.now(dt.timezone.utc)


# The statements of an upload's hot path, built once: building one per call (values(**row))
# cost about 0.15 ms each in SQLAlchemy's construction and cache-key work, for every upload.
_BEGIN_UPLOAD = insert(uploads).on_conflict_do_nothing(index_elements=["subject_id", "attempt"]).returning(uploads)
_END_STORED = uploads.update().where(
    uploads.c.id == sa.bindparam("upload_id"), uploads.c.state == "receiving").values(
    state="stored", file_id=sa.bindparam("stored_file_id"), sha256=sa.bindparam("stored_sha256"),
    updated_at=sa.func.now())
_ADD_FILE = stored_files.insert()


class SqlFileRepository:
    def __init__(self, engine):
        self.engine = engine

    # ---------------------------------------------------------------- uploads

    def begin_upload(self, row: dict):
        """Insert the upload of a ticket's subject; (row, True) when new, else (existing, False).
        A sealed student's upload is refused by the database: StudentSealed (409)."""
        with self.engine.begin() as conn:
            try:
                made = conn.execute(_BEGIN_UPLOAD, row).first()
            except sa.exc.DBAPIError as exc:
                if sealing.is_sealed_error(exc):
                    raise StudentSealed("this student's portfolio is sealed") from exc
                raise
            if made is not None:
                return dict(made._mapping), True
            old = conn.execute(sa.select(uploads).where(uploads.c.subject_id == row["subject_id"],
                                                        uploads.c.attempt == row.get("attempt", 1))).first()
            return dict(old._mapping), False

    def get_upload(self, upload_id):
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(uploads).where(uploads.c.id == upload_id)).first()
        return dict(row._mapping) if row else None

    def advance_upload(self, upload_id, from_offset, values) -> bool:
        """Record received bytes: only if still receiving at `from_offset` (else a racing PATCH won)."""
        with self.engine.begin() as conn:
            res = conn.execute(uploads.update().where(
                uploads.c.id == upload_id, uploads.c.state == "receiving", uploads.c.offset == from_offset)
                .values(updated_at=sa.func.now(), **values))
        return res.rowcount == 1

    def finish_stored(self, upload_id, file_row: dict, envelope: dict):
        """The fingerprint, the upload's end and the event: one transaction."""
        with self.engine.begin() as conn:
            res = conn.execute(_END_STORED, {"upload_id": upload_id, "stored_file_id": file_row["id"],
                                             "stored_sha256": file_row["sha256"]})
            if res.rowcount != 1:
                raise TicketUsed("this upload already ended")
            conn.execute(_ADD_FILE, file_row)
            if envelope is not None:
                add_outbox_event(conn, outbox, envelope)

    def add_file(self, file_row: dict) -> bool:
        """A fingerprint row of a file not uploaded by anyone (an imported transfer package's
        evidence); its id is derived from what it is, so adding it again changes nothing.
        True when this call added it."""
        from sqlalchemy.dialects.postgresql import insert
        with self.engine.begin() as conn:
            res = conn.execute(insert(stored_files).values(**file_row).on_conflict_do_nothing())
        return res.rowcount == 1

    def finish_refused(self, upload_id, state: str, code: str, envelope) -> bool:
        """End a receiving upload as refused/expired/cancelled, with its release event."""
        with self.engine.begin() as conn:
            res = conn.execute(uploads.update().where(uploads.c.id == upload_id, uploads.c.state == "receiving")
                               .values(state=state, code=code, updated_at=sa.func.now()))
            if res.rowcount != 1:
                return False
            if envelope is not None:
                add_outbox_event(conn, outbox, envelope)
        return True

    def expired_uploads(self, now, limit=100):
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(uploads).where(uploads.c.state == "receiving", uploads.c.expires_at < now)
                                .order_by(uploads.c.expires_at).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    # ---------------------------------------------------------------- stored files

    def find(self, file_id, tenant):
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(stored_files).where(
                stored_files.c.id == file_id, stored_files.c.tenant == tenant)).first()
        return dict(row._mapping) if row else None

    def find_any(self, file_id):
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(stored_files).where(stored_files.c.id == file_id)).first()
        return dict(row._mapping) if row else None

    def files_of(self, tenant, student_id=None):
        q = sa.select(stored_files).where(stored_files.c.tenant == tenant)
        if student_id is not None:
            q = q.where(stored_files.c.student_id == student_id)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q.order_by(stored_files.c.created_at)).all()]

    def set_file_state(self, file_id, state):
        with self.engine.begin() as conn:
            conn.execute(stored_files.update().where(stored_files.c.id == file_id).values(state=state))

    def packages_older_than(self, before, limit=100) -> list:
        """Uploaded transfer packages still stored, uploaded before `before` (oldest first)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(stored_files).where(
                stored_files.c.kind.in_(PACKAGE_KINDS), stored_files.c.state == "stored",
                stored_files.c.created_at < before).order_by(stored_files.c.created_at).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def mark_purged(self, file_id) -> bool:
        """A stored package whose bytes were deleted: state `purged` (once; the row and its
        fingerprint stay, as the record that it existed and what it was)."""
        with self.engine.begin() as conn:
            res = conn.execute(stored_files.update().where(
                stored_files.c.id == file_id, stored_files.c.state == "stored").values(state="purged"))
        return res.rowcount == 1

    def add_event(self, envelope):
        with self.engine.begin() as conn:
            add_outbox_event(conn, outbox, envelope)


class FakeFileRepository:
    """The same interface in memory, for use-case unit tests."""

    def __init__(self, fail_on_store=None):
        self.uploads, self.rows, self.events = {}, {}, []
        self.fail_on_store = fail_on_store

    def begin_upload(self, row):
        for up in self.uploads.values():
            if (str(up["subject_id"]), up.get("attempt", 1)) == (str(row["subject_id"]), row.get("attempt", 1)):
                return copy.deepcopy(up), False
        full = {"offset": 0, "segments": [], "type_name": None, "code": None, "file_id": None,
                "sha256": None, **row}
        self.uploads[str(row["id"])] = full
        return copy.deepcopy(full), True

    def get_upload(self, upload_id):
        up = self.uploads.get(str(upload_id))
        return copy.deepcopy(up) if up else None

    def advance_upload(self, upload_id, from_offset, values):
        up = self.uploads[str(upload_id)]
        if up["state"] != "receiving" or up["offset"] != from_offset:
            return False
        up.update(copy.deepcopy(values))
        return True

    def finish_stored(self, upload_id, file_row, envelope):
        if self.fail_on_store:
            raise self.fail_on_store
        up = self.uploads[str(upload_id)]
        if up["state"] != "receiving":
            raise TicketUsed("this upload already ended")
        up.update(state="stored", file_id=file_row["id"], sha256=file_row["sha256"])
        self.rows[str(file_row["id"])] = dict(file_row)
        if envelope is not None:
            self.events.append(envelope)

    def add_file(self, file_row):
        if str(file_row["id"]) in self.rows:
            return False
        self.rows[str(file_row["id"])] = dict(file_row)
        return True

    def finish_refused(self, upload_id, state, code, envelope):
        up = self.uploads[str(upload_id)]
        if up["state"] != "receiving":
            return False
        up.update(state=state, code=code)
        if envelope is not None:
            self.events.append(envelope)
        return True

    def expired_uploads(self, now, limit=100):
        return [copy.deepcopy(u) for u in self.uploads.values()
                if u["state"] == "receiving" and u["expires_at"] < now][:limit]

    def find(self, file_id, tenant):
        row = self.rows.get(str(file_id))
        return row if row and row["tenant"] == tenant else None

    def find_any(self, file_id):
        return self.rows.get(str(file_id))

    def files_of(self, tenant, student_id=None):
        return [r for r in self.rows.values() if r["tenant"] == tenant
                and (student_id is None or str(r["student_id"]) == str(student_id))]

    def set_file_state(self, file_id, state):
        self.rows[str(file_id)]["state"] = state

    def packages_older_than(self, before, limit=100):
        return sorted((copy.deepcopy(r) for r in self.rows.values() if r["kind"] in PACKAGE_KINDS
                       and r["state"] == "stored" and r["created_at"] < before), key=lambda r: r["created_at"])[:limit]

    def mark_purged(self, file_id):
        row = self.rows.get(str(file_id))
        if row is None or row["state"] != "stored":
            return False
        row["state"] = "purged"
        return True

    def add_event(self, envelope):
        self.events.append(envelope)


class SqlDownloadRepository:
    """Packages kept for download (package_downloads) and their download log (append-only)."""

    def __init__(self, engine):
        self.engine = engine

    def add(self, row: dict):
        with self.engine.begin() as conn:
            conn.execute(package_downloads.insert().values(**row))

    def get(self, download_id):
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(package_downloads).where(package_downloads.c.id == download_id)).first()
        return dict(row._mapping) if row else None

    def record_download(self, entry: dict) -> bool:
        """Log one download; False when its ticket was used already (the primary key)."""
        with self.engine.begin() as conn:
            res = conn.execute(insert(package_download_log).values(**entry)
                               .on_conflict_do_nothing(index_elements=["ticket_id"]))
        return res.rowcount == 1

    def log_of(self, download_id) -> list:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(package_download_log).where(
                package_download_log.c.download_id == download_id).order_by(package_download_log.c.at)).all()
        return [dict(r._mapping) for r in rows]

    def due_to_expire(self, now, limit=100) -> list:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(package_downloads).where(
                package_downloads.c.state == "stored", package_downloads.c.expires_at <= now)
                .order_by(package_downloads.c.expires_at).limit(limit)).all()
        return [dict(r._mapping) for r in rows]

    def mark_expired(self, download_id, now) -> bool:
        with self.engine.begin() as conn:
            res = conn.execute(package_downloads.update().where(
                package_downloads.c.id == download_id, package_downloads.c.state == "stored")
                .values(state="expired", expired_at=now))
        return res.rowcount == 1


class FakeDownloadRepository:
    def __init__(self):
        self.rows, self.log = {}, []

    def add(self, row):
        self.rows[str(row["id"])] = dict(row, created_at=_now())

    def get(self, download_id):
        row = self.rows.get(str(download_id))
        return copy.deepcopy(row) if row else None

    def record_download(self, entry):
        if any(str(e["ticket_id"]) == str(entry["ticket_id"]) for e in self.log):
            return False
        self.log.append(dict(entry, at=_now()))
        return True

    def log_of(self, download_id):
        return [e for e in self.log if str(e["download_id"]) == str(download_id)]

    def due_to_expire(self, now, limit=100):
        return [copy.deepcopy(r) for r in self.rows.values() if r["state"] == "stored" and r["expires_at"] <= now]

    def mark_expired(self, download_id, now):
        row = self.rows[str(download_id)]
        if row["state"] != "stored":
            return False
        row.update(state="expired", expired_at=now)
        return True


class FakeObjectStore:
    """Versioned buckets in memory, with the ObjectStore interface."""

    def __init__(self):
        self.objects = {}  # (bucket, key, version) -> bytes
        self._n = 0

    def bucket_for(self, tenant):
        return f"fake-{tenant}"

    def ensure_bucket(self, tenant):
        return self.bucket_for(tenant)

    def put_stream(self, bucket, key, stream, content_type="application/octet-stream", length=-1, sha256=None):
        data = b"".join(iter(lambda: stream.read(65536), b""))
        if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
            raise ValueError("XAmzContentSHA256Mismatch")  # what the S3 server answers
        self._n += 1
        self.objects[(bucket, key, str(self._n))] = data
        return str(self._n)

    def promote(self, bucket, src_key, src_version, dst_key, content_type):
        self._n += 1
        self.objects[(bucket, dst_key, str(self._n))] = self.objects[(bucket, src_key, src_version)]
        return str(self._n)

    def remove_version(self, bucket, key, version_id, missing_ok=False):
        self.objects.pop((bucket, key, version_id), None)

    def open(self, bucket, key, version_id=None, offset=0, length=0):
        data = self.objects[(bucket, key, version_id)]
        return io.BytesIO(data[offset:offset + length] if length else data[offset:])

    def read_all(self, bucket, key, version_id=None, chunk=1024 * 1024):
        data = self.objects[(bucket, key, version_id)]
        for i in range(0, len(data), chunk):
            yield data[i:i + chunk]


def new_id():
    return uuid.uuid4()

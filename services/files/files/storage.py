"""ObjectStore: the only place that talks to S3 (standard S3 calls via the minio client).

Works against any S3 store with versioning and Object Lock: SeaweedFS (`make up`, the tests),
MinIO (compose), or a cloud store. Every call is timed (`observe(operation, seconds)`, the
files_s3_request_seconds histogram) and every transport failure becomes StorageUnavailable.
"""
import datetime as dt
import io
import tempfile
import threading
import time

import minio.api
import urllib3
from minio import Minio
from minio.commonconfig import COMPLIANCE, ENABLED, CopySource, Filter
from minio.error import S3Error
from minio.lifecycleconfig import (AbortIncompleteMultipartUpload, Expiration, LifecycleConfig,
                                   NoncurrentVersionExpiration, Rule)
from minio.retention import Retention
from minio.versioningconfig import VersioningConfig

from .errors import StorageUnavailable, UploadTruncated

PART_SIZE = 5 * 1024 * 1024
# a body of known length up to this size goes in one PUT (one S3 request instead of a multipart
# upload's four); larger ones in PART_SIZE parts. The one PUT holds the body in memory once.
SINGLE_PUT_MAX = 16 * 1024 * 1024
SPOOL_CHUNK = 1024 * 1024
# a body of declared length up to this (the document limit) is received in memory rather than on
# disk: the single PUT holds it in memory anyway, and the write to the spool file and the read
# back cost the replica's kernel a copy each way (docs/benchmarks.md "Uploads")
SPOOL_MEMORY_MAX = 4 * 1024 * 1024
TRANSIENT_PREFIXES = ("quarantine/",)
DOWNLOADS_PREFIX = "downloads/"   # packages kept a day for one person's download (files/downloads.py)


# The payload hash of a single PUT, when the caller already has it. Over plain HTTP the minio
# client signs each request with the SHA-256 of its body (x-amz-content-sha256), which it
# computes itself: a second pass over every byte after the Inspector's own SHA-256 of the same
# bytes. put_stream(sha256=...) hands the fingerprint over instead, for that one request of
# that thread: the value minio would compute, as it is the hash of the same bytes. AWS S3 and
# MinIO compare it with what they receive (XAmzContentSHA256Mismatch); SeaweedFS 4.48 does not
# (measured). Any other body (multipart parts, other calls) is hashed by minio as before.
_payload_hash = threading.local()
_minio_sha256_hash = minio.api.sha256_hash


def _sha256_hash_known_or_computed(data):
    known = getattr(_payload_hash, "value", None)
    if known is not None and data is not None and len(data) == known[0]:
        _payload_hash.value = None  # once: the PUT's body
        return known[1]
    return _minio_sha256_hash(data)


minio.api.sha256_hash = _sha256_hash_known_or_computed


class ObjectStore:
    def __init__(self, endpoint, access_key, secret_key, *, secure=False, prefix="portfolio",
                 verify_tls=True, observe=None):
        if secure and not verify_tls:
            http = urllib3.PoolManager(cert_reqs="CERT_NONE", maxsize=32)
        else:
            http = urllib3.PoolManager(maxsize=32, retries=urllib3.Retry(total=2, backoff_factor=0.2))
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure,
                            http_client=http)
        self.prefix = prefix
        self.observe = observe or (lambda op, seconds: None)
        self._ready = set()
        self._lock = threading.Lock()

    def _call(self, op, fn, *args, **kwargs):
        t = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable("object storage is unavailable") from exc
        except S3Error as exc:
            if exc.code in ("InternalError", "ServiceUnavailable", "SlowDown", "AccessDenied",
                            "InvalidAccessKeyId", "SignatureDoesNotMatch"):
                raise StorageUnavailable(f"object storage refused {op}: {exc.code}") from exc
            raise
        finally:
            self.observe(op, time.perf_counter() - t)

    def bucket_for(self, tenant: str) -> str:
        return f"{self.prefix}-{tenant}".lower()

    def ensure_bucket(self, tenant: str) -> str:
        """One bucket per tenant, object lock enabled at creation (which implies versioning)."""
        bucket = self.bucket_for(tenant)
        if bucket in self._ready:
            return bucket
        with self._lock:
            if not self._call("bucket_exists", self.client.bucket_exists, bucket):
                try:
                    self._call("make_bucket", self.client.make_bucket, bucket, object_lock=True)
                except S3Error as exc:  # created concurrently by another replica
                    if exc.code not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise
            self._call("set_versioning", self.client.set_bucket_versioning, bucket, VersioningConfig(ENABLED))
            # A crash between quarantine and promotion leaves bytes nobody owns: swept after a
            # day (promoted objects live under outcomes/, performances/ and proofs/ and are not touched).
            # Packages kept for download (downloads/) live a day too: the files sweeper deletes
            # them (downloads.sweep_expired_downloads); the rule is the store's own backstop where
            # it enforces lifecycle (MinIO, cloud S3; SeaweedFS stores the rule: STACK-NOTES).
            self._call("set_lifecycle", self.client.set_bucket_lifecycle, bucket, LifecycleConfig([Rule(
                ENABLED, rule_filter=Filter(prefix=prefix), rule_id=rule_id,
                expiration=Expiration(days=1),
                noncurrent_version_expiration=NoncurrentVersionExpiration(noncurrent_days=1),
                abort_incomplete_multipart_upload=AbortIncompleteMultipartUpload(days_after_initiation=1))
                for prefix, rule_id in (("quarantine/", "sweep-quarantine"), (DOWNLOADS_PREFIX, "expire-downloads"))]))
            self._ready.add(bucket)
        return bucket

    def put_stream(self, bucket, key, stream, content_type="application/octet-stream", length=-1, sha256=None):
        """Stream a body into one object; returns the version id. A known `length` up to
        SINGLE_PUT_MAX (16 MB) is one PUT; anything else goes in 5 MB parts (multipart), read
        one part at a time, so memory stays bounded whatever the file's size.

        `sha256` (hex): the body's SHA-256 when already known (the Inspector's fingerprint); a
        single PUT is then signed with it rather than hashed again (AWS S3 and MinIO refuse a
        PUT whose bytes do not have it; SeaweedFS 4.48 does not check). Ignored for a
        multipart upload."""
        part_size = length if PART_SIZE < length <= SINGLE_PUT_MAX else PART_SIZE
        single = 0 <= length <= SINGLE_PUT_MAX
        _payload_hash.value = (length, sha256) if sha256 and single else None
        try:
            res = self._call("put_object", self.client.put_object, bucket, key, stream, length=length,
                             part_size=part_size, content_type=content_type)
        finally:
            _payload_hash.value = None
        return res.version_id

    def promote(self, bucket, src_key, src_version, dst_key, content_type):
        """Copy a verified object out of quarantine (server side); returns the new version id."""
        res = self._call("copy_object", self.client.copy_object, bucket, dst_key,
                         CopySource(bucket, src_key, version_id=src_version),
                         metadata={"Content-Type": content_type}, metadata_directive="REPLACE")
        return res.version_id

    def remove_version(self, bucket, key, version_id, missing_ok=False):
        """Delete one version for good (a quarantined or never-committed object, a purged
        package). `missing_ok`: a version that is already gone is not an error."""
        try:
            self._call("remove_object", self.client.remove_object, bucket, key, version_id=version_id)
        except S3Error as exc:
            if not (missing_ok and exc.code in ("NoSuchKey", "NoSuchVersion")):
                raise

    def open(self, bucket, key, version_id=None, offset=0, length=0):
        """A streaming response (read / stream / close / release_conn); offset/length: a range."""
        return self._call("get_object", self.client.get_object, bucket, key, version_id=version_id,
                          offset=offset, length=length)

    def stat(self, bucket, key, version_id=None):
        return self._call("stat_object", self.client.stat_object, bucket, key, version_id=version_id)

    def versions(self, bucket, prefix=""):
        return list(self._call("list_objects", self.client.list_objects, bucket, prefix=prefix,
                               recursive=True, include_version=True))

    def retain(self, bucket, key, version_id, until: dt.datetime):
        """COMPLIANCE retention on one version: nobody, root included, deletes or shortens it."""
        self._call("set_retention", self.client.set_object_retention, bucket, key,
                   Retention(COMPLIANCE, until), version_id=version_id)

    def legal_hold(self, bucket, key, version_id):
        """Legal hold on one version (a locked selection's evidence, issue 9 item 4): it cannot
        be deleted or overwritten until the hold is lifted (a separate, audited decision)."""
        self._call("legal_hold", self.client.enable_object_legal_hold, bucket, key, version_id=version_id)

    def release_hold(self, bucket, key, version_id):
        """Lift the legal hold of one version (a re-lock after a correction no longer locks it:
        files/locked.py). COMPLIANCE retention, if any, stays."""
        self._call("legal_hold_off", self.client.disable_object_legal_hold, bucket, key, version_id=version_id)

    def is_held(self, bucket, key, version_id) -> bool:
        """Whether the S3 server reports a legal hold on that version (a version that never had
        one is answered NoSuchObjectLegalHold by SeaweedFS: not held)."""
        try:
            return bool(self._call("legal_hold_status", self.client.is_object_legal_hold_enabled, bucket, key,
                                   version_id=version_id))
        except S3Error as exc:
            if exc.code == "NoSuchObjectLegalHold":
                return False
            raise

    def read_all(self, bucket, key, version_id=None, chunk=1024 * 1024):
        """Yield an object's bytes in chunks (verifier, assembling a resumed upload)."""
        resp = self.open(bucket, key, version_id)
        try:
            yield from resp.stream(chunk)
        finally:
            resp.close()
            resp.release_conn()


def spool_body(stream, expected=None, inspect=None, directory=None, memory_max=SPOOL_MEMORY_MAX):
    """Receive a whole request body, each chunk going through `inspect` first (BodyReader: size
    limit, type, hash, truncation), so it never grows past the inspector's limit (10 MB for
    media). Returns a file object at offset 0; the caller closes it.

    - A declared length (`expected`, bytes) up to `memory_max` (4 MB): held in memory, as the
      one PUT will hold it anyway; at most that much per request thread.
    - Anything else (media up to 10 MB, or no declared length): an anonymous temporary file on
      disk in `directory` (None: TMPDIR or /tmp); it has no name, so the OS frees it when it is
      closed or the process dies.

    Raises what `inspect` raises, or UploadTruncated; nothing is kept then."""
    reader = BodyReader(stream, expected=expected, inspect=inspect)
    if expected is not None and expected <= memory_max:
        chunks = []
        while chunk := reader.read(SPOOL_CHUNK):
            chunks.append(chunk)
        return io.BytesIO(b"".join(chunks))   # shares the joined bytes: minio's read takes them as they are
    fh = tempfile.TemporaryFile(dir=directory)
    try:
        while chunk := reader.read(SPOOL_CHUNK):
            fh.write(chunk)
        fh.seek(0)
    except BaseException:
        fh.close()
        raise
    return fh


class BodyReader(io.RawIOBase):
    """The request body as minio reads it: each chunk goes through `inspect` (size, type,
    hash: it raises a refusal as soon as one is certain), and a body that ends before its
    declared length raises UploadTruncated, so a partial file is never committed.

    With `keep_partial` (a resumable PATCH) a body that breaks off ends the object there instead:
    the bytes that did arrive are kept and the client resumes after them.
    """

    def __init__(self, stream, expected=None, inspect=None, keep_partial=False):
        self.stream = stream
        self.expected = expected
        self.inspect = inspect or (lambda chunk: None)
        self.keep_partial = keep_partial
        self.size = 0
        self.broken = False

    def readable(self):
        return True

    def read(self, n=-1):
        if self.broken:
            return b""
        want = n if n is not None and n >= 0 else 1024 * 1024
        if self.expected is not None:
            want = min(want, self.expected - self.size)
            if want <= 0:
                return b""
        try:
            chunk = self.stream.read(want)
        except Exception as exc:  # noqa: BLE001 - werkzeug ClientDisconnected, socket errors
            if self.keep_partial:
                self.broken = True
                return b""
            raise UploadTruncated("the body ended before its declared length") from exc
        if not chunk and self.expected is not None and self.size < self.expected:
            if self.keep_partial:
                self.broken = True
                return b""
            raise UploadTruncated("the body ended before its declared length")
        if chunk:
            self.inspect(chunk)
            self.size += len(chunk)
        return chunk

    def readinto(self, b):
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

"""ObjectStore: the only place that talks to S3 (standard S3 calls via the minio client)."""
import io
import threading

import urllib3
from minio import Minio
from minio.commonconfig import ENABLED, CopySource, Filter
from minio.lifecycleconfig import Expiration, LifecycleConfig, NoncurrentVersionExpiration, Rule
from minio.versioningconfig import VersioningConfig

from .errors import StorageUnavailable

PART_SIZE = 5 * 1024 * 1024


class ObjectStore:
    def __init__(self, endpoint, access_key, secret_key, *, secure=False, prefix="portfolio",
                 verify_tls=True):
        http = None
        if secure and not verify_tls:
            http = urllib3.PoolManager(cert_reqs="CERT_NONE", maxsize=20)
        else:
            http = urllib3.PoolManager(maxsize=20, retries=urllib3.Retry(total=2, backoff_factor=0.2))
        self.client = Minio(endpoint, access_key=access_key, secret_key=secret_key, secure=secure,
                            http_client=http)
        self.prefix = prefix
        self._ready = set()
        self._lock = threading.Lock()

    def bucket_for(self, tenant: str) -> str:
        return f"{self.prefix}-{tenant}".lower()

    def ensure_bucket(self, tenant: str) -> str:
        """One bucket per tenant, object lock enabled at creation (which implies versioning)."""
        bucket = self.bucket_for(tenant)
        if bucket in self._ready:
            return bucket
        with self._lock:
            try:
                if not self.client.bucket_exists(bucket):
                    try:
                        self.client.make_bucket(bucket, object_lock=True)
                    except Exception as exc:  # noqa: BLE001 - created concurrently
                        if "BucketAlreadyOwnedByYou" not in str(exc) and "BucketAlreadyExists" not in str(exc):
                            raise
                self.client.set_bucket_versioning(bucket, VersioningConfig(ENABLED))
                # A crash between quarantine and promotion leaves an object nobody owns: swept
                # after a day (promoted objects live under outcomes/ and are not touched).
                self.client.set_bucket_lifecycle(bucket, LifecycleConfig([Rule(
                    ENABLED, rule_filter=Filter(prefix="quarantine/"), rule_id="sweep-quarantine",
                    expiration=Expiration(days=1),
                    noncurrent_version_expiration=NoncurrentVersionExpiration(noncurrent_days=1))]))
            except (urllib3.exceptions.HTTPError, OSError) as exc:
                raise StorageUnavailable("object storage is unavailable") from exc
            self._ready.add(bucket)
        return bucket

    def put_stream(self, bucket, key, stream, content_type="application/octet-stream"):
        try:
            res = self.client.put_object(bucket, key, stream, length=-1, part_size=PART_SIZE,
                                         content_type=content_type)
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable("object storage is unavailable") from exc
        return res.version_id

    def promote(self, bucket, src_key, dst_key, content_type):
        """Copy a verified object out of quarantine; returns the new version id."""
        try:
            res = self.client.copy_object(bucket, dst_key, CopySource(bucket, src_key))
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            raise StorageUnavailable("object storage is unavailable") from exc
        return res.version_id

    def remove_version(self, bucket, key, version_id):
        """Delete one version for good (a quarantined or never-committed object)."""
        self.client.remove_object(bucket, key, version_id=version_id)

    def open(self, bucket, key, version_id=None):
        return self.client.get_object(bucket, key, version_id=version_id)

    def stat(self, bucket, key, version_id=None):
        return self.client.stat_object(bucket, key, version_id=version_id)

    def versions(self, bucket, prefix):
        return list(self.client.list_objects(bucket, prefix=prefix, recursive=True, include_version=True))


class MeasuringReader(io.RawIOBase):
    """Wraps the request body: counts, hashes, keeps the first bytes for sniffing, and stops
    reading once the limit is passed (so an oversized body never lands whole)."""

    def __init__(self, stream, limit, hasher):
        self.stream = stream
        self.limit = limit
        self.hasher = hasher
        self.size = 0
        self.head = b""
        self.over_limit = False

    def readable(self):
        return True

    def read(self, n=-1):
        if self.over_limit:
            return b""
        want = self.limit + 1 - self.size
        chunk = self.stream.read(want if n is None or n < 0 else min(n, want))
        if not chunk:
            return b""
        self.size += len(chunk)
        if self.size > self.limit:
            self.over_limit = True
            return b""
        if len(self.head) < 16:
            self.head += chunk[: 16 - len(self.head)]
        self.hasher.update(chunk)
        return chunk

"""Verifier: a tenant's bucket against the fingerprints in the files database.

    portfolio-files-verify --tenant day [--tenant ce]     (or: python -m files.verify ...)

For every stored file it re-reads the recorded version and re-hashes it, and it walks the
bucket's evidence folders (outcomes/, performances/, proofs/) for what the database does not know:

  missing  the recorded version is gone, or the key now ends in a delete marker
  altered  the bytes no longer hash to the fingerprint, or the key was overwritten by a
           newer version than the one recorded
  extra    an evidence object the database has no fingerprint for

One line per finding, a summary per tenant; exit status 1 when anything was found, 2 when the
store or the database could not be read. Fingerprints live apart from the bytes (DOMAIN.md: the
2021 loss of 25,210 files was recovered by fingerprint), so this is how a restore is checked.
Uses DATABASE_URL and S3_* like the service (an operator's read-only S3 keys are enough).
"""
import argparse
import hashlib
import sys

from minio.error import S3Error

EVIDENCE_PREFIXES = ("outcomes/", "performances/", "proofs/")


def verify_tenant(repo, store, tenant, out=print) -> dict:
    """Findings for one tenant: {"missing": [...], "altered": [...], "extra": [...], "checked": n}."""
    found = {"missing": [], "altered": [], "extra": [], "checked": 0}
    # a purged transfer package's bytes were deleted on purpose (usecases.purge_old_packages)
    rows = [r for r in repo.files_of(tenant) if r.get("state") != "purged"]
    bucket = store.bucket_for(tenant)
    latest = {}
    for prefix in EVIDENCE_PREFIXES:
        for v in store.versions(bucket, prefix):
            if v.is_latest in (True, "true", "True") or getattr(v, "is_latest", None) is True:
                latest[v.object_name] = v
    known = set()
    for row in rows:
        found["checked"] += 1
        key, version = row["key"], row["version_id"]
        known.add(key)
        head = latest.get(key)
        try:
            digest, size = hashlib.sha256(), 0
            for chunk in store.read_all(row["bucket"], key, version):
                digest.update(chunk)
                size += len(chunk)
        except S3Error as exc:
            if exc.code in ("NoSuchKey", "NoSuchVersion", "InvalidArgument", "MethodNotAllowed"):
                found["missing"].append(row)
                out(f"missing  {row['id']}  {bucket}/{key}  version {version}  ({exc.code})")
                continue
            raise
        if digest.hexdigest() != row["sha256"] or size != row["size"]:
            found["altered"].append(row)
            out(f"altered  {row['id']}  {bucket}/{key}  sha256 {digest.hexdigest()} != {row['sha256']}")
        elif head is None or head.is_delete_marker:
            found["missing"].append(row)
            out(f"missing  {row['id']}  {bucket}/{key}  deleted (recorded version {version} still recoverable)")
        elif head.version_id != version:
            found["altered"].append(row)
            out(f"altered  {row['id']}  {bucket}/{key}  overwritten by version {head.version_id}")
    for key, v in sorted(latest.items()):
        if key not in known and not v.is_delete_marker:
            found["extra"].append(key)
            out(f"extra    -  {bucket}/{key}  version {v.version_id}  (no fingerprint)")
    out(f"{tenant}: {found['checked']} checked, {len(found['missing'])} missing, "
        f"{len(found['altered'])} altered, {len(found['extra'])} extra")
    return found


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="portfolio-files-verify", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tenant", action="append", required=True, help="tenant code (repeatable)")
    args = parser.parse_args(argv)
    from portfolio_common.config import database_url, env
    from portfolio_common.db import make_engine
    from .repository import SqlFileRepository
    from .storage import ObjectStore
    repo = SqlFileRepository(make_engine(database_url("files")))
    store = ObjectStore(env("S3_ENDPOINT", "127.0.0.1:9000"), env("S3_ACCESS_KEY"), env("S3_SECRET_KEY"),
                        secure=env("S3_SECURE", "0") == "1", prefix=env("S3_BUCKET_PREFIX", "portfolio"),
                        verify_tls=env("S3_VERIFY_TLS", "1") == "1")
    bad = False
    try:
        for tenant in args.tenant:
            f = verify_tenant(repo, store, tenant)
            bad = bad or bool(f["missing"] or f["altered"] or f["extra"])
    except Exception as exc:  # noqa: BLE001 - an operator's tool: say what failed
        print(f"verify: could not complete: {exc!r}", file=sys.stderr)
        return 2
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

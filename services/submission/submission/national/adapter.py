"""The national-gateway adapter: sends a package to NATIONAL_ENDPOINT and returns the receipt.

`NationalGateway.submit(fh)` POSTs the package (streamed from the file object) to
`<NATIONAL_ENDPOINT>/packages` and returns the receipt file's bytes. Refusals:
- the endpoint cannot be reached, times out or answers 5xx: NationalUnavailable
  (`national_unavailable`, nothing is recorded; the registrar retries);
- it refuses the package as a whole (4xx): PackageRefused (`national_package_refused`, with
  the national side's reason).
`FakeNationalGateway` runs the simulator's check in-process for unit tests.
"""

from portfolio_common import clock
from portfolio_common.config import env
from portfolio_common.errors import PortfolioError

from ..errors import Invalid

DEFAULT_ENDPOINT = "http://127.0.0.1:8099"
DEFAULT_SCHOOL_CODE = "050407"   # DOMAIN.md: believed to be this school's; confirm with the registrar
TIMEOUT_SECONDS = 120


def school_code() -> str:
    """學校代碼 on the rosters' cover sheet (NATIONAL_SCHOOL_CODE)."""
    return env("NATIONAL_SCHOOL_CODE", DEFAULT_SCHOOL_CODE)


class NationalUnavailable(PortfolioError):
    code = "national_unavailable"
    http_status = 503


class PackageRefused(Invalid):
    code = "national_package_refused"


class NationalGateway:
    def __init__(self, endpoint=None, timeout=TIMEOUT_SECONDS):
        self.endpoint = (endpoint or env("NATIONAL_ENDPOINT", DEFAULT_ENDPOINT)).rstrip("/")
        self.timeout = timeout

    def submit(self, fh) -> bytes:
        import requests
        fh.seek(0)
        try:
            r = requests.post(f"{self.endpoint}/packages", data=fh, timeout=self.timeout,
                              headers={"Content-Type": "application/zip"})
        except requests.RequestException as exc:
            raise NationalUnavailable(f"the national endpoint cannot be reached: {type(exc).__name__}") from None
        if r.status_code >= 500:
            raise NationalUnavailable(f"the national endpoint answered {r.status_code}")
        if r.status_code >= 400:
            try:
                reason = r.json().get("reason", "")
            except ValueError:
                reason = r.text[:200]
            raise PackageRefused(f"the national side refused the package: {reason}")
        return r.content


class FakeNationalGateway:
    """The simulator's check, in-process; `unavailable=True` makes it fail like a dead endpoint."""

    def __init__(self, course_codes=None, unavailable=False):
        self.course_codes, self.unavailable, self.sent = course_codes, unavailable, 0

    def submit(self, fh) -> bytes:
        import json
        from .simulator import PackageInvalid, check_package
        if self.unavailable:
            raise NationalUnavailable("the national endpoint cannot be reached")
        self.sent += 1
        try:
            receipt = check_package(fh, clock.today_in_school(), self.course_codes, receipt_id="")
        except PackageInvalid as exc:
            raise PackageRefused(str(exc)) from None
        receipt["receipt_id"] = f"{receipt['school_code']}-{receipt['school_year']}-{receipt['semester']}-{self.sent:04d}"
        return json.dumps(receipt, ensure_ascii=False).encode()


class EvidenceUnavailable(PortfolioError):
    """The files service did not hand over an evidence file: nothing is sent; retry later."""
    code = "storage_unavailable"
    http_status = 503


class FilesEvidence:
    """The package's evidence source: each file's bytes streamed from the files service (which
    reads the object store), asked as `system:submission` of the registrar's tenant.

    `open(file_id)` is a context manager giving a readable binary stream: files first checks the
    caller and answers a link valid a few minutes for that file only (POST /v1/files/<id>/link),
    then the bytes come chunk by chunk (GET with stream=True), never whole in memory.
    EvidenceUnavailable when files cannot be reached or does not answer the file."""

    def __init__(self, token, files_url=None, timeout=TIMEOUT_SECONDS):
        self.token = token                    # () -> caller token for the audience `files`
        self.files_url = (files_url or env("FILES_URL", "http://127.0.0.1:8081")).rstrip("/")
        self.timeout = timeout

    def open(self, file_id):
        import contextlib
        from urllib.parse import quote

        import requests

        @contextlib.contextmanager
        def stream():
            try:
                link = requests.post(f"{self.files_url}/v1/files/{quote(str(file_id), safe='')}/link",
                                     json={"disposition": "attachment"}, timeout=30,
                                     headers={"X-Portfolio-Caller": self.token()})
                if link.status_code != 200:
                    raise EvidenceUnavailable(f"files answered {link.status_code} for an evidence link")
                resp = requests.get(f"{self.files_url}/{link.json()['path']}", stream=True, timeout=self.timeout)
            except requests.RequestException as exc:
                raise EvidenceUnavailable(f"the files service cannot be reached: {type(exc).__name__}") from None
            try:
                if resp.status_code != 200:
                    raise EvidenceUnavailable(f"files answered {resp.status_code} for an evidence file")
                resp.raw.decode_content = True
                yield resp.raw
            finally:
                resp.close()
        return stream()


class FilesTransferPackages:
    """The files service's side of a transfer import, asked as `system:submission` of the
    registrar's tenant (files/README.md "Transfer packages").

    `open(file_id)`: a context manager of (a temporary file holding the uploaded zip, meta
    {kind, student_id, sha256, size}): files checks the caller and answers a link with the
    file's kind and student, then the bytes are copied to disk while hashed (never whole in
    memory); the file is deleted when the context ends.
    `unpack(file_id, student_id, entries)`: files keeps each listed evidence entry of the zip
    ([{path, sha256, size, media_type}]) as a file of the student, its fingerprint checked
    again: {sha256: {file_id, filename, content_type, size}}.
    EvidenceUnavailable (503 storage_unavailable) when files cannot be reached or refuses;
    NotFound when files does not know the file for this tenant."""

    def __init__(self, token, files_url=None, timeout=TIMEOUT_SECONDS):
        self.token = token                    # () -> caller token for the audience `files`
        self.files_url = (files_url or env("FILES_URL", "http://127.0.0.1:8081")).rstrip("/")
        self.timeout = timeout

    def open(self, file_id):
        import contextlib
        from urllib.parse import quote

        import requests

        from portfolio_common.errors import NotFound

        from .rosters import _copy_hashed, remove_quietly, spooled_package_file

        @contextlib.contextmanager
        def opened():
            fh = spooled_package_file()
            try:
                try:
                    link = requests.post(f"{self.files_url}/v1/files/{quote(str(file_id), safe='')}/link",
                                         json={"disposition": "attachment"}, timeout=30,
                                         headers={"X-Portfolio-Caller": self.token()})
                    if link.status_code == 404:
                        raise NotFound("package not found")
                    if link.status_code == 403 and (link.json().get("error") or {}).get("code") == "sealed_read_required":
                        from portfolio_common.sealing import StudentSealed
                        raise StudentSealed("this student is sealed: nothing is imported")
                    if link.status_code != 200:
                        raise EvidenceUnavailable(f"files answered {link.status_code} for a package link")
                    meta = link.json()
                    with requests.get(f"{self.files_url}/{meta['path']}", stream=True, timeout=self.timeout) as resp:
                        if resp.status_code != 200:
                            raise EvidenceUnavailable(f"files answered {resp.status_code} for a package")
                        resp.raw.decode_content = True
                        digest, size = _copy_hashed(resp.raw, fh)
                except requests.RequestException as exc:
                    raise EvidenceUnavailable(f"the files service cannot be reached: {type(exc).__name__}") from None
                fh.flush()
                fh.seek(0)
                yield fh, {"kind": meta.get("kind"), "student_id": meta.get("student_id"), "sha256": digest,
                           "size": size}
            finally:
                fh.close()
                remove_quietly(fh.name)
        return opened()

    def unpack(self, file_id, student_id, entries):
        from urllib.parse import quote

        import requests
        try:
            resp = requests.post(f"{self.files_url}/v1/files/{quote(str(file_id), safe='')}/unpack",
                                 json={"student_id": str(student_id), "entries": entries}, timeout=self.timeout,
                                 headers={"X-Portfolio-Caller": self.token()})
        except requests.RequestException as exc:
            raise EvidenceUnavailable(f"the files service cannot be reached: {type(exc).__name__}") from None
        if resp.status_code != 200:
            raise EvidenceUnavailable(f"files answered {resp.status_code} when keeping the evidence")
        return resp.json()["files"]


class DownloadNotKept(PortfolioError):
    """The files service did not keep a built package for download: nothing is handed out; retry."""
    code = "storage_unavailable"
    http_status = 503


class FilesDownloads:
    """Where a package built for someone to download goes: streamed to the files service
    (POST /v1/packages, as `system:submission` of the tenant), which keeps it a day in S3 for
    the person who asked and hands them a 60-second, single-use ticket (files/downloads.py). The
    bytes never travel in an RPC answer nor through the gateway, whatever the package's size.

    `keep(fh, ...)` streams the file object from its start (Content-Length from the file), with
    the SHA-256 computed here: files refuses bytes that are not it (package_damaged) and keeps
    nothing then. -> files' answer {download_id, filename, content_type, size, sha256,
    expires_at}. DownloadNotKept (storage_unavailable) when files cannot be reached or refuses."""

    def __init__(self, token, files_url=None, timeout=600):
        self.token = token                    # () -> caller token for the audience `files`
        self.files_url = (files_url or env("FILES_URL", "http://127.0.0.1:8081")).rstrip("/")
        self.timeout = timeout                # per socket operation, not the whole transfer

    def keep(self, fh, *, filename, content_type, sha256, requested_by, purpose, subject) -> dict:
        from urllib.parse import quote

        import requests
        fh.seek(0)
        headers = {"X-Portfolio-Caller": self.token(), "Content-Type": content_type,
                   "X-Filename": quote(filename, safe=""), "X-Content-SHA256": sha256,
                   "X-Requested-By": str(requested_by), "X-Package-Purpose": purpose,
                   "X-Package-Subject": quote(str(subject), safe="")}
        try:
            r = requests.post(f"{self.files_url}/v1/packages", data=fh, headers=headers, timeout=self.timeout)
        except requests.RequestException as exc:
            raise DownloadNotKept(f"the files service cannot be reached: {type(exc).__name__}") from None
        if r.status_code != 201:
            try:
                why = r.json()["error"]["code"]
            except (ValueError, KeyError, TypeError):
                why = r.status_code
            raise DownloadNotKept(f"files did not keep the package: {why}")
        return r.json()

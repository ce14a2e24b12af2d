"""Files built for someone to download (the national rosters and package, transfer packages):
the gateway never carries their bytes (ARCHITECTURE.md). submission builds the file and hands it
to the files service, which keeps it a day for the person who asked; the RPC answers its
metadata and a download id. The gateway then asks files for a ticket (60 s, one download, for
that person only) and answers `303 See Other` to files' download URL, with the metadata as
JSON in the body for API clients that do not follow redirects. A browser simply follows it.

`GET /api/v1/downloads/<download_id>` asks for a fresh ticket for a file built for the caller
within the day (after a broken download of a large package), without building it again."""
from flask import jsonify
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from .api import refusals
from .auth import login_required
from .clients import package_link

api_bp = Blueprint("api_downloads", __name__, url_prefix="/api/v1",
                   description="Files built for you to download (national rosters and package, transfer "
                               "packages), kept one day by the files service")


class DownloadOut(Schema):
    download_id = fields.String(metadata={"description": "ask /api/v1/downloads/{download_id} for a fresh link "
                                                         "within the day"})
    download_url = fields.String(metadata={"description": "the files service's URL with a ticket: valid 60 s, "
                                                          "for one download (also the Location header)"})
    filename = fields.String()
    content_type = fields.String()
    size = fields.Integer(metadata={"description": "bytes"})
    sha256 = fields.String(metadata={"description": "hex SHA-256 of the file (also X-Package-SHA256)"})
    expires_in = fields.Integer(metadata={"description": "seconds the ticket in download_url stays valid"})
    expires_at = fields.String(metadata={"description": "when the file is deleted (ISO 8601, UTC)"})
    key_id = fields.String(metadata={"description": "transfer packages: the id of the key that signed the manifest"})


DOWNLOAD_303 = ("See Other: Location is the files service's download URL (a ticket valid 60 s, for one "
                "download; it answers the bytes with Content-Length, Content-Disposition (RFC 6266 filename*) "
                "and Cache-Control: no-store). The body holds the same as JSON.")


def redirect_to_download(f, link=None, **extra) -> object:
    """The 303 to files for a built file `f` (an RPC answer with download_id, filename,
    content_type, size, sha256, expires_at): after files checks the caller is who asked
    (`link`: files' answer when the caller asked it already)."""
    link = link or package_link(f["download_id"])
    body = {"download_id": f["download_id"], "download_url": link["url"], "filename": f["filename"],
            "content_type": f.get("content_type") or "application/octet-stream", "size": f["size"],
            "sha256": f["sha256"], "expires_in": link["expires_in"], "expires_at": f.get("expires_at"), **extra}
    resp = jsonify(body)
    resp.status_code = 303
    resp.headers["Location"] = link["url"]
    resp.headers["Cache-Control"] = "no-store"
    resp.headers["X-Package-SHA256"] = f["sha256"]
    return resp


# ---------------------------------------------------------------- API

@api_bp.route("/downloads/<download_id>")
class Download(MethodView):
    @login_required
    @api_bp.alt_response(303, schema=DownloadOut, description=DOWNLOAD_303, success=True)
    @refusals(api_bp, "not_found", "download_expired", "storage_unavailable")
    def get(self, download_id):
        """A fresh one-download link for a file built for you within the day (a national roster or
        package, a transfer package). 404 not_found: no such file, or not yours; 410
        download_expired: it was kept one day and is gone, build it again."""
        link = package_link(download_id)
        return redirect_to_download({"download_id": download_id, **link}, link=link)

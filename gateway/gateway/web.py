"""What the gateway promises a browser: redirects that stay on this site, security headers on
every response (portal, API, errors, static files), and the client's address taken only from
the proxies the operator trusts.

Plain functions and one `init_app`; no business rules.
"""
import secrets
import unicodedata
from urllib.parse import unquote, urlsplit

from flask import g, request
from werkzeug.middleware.proxy_fix import ProxyFix

# ---------------------------------------------------------------- same-site redirects


def _unsafe_char(ch: str) -> bool:
    """Characters a browser strips, rewrites or treats as a separator before it resolves a URL:
    ASCII controls (tab, CR, LF...), any whitespace (also U+3000 and friends), the backslash
    (read as '/' in http URLs) and invisible format characters (zero-width, bidi overrides)."""
    return (ch == "\\" or ch.isspace() or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Zs"))


def safe_next(value, default: str = "/") -> str:
    """`value` when it is a path on this site, else `default`.

    A same-site path starts with exactly one '/' and, read as raw text and after up to three
    rounds of percent-decoding, has no scheme, no host, no second leading slash or backslash,
    and no character a browser would strip or rewrite (tabs, CR/LF, unicode spaces, zero-width
    characters). So `/%09/evil.example` (a browser drops the tab and goes to //evil.example),
    `/\\evil.example`, `//evil.example`, `/%2F%2Fevil.example`, `https://evil.example`,
    `javascript:...` and a CR/LF that would split the Location header all answer `default`.
    Where it comes from: issue 6 item 8 (open redirect after sign-in).
    """
    if not isinstance(value, str) or not value or len(value) > 2000:
        return default
    seen = value
    for _ in range(4):
        if any(_unsafe_char(ch) for ch in seen):
            return default
        if not seen.startswith("/") or seen.startswith("//"):
            return default
        parts = urlsplit(seen)
        if parts.scheme or parts.netloc:
            return default
        decoded = unquote(seen)
        if decoded == seen:
            return value
        seen = decoded
    return default  # still changing after several rounds of decoding: not a plain path


# ---------------------------------------------------------------- security headers

HSTS = "max-age=63072000"  # two years; no includeSubDomains: the school's other hosts are not ours
REFERRER_POLICY = "same-origin"
# JSON, static files, evidence files: nothing on them may run, load or be framed.
STRICT_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"


def csp_nonce() -> str:
    """A fresh random nonce per response, for the few `<style>` blocks the pages still carry
    (scripts never get one: every script is a static file)."""
    if "csp_nonce" not in g:
        g.csp_nonce = secrets.token_urlsafe(16)
    return g.csp_nonce


def files_origin(files_public_url: str) -> str | None:
    """The origin to allow for the browser's uploads to the files service, or None when it is
    served on this origin (a path like `/files`) or not configured."""
    if not files_public_url or files_public_url.startswith("/"):
        return None
    parts = urlsplit(files_public_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"FILES_PUBLIC_URL must be a path or an http(s) URL: {files_public_url!r}")
    return f"{parts.scheme}://{parts.netloc}"


def page_policy(nonce: str, files: str | None) -> str:
    """The Content-Security-Policy of an HTML page: scripts and styles from this site only
    (styles also by nonce), no plugins, no framing; the browser may talk to this site and to
    the files service (`FILES_PUBLIC_URL`), show images, audio and video from it (the
    certification queue's preview), and forms post to the same two."""
    extra = f" {files}" if files else ""
    return "; ".join((
        "default-src 'self'",
        "script-src 'self'",
        f"style-src 'self' 'nonce-{nonce}'",
        f"img-src 'self' data:{extra}",
        f"media-src 'self'{extra}",   # the certification queue previews images, audio and video
        f"connect-src 'self'{extra}",
        f"form-action 'self'{extra}",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
    ))


def _set_headers(response, app):
    h = response.headers
    if response.mimetype == "text/html":
        h["Content-Security-Policy"] = page_policy(csp_nonce(), app.config["FILES_PUBLIC_ORIGIN"])
    else:
        h["Content-Security-Policy"] = STRICT_POLICY
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"  # for browsers that predate frame-ancestors
    h["Referrer-Policy"] = REFERRER_POLICY
    if app.config["SESSION_COOKIE_SECURE"]:
        h["Strict-Transport-Security"] = HSTS
    return response


def trusted_hops(raw) -> int:
    try:
        hops = int(raw)
    except (TypeError, ValueError):
        raise ValueError(f"TRUSTED_PROXY_HOPS must be a whole number: {raw!r}") from None
    if hops < 0:
        raise ValueError(f"TRUSTED_PROXY_HOPS must not be negative: {hops}")
    return hops


def init_app(app):
    """Trust `TRUSTED_PROXY_HOPS` proxies in front of the gateway (default 0: the TCP peer is
    the client and X-Forwarded-For is ignored), and set the security headers on every response.

    With N hops, the client is the N-th address from the right of X-Forwarded-For (werkzeug's
    ProxyFix), so a client cannot choose its own address by sending the header itself: the
    address the audit, the sessions list and the sign-in lockout see is the one the trusted
    proxy saw.
    """
    hops = trusted_hops(app.config["TRUSTED_PROXY_HOPS"])
    if hops:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)
    app.config["FILES_PUBLIC_ORIGIN"] = files_origin(app.config["FILES_PUBLIC_URL"])
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(lambda response: _set_headers(response, app))

"""What may be stored: type by content (magic number), never by name; size limits."""
from .errors import FileEmpty, FileTooLarge, FileTypeRefused

MB = 1024 * 1024
# National practice: documents pdf/jpg/png at most 4 MB (audio/video mp3/mp4 at most 10 MB).
DOCUMENT_LIMIT = 4 * MB
DOCUMENT_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}


def sniff(head: bytes):
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    return None


def check_declared_size(length, limit=DOCUMENT_LIMIT):
    if length is not None and length > limit:
        raise FileTooLarge(f"file is {length / MB:.1f} MB; the limit is {limit // MB} MB",
                           size=length, limit=limit)


def verify(size: int, head: bytes, allowed=DOCUMENT_TYPES, limit=DOCUMENT_LIMIT) -> str:
    """Return the sniffed content type, or raise with the reason the file is refused."""
    if size == 0:
        raise FileEmpty("the file is empty")
    if size > limit:
        raise FileTooLarge(f"file is over {limit // MB} MB", size=size, limit=limit)
    ctype = sniff(head)
    if ctype not in allowed:
        raise FileTypeRefused("only PDF, JPG or PNG files are accepted (checked by content, not by name)")
    return ctype


def clean_filename(name: str, ctype: str) -> str:
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200] or "file"
    ext = DOCUMENT_TYPES.get(ctype, "bin")
    return base if base.lower().endswith("." + ext) or (ext == "jpg" and base.lower().endswith(".jpeg")) \
        else f"{base}.{ext}"

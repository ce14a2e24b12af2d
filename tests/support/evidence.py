"""Evidence files as students produce them, and the bad inputs of their kinds (bytes built here,
plus the real inputs of ../shared/cases). Used by the files tests, the e2e tests and the bench."""
import os
import struct
import zlib
from pathlib import Path

CASES = Path(__file__).resolve().parents[3] / "shared" / "cases"
if not CASES.is_dir():  # a worktree beside shared/
    CASES = Path("/work/shared/cases")
MB = 1024 * 1024


def case(name):
    folder = next(CASES.glob(name + "*"))
    (path,) = [p for p in folder.iterdir() if p.name != "EXPECTED.md"]
    return path.name, path.read_bytes()


def pdf(size=2000, tag=None):
    """A PDF of about `size` bytes with unique content."""
    head = b"%PDF-1.4\n% " + (tag or os.urandom(8).hex()).encode() + b"\n1 0 obj<<>>endobj\n"
    tail = b"\ntrailer<<>>\n%%EOF\n"
    return head + b"%" + os.urandom(max(0, size - len(head) - len(tail) - 1)).hex().encode()[
        :max(0, size - len(head) - len(tail) - 1)] + tail


def png(width=4, height=4, trailing=b""):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + os.urandom(width * 3) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"") + trailing)


def jpg(size=3000):
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + os.urandom(size) + b"\xff\xd9"


def mp3(size=50_000):
    return b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x64" + os.urandom(size)


def mp4(size=1_000_000, brand=b"isom", lie=0):
    """ftyp + mdat; `lie` adds that many bytes to mdat's declared length (a header that lies)."""
    ftyp = struct.pack(">I4s4sI", 24, b"ftyp", brand, 0x200) + b"isomiso2"
    body = os.urandom(size - len(ftyp) - 8)
    return ftyp + struct.pack(">I4s", 8 + len(body) + lie, b"mdat") + body


def mp4_padded(data, total):
    """An MP4 padded to `total` bytes with a `free` box (how MP4 files are padded)."""
    pad = total - len(data)
    return data + struct.pack(">I4s", pad, b"free") + b"\x00" * (pad - 8)


def zip_bytes(inner=b"hello"):
    import io
    import zipfile
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.txt", inner)
    return buf.getvalue()


EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff" + b"\x00" * 48 + b"This program cannot be run in DOS mode" + os.urandom(2000)

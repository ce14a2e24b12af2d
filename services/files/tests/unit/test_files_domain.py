import hashlib
import io

import pytest

from files import domain
from files.errors import FileEmpty, FileTooLarge, FileTypeRefused
from files.storage import MeasuringReader

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 10
JPG = b"\xff\xd8\xff\xe0" + b"\x00" * 10


@pytest.mark.parametrize("head,ctype", [(PDF, "application/pdf"), (PNG, "image/png"), (JPG, "image/jpeg")])
def test_type_is_judged_by_content(head, ctype):
    assert domain.verify(len(head), head[:16]) == ctype


@pytest.mark.parametrize("head", [b"MZ\x90\x00", b"<html>", b"PK\x03\x04", b"GIF89a"])
def test_other_content_is_refused_whatever_its_name(head):
    with pytest.raises(FileTypeRefused):
        domain.verify(100, head)


def test_size_limits():
    with pytest.raises(FileEmpty):
        domain.verify(0, b"")
    with pytest.raises(FileTooLarge):
        domain.verify(domain.DOCUMENT_LIMIT + 1, PDF)
    with pytest.raises(FileTooLarge):
        domain.check_declared_size(domain.DOCUMENT_LIMIT + 1)
    domain.check_declared_size(None)


def test_filename_is_cleaned_and_given_the_true_extension():
    assert domain.clean_filename("C:\\Users\\me\\專題.pdf", "application/pdf") == "專題.pdf"
    assert domain.clean_filename("photo", "image/jpeg") == "photo.jpg"
    assert domain.clean_filename("x.jpeg", "image/jpeg") == "x.jpeg"
    assert domain.clean_filename("", "image/png") == "file.png"


def test_measuring_reader_hashes_and_stops_past_the_limit():
    data = PDF + b"x" * 1000
    r = MeasuringReader(io.BytesIO(data), limit=10_000, hasher=hashlib.sha256())
    out = b"".join(iter(lambda: r.read(100), b""))
    assert out == data and r.size == len(data) and r.hasher.hexdigest() == hashlib.sha256(data).hexdigest()
    assert r.head == data[:16] and not r.over_limit
    r = MeasuringReader(io.BytesIO(b"y" * 500), limit=100, hasher=hashlib.sha256())
    out = b"".join(iter(lambda: r.read(64), b""))
    assert r.over_limit and len(out) <= 100

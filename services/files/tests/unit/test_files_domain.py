"""Type by content (as readers decide it), size per family and school year, names as metadata."""
import pytest

from files import domain
from files.errors import (FileDamaged, FileEmpty, FilenameInvalid, FilenameTooLong, FileTooLarge,
                          FileTypeRefused)
from tests.support import evidence as ev

MB = domain.MB
LIMITS = domain.Limits()


def inspect(data, year=115, chunk=65536, declared=None):
    insp = domain.Inspector(LIMITS.for_year(year), declared)
    for i in range(0, len(data), chunk):
        insp.feed(data[i:i + chunk])
    return insp.finish()


@pytest.mark.parametrize("make,ctype", [
    (lambda: ev.pdf(), "application/pdf"), (lambda: ev.png(), "image/png"), (lambda: ev.jpg(), "image/jpeg"),
    (lambda: ev.mp3(), "audio/mpeg"), (lambda: ev.mp4(200_000), "video/mp4"),
    (lambda: ev.case("U07")[1], "application/pdf"),            # BOM and a line break before %PDF-
    (lambda: b"\n" * 1000 + b"%PDF-1.7\n%%EOF\n", "application/pdf"),  # header at byte 1,000
    (lambda: ev.case("U04")[1], "video/mp4"),                   # a phone video, 1 MB
    (lambda: ev.mp4_padded(ev.case("U04")[1], 6 * MB), "video/mp4"),  # ... padded to 6 MB
    (lambda: ev.case("U04")[1] + b"\x00" * (5 * MB), "video/mp4"),     # ... padded with zeros
])
def test_type_is_decided_by_content(make, ctype):
    data = make()
    v = inspect(data)
    assert (v.content_type, v.size) == (ctype, len(data))
    assert inspect(data, chunk=7).sha256 == v.sha256  # however the bytes arrive


@pytest.mark.parametrize("data,detail", [
    (ev.EXE, None),                                           # a renamed executable
    (ev.zip_bytes(), None),                                   # an archive
    (b"<html><script>alert(1)</script>", None),
    ("這不是 PDF，只是文字。".encode(), "unknown"),
    (b"\x00\x00\x00\x14ftypqt  \x00\x00\x02\x00qt  " + b"\x00" * 2000, None),  # QuickTime, not MP4
    (ev.png()[:40] + b"%PDF-1.4\n" + b"\x00" * 1000, "polyglot"),   # an image that is also a PDF
    (ev.EXE[:300] + b"%PDF-1.4\n%%EOF", "polyglot"),            # an executable with a PDF header after it
    (ev.png(trailing=ev.zip_bytes()), "polyglot"),              # a zip behind a PNG
    (ev.jpg() + ev.zip_bytes(), "polyglot"),                   # a zip behind a JPEG
    (ev.png(trailing=b"<?php system($_GET[1]); ?>"), "polyglot"),  # anything after IEND
])
def test_what_is_not_purely_an_allowed_type_is_refused(data, detail):
    with pytest.raises(FileTypeRefused) as e:
        inspect(data)
    assert e.value.code == "file_type_refused" and e.value.http_status == 415
    if detail:
        assert e.value.details["detail"] == detail


@pytest.mark.parametrize("data", [
    ev.mp4(300_000, lie=5000),                      # mdat claims more than the file has
    ev.mp4(300_000)[:-10],                          # cut short
    ev.mp4(300_000) + b"junk after the last box",
    ev.png()[:-6],                                  # PNG without its end
])
def test_structure_that_lies_about_its_length_is_damaged(data):
    with pytest.raises(FileDamaged):
        inspect(data)


def test_empty_is_refused_with_its_own_code():
    name, data = ev.case("U02")
    assert name == "成果.pdf" and data == b""
    with pytest.raises(FileEmpty) as e:
        inspect(data)
    assert e.value.code == "file_empty" and e.value.http_status == 422


def test_size_limit_follows_the_family_the_content_belongs_to():
    inspect(ev.pdf(4 * MB))                                   # a document at its limit
    with pytest.raises(FileTooLarge) as e:
        inspect(ev.pdf(4 * MB + 1))
    assert "4 MB" in e.value.zh and "文件" in e.value.zh
    # just over the limit never reads as the limit itself (a new user saw "4.0 MB; the limit is 4 MB")
    assert str(e.value).endswith("the file is 4.01 MB; the limit is 4 MB")
    with pytest.raises(FileTooLarge) as e:
        inspect(ev.pdf(4_195_612))
    assert "4.01 MB" in str(e.value)
    inspect(ev.mp4(10 * MB))                                  # media may be 10 MB
    with pytest.raises(FileTooLarge) as e:
        inspect(ev.mp4(10 * MB + 1))
    assert "10 MB" in e.value.zh
    with pytest.raises(FileTooLarge):                         # declared too large: refused unread
        domain.Inspector(LIMITS.for_year(115), declared_length=50 * MB)
    with pytest.raises(FileTooLarge):                         # a 6 MB document, declared
        insp = domain.Inspector(LIMITS.for_year(115), declared_length=6 * MB)
        insp.feed(ev.pdf(2000))


def test_limits_are_configuration_per_school_year():
    limits = domain.Limits.from_config('{"116": {"media": {"types": ["mp3", "mp4"], "max_bytes": 20971520}},'
                                       ' "default": {"document": {"types": ["pdf"], "max_bytes": 2097152}}}')
    assert limits.for_year(115).family_of("mp4").max_bytes == 10 * MB
    assert limits.for_year(116).family_of("mp4").max_bytes == 20 * MB
    assert limits.for_year(115).family_of("png") is None          # the school allows only PDF documents
    assert limits.for_year(116).describe()["document"]["types"] == ["pdf"]
    with pytest.raises(ValueError):
        domain.Limits.from_config('{"default": {"document": {"types": ["exe"], "max_bytes": 1}}}')


@pytest.mark.parametrize("raw,clean", [
    ("期末報告.pdf", "期末報告.pdf"),
    ("期末報告", "期末報告.pdf"),
    ("cafe\u0301.pdf", "café.pdf"),                    # NFD (macOS) -> NFC
    ("re\x00port\x07.pdf", "report.pdf"),              # NUL and control characters
    ("invoice\u202efdp.exe", "invoicefdp.exe.pdf"),     # a bidi override cannot disguise the name
    ("", "evidence.pdf"),
    ("scan.JPEG", "scan.JPEG"),
])
def test_names_are_cleaned_metadata(raw, clean):
    assert domain.clean_filename(raw, "jpg" if raw.endswith("JPEG") else "pdf") == clean


@pytest.mark.parametrize("raw,error", [
    ("../../etc/passwd", FilenameInvalid), ("..\\..\\boot.ini", FilenameInvalid), ("..", FilenameInvalid),
    ("成" * 300 + ".pdf", FilenameTooLong),
])
def test_names_with_paths_or_too_long_are_refused(raw, error):
    with pytest.raises(error):
        domain.clean_filename(raw, "pdf")


def test_ascii_fallback_for_content_disposition():
    assert domain.ascii_fallback('報告 "final";.pdf') == "__ _final__.pdf"

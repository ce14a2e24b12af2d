"""A streaming xlsx writer for the national rosters: each worksheet's XML is written straight
into the zip entry row by row (inline strings, no shared-string table), so memory does not grow
with the rows and no cell object is made per value.

Why not openpyxl's write-only workbook (used before): it builds a cell object and an element
per value and serialises them through et_xmlfile; for 2,000 students (56,000 rows) that was most
of the package's build time (docs/benchmarks.md, national). The files it writes are read by
openpyxl (the simulator, the tests), Excel and LibreOffice: a workbook, its worksheets, a
minimal style sheet, the package's relationships and content types (ECMA-376 Part 1, the parts
a spreadsheet needs).

Values: str -> an inline string (always text: a leading '=' is never a formula, leading zeros
stay); int / float -> a number; bool -> a boolean; None -> no cell. Characters XML 1.0 does
not allow (control characters) are dropped.
"""
import re
import zipfile
from xml.sax.saxutils import escape, quoteattr

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
CT = "http://schemas.openxmlformats.org/package/2006/content-types"
SHEET_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
FLUSH_ROWS = 500
STYLES = (HEAD + f'<styleSheet xmlns="{MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font>'
          '</fonts><fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill '
          'patternType="gray125"/></fill></fills><borders count="1"><border><left/><right/><top/><bottom/>'
          '<diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" '
          'borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" '
          'xfId="0"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/>'
          '</cellStyles></styleSheet>')


def column_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        out = chr(65 + r) + out
    return out


def _cell(ref: str, value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"><v>{int(value)}</v></c>'
    if isinstance(value, (int, float)):
        return f'<c r="{ref}"><v>{value!r}</v></c>'
    text = escape(ILLEGAL.sub("", str(value)))
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{text}</t></is></c>'


class Workbook:
    """Write an xlsx to a binary file object: `sheet(name, rows)` for each sheet in order
    (rows: an iterable of lists of values), then `close()` (or use it as a context manager)."""

    def __init__(self, fh):
        self.zf = zipfile.ZipFile(fh, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=5)
        self.names = []

    def sheet(self, name: str, rows) -> int:
        """Write one worksheet; returns how many rows it has."""
        self.names.append(name)
        letters = [column_letter(i) for i in range(64)]
        n = 0
        with self.zf.open(f"xl/worksheets/sheet{len(self.names)}.xml", "w", force_zip64=True) as out:
            out.write((HEAD + f'<worksheet xmlns="{MAIN}"><sheetData>').encode())
            buf = []
            for values in rows:
                n += 1
                while len(letters) < len(values):
                    letters.append(column_letter(len(letters)))
                buf.append(f'<row r="{n}">' + "".join(_cell(f"{letters[i]}{n}", v) for i, v in enumerate(values))
                           + "</row>")
                if len(buf) >= FLUSH_ROWS:
                    out.write("".join(buf).encode())
                    buf = []
            out.write(("".join(buf) + "</sheetData></worksheet>").encode())
        return n

    def close(self):
        sheets = range(1, len(self.names) + 1)
        self.zf.writestr("[Content_Types].xml", HEAD + f'<Types xmlns="{CT}">'
                         f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                         '<Default Extension="xml" ContentType="application/xml"/>'
                         '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
                         'officedocument.spreadsheetml.sheet.main+xml"/>'
                         '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-'
                         'officedocument.spreadsheetml.styles+xml"/>'
                         + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{SHEET_CT}"/>'
                                   for i in sheets) + "</Types>")
        self.zf.writestr("_rels/.rels", HEAD + f'<Relationships xmlns="{PKG_REL}"><Relationship Id="rId1" '
                         f'Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        self.zf.writestr("xl/workbook.xml", HEAD + f'<workbook xmlns="{MAIN}" xmlns:r="{REL}"><sheets>'
                         + "".join(f'<sheet name={quoteattr(ILLEGAL.sub("", name))} sheetId="{i}" r:id="rId{i}"/>'
                                   for i, name in zip(sheets, self.names)) + "</sheets></workbook>")
        self.zf.writestr("xl/_rels/workbook.xml.rels", HEAD + f'<Relationships xmlns="{PKG_REL}">'
                         + "".join(f'<Relationship Id="rId{i}" Type="{REL}/worksheet" Target="worksheets/sheet{i}.xml"/>'
                                   for i in sheets)
                         + f'<Relationship Id="rId{len(self.names) + 1}" Type="{REL}/styles" Target="styles.xml"/>'
                         "</Relationships>")
        self.zf.writestr("xl/styles.xml", STYLES)
        self.zf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

"""Mutated spreadsheet files for the import fuzz tests: random bytes, truncated and corrupted
xlsx, wrong encodings, huge cells, formulas, broken CSV quoting, control characters... A seeded
generator, so a failure names a file that can be made again (seed, index)."""
import io
import random

import openpyxl

HEADER = ["學號", "姓名", "身分證號", "出生日期", "班級代碼", "班級名稱", "座號", "帳號"]
ROW = ["1150001", "陳怡君", "A123456789", "0940315", "101", "資料處理科一年甲班", "1", "s_day01"]
NASTY = ["", "?", "\x00", "=cmd|' /C calc'!A0", "=1+1", '="0101"', "+SUM(A1)", "@x", "長" * 3000, "\ufeff",
         "\u202e", "𠀋", "A12345678９", "1e309", "-0", "NaN", "9" * 40, "\r\n", '"', '""', ",,,", "\t", "０９４／０２／３１",
         "民國2005年1月1日", "2005-02-30", "\ud7ff", "x" * 100001]


def _xlsx(rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _clean_for_xlsx(v):
    if isinstance(v, str):
        return "".join(ch for ch in v if ch >= " " or ch in "\t\n\r")[:32000]
    return v


def files(n=300, seed=20261129):
    """[(name, bytes, what)] n mutated files."""
    rnd = random.Random(seed)
    base_csv = (",".join(HEADER) + "\r\n" + ",".join(ROW) + "\r\n").encode("utf-8")
    base_xlsx = _xlsx([HEADER, ROW, ROW[:1] + ["林柏宇"] + ROW[2:]])
    out = []
    for i in range(n):
        kind = i % 10
        if kind == 0:
            data, name, what = bytes(rnd.getrandbits(8) for _ in range(rnd.randint(0, 4000))), rnd.choice(
                ["a.csv", "a.xlsx", "a.txt", "a"]), "random bytes"
        elif kind == 1:
            cut = rnd.randint(0, len(base_xlsx))
            data, name, what = base_xlsx[:cut], "a.xlsx", f"xlsx truncated at {cut}"
        elif kind == 2:
            b = bytearray(base_xlsx)
            for _ in range(rnd.randint(1, 30)):
                b[rnd.randrange(len(b))] = rnd.getrandbits(8)
            data, name, what = bytes(b), "a.xlsx", "xlsx with flipped bytes"
        elif kind == 3:
            text = base_csv.decode()
            enc = rnd.choice(["utf-16", "utf-16-le", "cp950", "gb18030", "shift_jis", "latin-1", "utf-32"])
            data, name, what = text.encode(enc, errors="replace"), "a.csv", f"csv in {enc}"
        elif kind == 4:
            cells = [rnd.choice(NASTY) if rnd.random() < 0.5 else v for v in ROW]
            data = (",".join(HEADER) + "\n" + ",".join(cells) + "\n").encode("utf-8", errors="surrogatepass")
            name, what = "a.csv", "csv with nasty cells"
        elif kind == 5:
            rows = [HEADER] + [[_clean_for_xlsx(rnd.choice(NASTY)) if rnd.random() < 0.4 else v for v in ROW]
                               for _ in range(rnd.randint(1, 20))]
            data, name, what = _xlsx(rows), "a.xlsx", "xlsx with nasty cells"
        elif kind == 6:
            b = bytearray(base_csv)
            for _ in range(rnd.randint(1, 20)):
                b.insert(rnd.randrange(len(b) + 1), rnd.choice(b'",\r\n\x00=\xff\xfe'))
            data, name, what = bytes(b), "a.csv", "csv with inserted quotes, breaks, NULs"
        elif kind == 7:
            header = [rnd.choice(HEADER + ["", "x", "學號", "身分證\n號", "ＮＡＭＥ"]) for _ in range(rnd.randint(0, 70))]
            data = (",".join(header) + "\n" + ",".join(ROW * 3) + "\n").encode()
            name, what = "a.csv", "odd, repeated or too many headers"
        elif kind == 8:
            big = ",".join(HEADER) + "\n" + "\n".join(",".join(ROW) for _ in range(rnd.choice([10, 5001, 6000])))
            data, name, what = big.encode(), "a.csv", "many rows"
        else:
            rows = [["標題"] * rnd.randint(0, 3)] * rnd.randint(0, 12) + [HEADER] + [ROW] * rnd.randint(0, 3)
            data, name, what = _xlsx(rows), rnd.choice(["a.xlsx", "a.csv"]), "title rows, maybe a wrong extension"
        out.append((name, data, f"#{i} {what}"))
    return out

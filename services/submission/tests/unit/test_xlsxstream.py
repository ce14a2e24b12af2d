"""The national rosters' xlsx writer (XlsxWriter, constant memory): what openpyxl reads back is what was
written (text as text, numbers as numbers, XML's special characters escaped, control characters
dropped, many columns, many sheets)."""
import io

from openpyxl import load_workbook

from submission.national import xlsxstream


def test_values_read_back_as_written():
    buf = io.BytesIO()
    with xlsxstream.Workbook(buf) as wb:
        assert wb.sheet("封面", [["學校代碼", "050407"]]) == 1
        assert wb.sheet("資料 <&>", [["a", "=1+1", "<b>&amp;</b>", " 前後空白 ", "x\x00y\x1f", 7, 2.5, True, None, "z"],
                                    [str(i) for i in range(40)]]) == 2
    book = load_workbook(io.BytesIO(buf.getvalue()))
    assert book.sheetnames == ["封面", "資料 <&>"]
    ws = book["資料 <&>"]
    first = [c.value for c in ws[1]][:10]
    assert first == ["a", "=1+1", "<b>&amp;</b>", " 前後空白 ", "xy", 7, 2.5, True, None, "z"]
    assert ws["B1"].data_type == "s" and ws["F1"].data_type == "n"
    assert [c.value for c in ws[2]][-1] == "39" and ws.max_column == 40
    assert xlsxstream.column_letter(0) == "A" and xlsxstream.column_letter(27) == "AB"

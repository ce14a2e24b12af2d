"""The portal's stylesheets parse as their authors meant: every block closes. Found by reading
app.css: the queue's phone rule (@media max-width 480px) was never closed, so every rule written
after it (national pages, buttons, badges, the slots of an outcome, ...) applied on phones only
and a desktop browser silently dropped them."""
import re
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "gateway" / "static"
SHEETS = sorted(STATIC.glob("*.css"))


def test_there_are_stylesheets_to_check():
    assert SHEETS, f"no stylesheet under {STATIC}"


@pytest.mark.parametrize("sheet", SHEETS, ids=lambda p: p.name)
def test_every_block_closes_and_top_level_rules_are_top_level(sheet):
    text = re.sub(r"/\*.*?\*/", "", sheet.read_text(encoding="utf-8"), flags=re.S)
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', text)   # braces in strings do not count
    depth, line = 0, 1
    for ch in text:
        if ch == "\n":
            line += 1
        elif ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
            assert depth >= 0, f"{sheet.name}:{line}: a closing brace with no block open"
        # a plain rule (not an at-rule's block) never opens a third level: an unclosed @media
        # followed by ordinary rules would
        assert depth <= 2, f"{sheet.name}:{line}: blocks nested three deep: is an @media left open?"
    assert depth == 0, f"{sheet.name}: {depth} block(s) never closed"

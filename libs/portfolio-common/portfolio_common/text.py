"""How a 簡述 and every short text is cleaned and counted: one definition for the services and
the portal's counter (gateway/gateway/static/textrules.js follows the same rules; both are
tested against tests/contract/text-rules.json).

Cleaning, in this order:
1. Unicode NFC.
2. Every line break (CRLF, CR, LF, NEL U+0085, LS U+2028, PS U+2029) becomes one LF.
3. TAB becomes a space.
4. Other control characters (category Cc) and format characters (category Cf: zero-width
   space/joiners, BOM, soft hyphen) are removed, and by name every bidirectional control
   (BIDI_CONTROLS: LRE RLE PDF LRO RLO U+202A-U+202E, LRI RLI FSI PDI U+2066-U+2069, LRM RLM
   U+200E/U+200F), wherever they stand: a RIGHT-TO-LEFT OVERRIDE kept in a name would show it
   reversed on every page and printout (a tester's finding, issue 8). They are Cf today; they
   are named so that no Unicode table update and no other reader can let one through.
5. Leading and trailing white space (including ideographic space U+3000) is removed.
Text that is empty after cleaning is empty. Length = the number of Unicode code points of the
cleaned text (a line break counts once; an emoji of one code point counts once).
"""
import re
import unicodedata

_BREAKS = re.compile("\r\n|[\r\u0085\u2028\u2029]")
# the bidirectional controls (Unicode UAX #9): embeddings and overrides, isolates, marks
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f")


def clean_text(raw) -> str:
    """The text as it is stored: see the module docstring. None -> ''."""
    if raw is None:
        return ""
    text = unicodedata.normalize("NFC", str(raw))
    text = _BREAKS.sub("\n", text).replace("\t", " ")
    text = "".join(ch for ch in text if ch == "\n" or (unicodedata.category(ch) not in ("Cc", "Cf")
                                                       and ch not in BIDI_CONTROLS))
    return text.strip()


def count_chars(text: str) -> int:
    """Length of an already cleaned text, as the portal's counter shows it."""
    return len(text)


def cleaned_length(raw) -> int:
    return count_chars(clean_text(raw))

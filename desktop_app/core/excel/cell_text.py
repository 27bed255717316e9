"""Text in a workbook cell, byte for byte: how it is written as XML and read back, and when it needs
Excel's quote prefix.

XML 1.0 forbids most control characters and the noncharacters U+FFFE/U+FFFF, and an XML reader turns
a raw carriage return into a line feed. OOXML's answer is the ``_xHHHH_`` escape, which Excel,
LibreOffice and python-calamine decode (a literal ``_xHHHH_`` in the text is itself escaped as
``_x005F_xHHHH_``); a carriage return is written as the character reference ``&#13;``, which every
reader keeps. U+FFFE/U+FFFF are the one loss: python-calamine leaves their escape undecoded, so they
are written as U+FFFD and the stage names the change in a note.

The same rules exist twice, as DuckDB SQL (stage 1 and 2 render rows inside DuckDB) and as Python
(headers, sheet names, reading back): the tests hold the two to one another.
"""

from __future__ import annotations

import re

NONCHARACTERS = "\ufffe\uffff"
REPLACEMENT = "\ufffd"
_CONTROL_CODES = [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]
_OOXML_ESCAPE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# What writers escape (control characters, U+FFFE/U+FFFF) and the escape of a literal escape (_x005F_).
_ESCAPED = re.compile(r"_x(00[01][0-9A-Fa-f]|005[Ff]|[Ff]{3}[EeFf])_")

# Text a spreadsheet would run as a formula if it were typed in: = + - @ (also full-width) after any
# white space, control characters, byte-order mark or zero-width space, or a leading tab or CR.
_LEAD = "\\s\x00-\x1f\ufeff\u200b"
_SIGNS = "=+\\-@\uff1d\uff0b\uff0d\uff20"
FORMULA_LIKE = re.compile(f"^[{_LEAD}]*[{_SIGNS}]|^[\t\r]")
# The same in RE2 (DuckDB's regular expressions): characters by escape, not literally, in SQL text.
FORMULA_LIKE_RE2 = r"^[\s\x00-\x1F\x{FEFF}\x{200B}]*[=+\-@\x{FF1D}\x{FF0B}\x{FF0D}\x{FF20}]|^[\t\r]"
_NEEDS_ESCAPE_RE2 = r"[\x00-\x08\x0B\x0C\x0E-\x1F\r\x{FFFE}\x{FFFF}]|_x[0-9A-Fa-f]{4}_"


def xml_text(value: str) -> str:
    """``value`` as the content of an ``<t xml:space="preserve">`` element."""
    text = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _OOXML_ESCAPE.sub(r"_x005F_\1", text)
    text = text.replace("\r", "&#13;")
    return as_written(_CONTROL.sub(lambda m: f"_x{ord(m.group()):04X}_", text))


def xml_text_sql(expression: str) -> str:
    """SQL rendering the VARCHAR ``expression`` as ``xml_text`` would; the long form only for the rare
    value that needs it, so ordinary text costs one regular-expression test."""
    plain = f"replace(replace(replace({expression}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
    escaped = f"regexp_replace({plain}, '_(x[0-9A-Fa-f]{{4}}_)', '_x005F_\\1', 'g')"
    escaped = f"replace({escaped}, chr(13), '&#13;')"
    for code in _CONTROL_CODES:
        escaped = f"replace({escaped}, chr({code}), '_x{code:04X}_')"
    for char in NONCHARACTERS:
        escaped = f"replace({escaped}, chr({ord(char)}), chr({ord(REPLACEMENT)}))"
    return f"CASE WHEN regexp_matches({expression}, '{_NEEDS_ESCAPE_RE2}') THEN {escaped} ELSE {plain} END"


def as_written(value):
    """Text as a workbook holds it (U+FFFE/U+FFFF become U+FFFD); anything else unchanged."""
    return value.translate({ord(c): REPLACEMENT for c in NONCHARACTERS}) if isinstance(value, str) else value


def has_noncharacter_sql(expression: str) -> str:
    """SQL telling whether the VARCHAR ``expression`` holds U+FFFE or U+FFFF (written as U+FFFD)."""
    return " OR ".join(f"contains({expression}, chr({ord(c)}))" for c in NONCHARACTERS)


def read_back(value: str) -> str:
    """A cell's text from openpyxl, which leaves OOXML escapes (and, in shared strings only, drops every
    ``x005F_``), decoded as Excel shows it. Only what writers escape is decoded, so either kind of
    string comes out right but for text that literally spells an escape of a control character; for
    exact work read with python-calamine, which decodes every escape but U+FFFE/U+FFFF."""
    if "_x" not in value:
        return value
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), value)


def column_letter(index: int) -> str:
    """A spreadsheet's name for the column at 0-based ``index``: 0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters

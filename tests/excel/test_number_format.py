"""Previews show cells as their Excel number format does."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from desktop_app.core.excel.number_format import format_value


@pytest.mark.parametrize("value, fmt, shown", [
    (1234567.891, "#,##0.00 [$€-x-euro2]", "1,234,567.89 €"),
    (0, "#,##0.00 [$€-x-euro2]", "0.00 €"),
    (-0.001, "#,##0.00", "0.00"),
    (1234567, "#,##0", "1,234,567"),
    (7, "#,##0", "7"),
    (1500000.0, "General", "1500000"),
    (0.1 + 0.2, "General", "0.3"),
    (12.5, "0.0", "12.5"),
    (0.256, "0%", "26%"),
    (1234.5, "[$$-409]#,##0.00", "$1,234.50"),
    (datetime(2024, 3, 1), "mmm yyyy", "Mar 2024"),
    (datetime(2024, 3, 1, 14, 5, 9), "yyyy-mm-dd hh:mm:ss", "2024-03-01 14:05:09"),
    (datetime(2024, 3, 1), "yyyy-mm-dd", "2024-03-01"),
    (date(2024, 3, 7), "d/m/yyyy", "7/3/2024"),
    (datetime(2024, 3, 1), "General", "2024-03-01"),
    (None, "#,##0", ""),
    ("=text", "General", "=text"),
    (True, "General", "TRUE"),
])
def test_values_show_as_their_number_format(value, fmt, shown):
    assert format_value(value, fmt) == shown

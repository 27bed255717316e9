"""Recalculate a workbook in LibreOffice headless, as an independent check of its formulas."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

# Force recalculation on load even if a file carries cached values (LibreOffice trusts them otherwise).
RECALC_ALWAYS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
</oor:items>
"""


def soffice() -> str | None:
    return shutil.which("soffice") or shutil.which("libreoffice")


# Every sheet to its own UTF-8 CSV file (<name>-<sheet>.csv), text quoted, formulas as their results.
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,true,true,false,false,false,-1"


def _convert(workbook: Path, work: Path, target: str, out_dir: Path, expected: str) -> list[Path]:
    binary = soffice()
    assert binary, "LibreOffice is not installed (apt-get install libreoffice-calc-nogui)"
    out_dir.mkdir(parents=True, exist_ok=True)
    for attempt in range(2):  # soffice can exit 0 without writing: check, and retry once
        profile = work / f"lo-profile-{out_dir.name}-{attempt}"
        (profile / "user").mkdir(parents=True, exist_ok=True)
        (profile / "user" / "registrymodifications.xcu").write_text(RECALC_ALWAYS)
        subprocess.run([binary, "--headless", "--norestore", f"-env:UserInstallation={profile.as_uri()}",
                        "--convert-to", target, "--outdir", str(out_dir), str(workbook)],
                       capture_output=True, timeout=180, env={**os.environ, "HOME": str(work)})
        results = sorted(out_dir.glob(expected))
        if results:
            return results
    raise AssertionError(f"LibreOffice wrote nothing for {workbook}")


def recalculate(workbook: Path, work: Path) -> Path:
    """A copy of ``workbook`` recalculated and saved by LibreOffice (own profile per call)."""
    return _convert(workbook, work, "xlsx", work / "recalculated", workbook.name)[0]


def sheets_as_csv(workbook: Path, work: Path) -> dict[str, list[list[str]]]:
    """Every sheet's text as LibreOffice reads it: {sheet: rows of cell text}."""
    import csv

    files = _convert(workbook, work, CSV_FILTER, work / "csv", f"{workbook.stem}-*.csv")
    sheets = {}
    for path in files:
        with path.open(encoding="utf-8", newline="") as handle:
            sheets[path.stem.removeprefix(f"{workbook.stem}-")] = list(csv.reader(handle))
    return sheets

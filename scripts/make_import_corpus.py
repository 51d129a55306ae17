"""Write the importer's corpus of nasty inputs (tests/data/import_corpus) and its manifest.

Each file is a case the hardening issue measured (mixed time-zone offsets, malformed UTF-16,
dates outside pandas' range, partial dates, absurd values, Parquet booleans, newlines in
names); the manifest gives what the importer must answer: ``ok`` or a part of its one-line
refusal. ``tests/test_import_fuzz.py`` replays it. Run: ``python scripts/make_import_corpus.py``.
"""

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parents[1] / "tests" / "data" / "import_corpus"
OUT.mkdir(parents=True, exist_ok=True)
os.chdir(OUT)

cases = {
    "mixed_offsets.csv": (
        "date,x\n2024-01-01T00:00:00+01:00,1\n2024-01-02T00:00:00-05:00,2\n",
        "mixed time-zone offsets",
    ),
    "offset_and_naive.csv": (
        "date,x\n2024-01-01T00:00:00+01:00,1\n2024-01-02,2\n",
        "has none; use one convention",
    ),
    "one_offset.csv": ("date,x\n2024-01-01T00:00:00+01:00,1\n2024-01-02T00:00:00+01:00,2\n", "ok"),
    "zulu.csv": ("date,x\n2024-01-01T00:00:00Z,1\n2024-01-02T00:00:00Z,2\n", "ok"),
    "offset_with_time.csv": ("date,x\n2024-01-01T23:00:00+00:00,1\n", "has a time of day"),
    "year_only.csv": ("date,x\n2024,1\n2025,2\n", "a year or a month alone is not a date"),
    "year_month.csv": ("date,x\n2024-01,1\n2024-02,2\n", "a year or a month alone is not a date"),
    "year_9999.csv": ("date,x\n9999-12-31,1\n", "date 9999-12-31 is outside 1800-01-01.."),
    "year_1000.csv": ("date,x\n1000-01-01,1\n", "date 1000-01-01 is outside 1800-01-01.."),
    "year_1677.csv": ("date,x\n1677-09-22,1\n", "date 1677-09-22 is outside 1800-01-01.."),
    "year_2225.csv": ("date,x\n2225-01-01,1\n", "date 2225-01-01 is outside 1800-01-01.."),
    "no_such_day.csv": ("date,x\n2026-02-30,1\n", "no such day"),
    "value_1e12.csv": ("date,x\n2024-01-01,1e12\n", "not finite or not below 1e+12"),
    "value_max_float.csv": (
        "date,x\n2024-01-01,1.7976931348623157e308\n",
        "not finite or not below 1e+12",
    ),
    "value_inf.csv": ("date,x\n2024-01-01,inf\n", "infinite"),
    "value_word.csv": ("date,x\n2024-01-01,high\n", "'high' is not a number"),
    "newline_in_header.csv": ('date,"x\ny"\n2024-01-01,1\n', "not a valid series id"),
    "newline_in_date.csv": (
        'date,x\n"2024-01-01\n",1\n',
        "ok",
    ),  # whitespace around a date is stripped
    "nul_byte.csv": ("date,x\n2024-01-01,1\x00\n", "is not a number"),
    "duplicate_date.csv": ("date,x\n2024-01-01,1\n2024-01-01,2\n", "duplicate date 2024-01-01"),
    "epoch_seconds.csv": ("date,x\n1704067200,1\n", "expected YYYY-MM-DD"),
    "empty.csv": ("", "the file is empty"),
    "header_only.csv": ("date,x\n", "header but no data rows"),
    "no_date_column.csv": ("when,x\n2024-01-01,1\n", "no date column"),
    "ragged.csv": ("date,x\n2024-01-01,1,2,3\n2024-01-02\n", "line 2: more fields than the header"),
}
manifest = {}
for name, (text, expected) in cases.items():
    Path(name).write_bytes(text.encode("utf-8"))
    manifest[name] = expected
Path("utf16_truncated.csv").write_bytes(b"\xff\xfed\x00a\x00t\x00e\x00,\x00x\x00\n\x00\x00\xd8")
manifest["utf16_truncated.csv"] = "starts as UTF-16 text but is not"
Path("utf16_valid.csv").write_bytes("date,x\n2024-01-01,1\n".encode("utf-16"))
manifest["utf16_valid.csv"] = "ok"
Path("latin1.csv").write_bytes("date,prix\xe9\n2024-01-01,1\n".encode("latin-1"))
manifest["latin1.csv"] = "not UTF-8 text"
days = pd.to_datetime(["2024-01-01", "2024-01-02"])
pd.DataFrame({"date": days, "x": [True, False]}).to_parquet("booleans.parquet")
manifest["booleans.parquet"] = "holds true/false values, not numbers"
pd.DataFrame({"date": days.tz_localize("America/New_York"), "x": [1.0, 2.0]}).to_parquet(
    "zoned.parquet"
)
manifest["zoned.parquet"] = "ok"
far = np.array(["2024-01-01", "9999-12-31"], dtype="datetime64[us]")
pd.DataFrame({"date": far, "x": [1.0, 2.0]}).to_parquet("year_9999.parquet")
manifest["year_9999.parquet"] = "is outside 1800-01-01.."
pd.DataFrame({"date": ["2024-01-01", None], "x": [1.0, 2.0]}).to_parquet("null_date.parquet")
manifest["null_date.parquet"] = "row 2, column 'date': the date is missing"
pd.DataFrame({"date": pd.to_datetime(["2024-01-01", None]), "x": [1.0, 2.0]}).to_parquet(
    "nat_date.parquet"
)
manifest["nat_date.parquet"] = "row 2, column 'date': the date is missing"
Path("bad_offset.csv").write_text("date,x\n2024-01-01T00:00:00+99:99,1\n")
manifest["bad_offset.csv"] = "has no such time-zone offset"
Path("garbage.parquet").write_bytes(b"PAR1 not really PAR1")
manifest["garbage.parquet"] = "not a readable Parquet file"
Path("MANIFEST.json").write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n")
print(f"wrote {len(manifest)} files to {OUT}")

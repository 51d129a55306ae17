"""Build the bundled dataset from ``shared/data/raw`` (maintainers only; the output is committed).

Every catalog series with an ``embedded`` entry is read with the same validator as user imports,
reduced to its declared column (closes only for market series), and written in long format to
``src/havenflow/data/bundled/observations.parquet`` with ``manifest.json`` beside it (source
file, SHA-256 of the raw file, rows, first and last date). Nothing is generated or filled in.

Usage: ``python scripts/build_embedded.py [RAW_DIR]`` (default ``../shared/data/raw``).
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import pandas as pd

from havenflow.catalog import load_catalog
from havenflow.data.validate import read_series_file

ROOT = Path(__file__).resolve().parents[1]
OUT_DIR = ROOT / "src" / "havenflow" / "data" / "bundled"


def main(raw_dir: Path) -> int:
    """Build the Parquet file and the manifest; return a process exit code."""
    frames: list[pd.DataFrame] = []
    manifest: dict[str, dict[str, object]] = {}
    for spec in load_catalog().values():
        if spec.embedded_file is None or spec.embedded_column is None:
            continue
        path = raw_dir / spec.embedded_file
        parsed = read_series_file(
            path, columns=[spec.embedded_column], positive=spec.must_be_positive
        )
        values = parsed.series[spec.embedded_column]
        frames.append(
            pd.DataFrame(
                {
                    "series_id": spec.id,
                    "date": values.index.as_unit("ms"),
                    "value": values.to_numpy(),
                }
            )
        )
        manifest[spec.id] = {
            "file": spec.embedded_file,
            "column": spec.embedded_column,
            "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "rows": len(values),
            "first": values.index[0].date().isoformat(),
            "last": values.index[-1].date().isoformat(),
        }
        print(
            f"{spec.id:<20} {len(values):>6} rows  {manifest[spec.id]['first']} .. "
            f"{manifest[spec.id]['last']}"
        )
    frame = pd.concat(frames, ignore_index=True)
    frame["series_id"] = frame["series_id"].astype("category")
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(
        OUT_DIR / "observations.parquet", compression="zstd", index=False, row_group_size=50_000
    )
    (OUT_DIR / "manifest.json").write_text(
        json.dumps({"series": manifest}, indent=2) + "\n", encoding="utf-8"
    )
    size = (OUT_DIR / "observations.parquet").stat().st_size
    print(f"wrote {len(frame)} observations of {len(manifest)} series, {size / 1024:.0f} KiB")
    return 0


if __name__ == "__main__":
    default = ROOT.parent / "shared" / "data" / "raw"
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else default))

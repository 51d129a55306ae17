from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW_DIR = ROOT.parent / "shared" / "data" / "raw"


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any real connection outside tests marked `network` (tests must not reach the internet)."""
    if request.node.get_closest_marker("network"):
        return

    def guard(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a test tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket, "create_connection", guard)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty HAVENFLOW_HOME per test."""
    monkeypatch.setenv("HAVENFLOW_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def truncated_store(path: Path, ids: list[str] | tuple[str, ...], asof: str) -> Path:
    """A store holding the bundled ``ids`` cut at ``asof``: the world as it was on that day."""
    from havenflow.catalog import get_spec
    from havenflow.data.embedded import embedded_series
    from havenflow.data.store import ObservationBatch, Store

    Store(path).write(
        [ObservationBatch(get_spec(s), embedded_series(s)[:asof], "t", s) for s in ids]
    )
    return path


def run_main(
    args: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, str]:
    """Run the real entry point (``havenflow.cli.main``): exit code, stdout, stderr."""
    from havenflow.cli import main

    monkeypatch.setattr(sys, "argv", ["havenflow", *args])
    with pytest.raises(SystemExit) as stop:
        main()
    out = capsys.readouterr()
    code = stop.value.code
    return (code if isinstance(code, int) else 0 if code is None else 1), out.out, out.err

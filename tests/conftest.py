from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RAW_DIR = ROOT.parent / "shared" / "data" / "raw"


LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@pytest.fixture(autouse=True)
def _no_network(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any real connection but to loopback outside tests marked `network`.

    Tests must not reach the internet; servers the tests start themselves listen on
    127.0.0.1 only.
    """
    if request.node.get_closest_marker("network"):
        return
    connect = socket.socket.connect
    create = socket.create_connection

    def host_of(address: object) -> object:
        return address[0] if isinstance(address, tuple) and address else address

    def guarded_connect(self: socket.socket, address: object) -> None:
        if host_of(address) not in LOOPBACK:
            raise RuntimeError(f"a test tried to open a network connection to {address!r}")
        connect(self, address)  # type: ignore[arg-type]

    def guarded_create(address: object, *args: object, **kwargs: object) -> socket.socket:
        if host_of(address) not in LOOPBACK:
            raise RuntimeError(f"a test tried to open a network connection to {address!r}")
        return create(address, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "create_connection", guarded_create)


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

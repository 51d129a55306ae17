"""``havenflow serve``: the web dashboard."""

from __future__ import annotations

from typing import Annotated

import typer


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8050,
) -> None:
    """Start the web dashboard (FastAPI) on HOST:PORT."""
    from havenflow.web import serve as run_server

    run_server(host, port)

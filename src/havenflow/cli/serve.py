"""``havenflow serve``: the web dashboard (needs the ``web`` extra)."""

from __future__ import annotations

from typing import Annotated

import typer

from havenflow.cli._common import fail

#: The packages of the ``web`` extra; without one of them ``serve`` says how to install it.
WEB_PACKAGES = frozenset({"fastapi", "starlette", "uvicorn", "fastapi_offline"})


def serve(
    host: Annotated[str, typer.Option(help="Interface to bind (loopback by default).")] = (
        "127.0.0.1"
    ),
    port: Annotated[int, typer.Option(help="Port.", min=1, max=65535)] = 8050,
    allow_host: Annotated[
        list[str] | None,
        typer.Option(
            help="Another Host name the dashboard answers to (repeatable). It always answers "
            "127.0.0.1, localhost, [::1] and the --host it binds; any other Host gets 400."
        ),
    ] = None,
) -> None:
    """Start the web dashboard (FastAPI) on HOST:PORT."""
    try:
        from havenflow.web import serve as run_server
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in WEB_PACKAGES:
            raise
        fail(
            f"the dashboard needs the web extra ({exc.name} is not installed): "
            "pip install 'havenflow[web]'"
        )
    run_server(host, port, allow_host or ())

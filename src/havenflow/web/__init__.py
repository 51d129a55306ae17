"""The web dashboard and its JSON API (FastAPI): ``havenflow serve``.

Needs the ``web`` extra (``pip install 'havenflow[web]'``): fastapi, uvicorn and the offline
Swagger UI/Redoc bundles. Nothing outside this package imports them.

- :mod:`~havenflow.web.app`: the app (:func:`create_app`) and :func:`serve`;
- :mod:`~havenflow.web.models`: the response models ``/openapi.json`` documents;
- :mod:`~havenflow.web.security`: the Host allowlist and the security headers.
"""

from __future__ import annotations

from havenflow.web.app import create_app, serve

__all__ = ["create_app", "serve"]

"""`/redoc`: the API reference without another host.

fastapi-offline serves Swagger UI (`/docs`) and ReDoc from its wheel (`/static-offline-docs/`),
but its ReDoc bundle draws Redocly's logo in the menu from `cdn.redoc.ly`, so every visit told
that host. This `/redoc` loads the same bundle with that one image address replaced by `data:,`:
the image fails without a request and the bundle then leaves it out ("API docs by Redocly"
stays, as text). Neither docs page contacts another host (tests/web/test_signin_push_docs.py).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

BUNDLE = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
SCRIPT_PATH = "/redoc.standalone.js"
FAVICON_PATH = "/static-offline-docs/favicon.png"  # fastapi-offline's mount

router = APIRouter(include_in_schema=False)


@cache
def _bundle() -> bytes:
    return BUNDLE.read_bytes().replace(LOGO, b"data:,")


@router.get("/redoc")
async def redoc(request: Request) -> HTMLResponse:
    """The ReDoc page for this app's OpenAPI document."""
    root = request.scope.get("root_path", "")
    return get_redoc_html(
        openapi_url=f"{root}{request.app.openapi_url}",
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{SCRIPT_PATH}",
        redoc_favicon_url=f"{root}{FAVICON_PATH}",
        with_google_fonts=False,
    )


@router.get(SCRIPT_PATH)
async def redoc_script() -> Response:
    """The ReDoc bundle, without the logo from Redocly's CDN."""
    headers = {"Cache-Control": "public, max-age=3600"}
    return Response(_bundle(), media_type="text/javascript", headers=headers)

"""What an address that is no page answers: a browser asking for a page gets a small HTML page in
the app's look, everyone else the JSON 404 every API answer has.

Guarantees: a 404 for a path outside `/api/` asked with `Accept: text/html` (a browser following
a link or typing an address: `/requests/`, `/preferences/x`, anything) is web/not-found.html,
status 404, `Cache-Control: no-store`: no script, no inline style (the page's CSP applies; its
look is web/css/landing.css), a link to the app. Any other error, and any 404 under `/api/` or
asked without `text/html` (a client, a script, an image), is FastAPI's JSON answer, unchanged.
"""

from __future__ import annotations

from pathlib import Path

from fastapi.exception_handlers import http_exception_handler
from fastapi.responses import FileResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from .headers import API_PREFIX

PAGE = Path(__file__).resolve().parents[2] / "web" / "not-found.html"


def wants_page(request: Request) -> bool:
    """Whether a 404 for `request` is answered with the HTML page (the rule above)."""
    if request.url.path.startswith(API_PREFIX):
        return False
    return "text/html" in request.headers.get("accept", "").lower()


async def not_found(request: Request, error: Exception) -> Response:
    """The app's exception handler for HTTPException: the page for a browser's 404."""
    assert isinstance(error, HTTPException)
    if error.status_code == 404 and wants_page(request):
        return FileResponse(
            PAGE, status_code=404, media_type="text/html", headers={"Cache-Control": "no-store"}
        )
    return await http_exception_handler(request, error)

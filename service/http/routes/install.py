"""What makes the page an installable web app: its manifest, at the origin's root.

Guarantees: `/manifest.webmanifest` answers web/manifest.webmanifest (a static file, written
once) as `application/manifest+json`, the type the W3C Web App Manifest specification registers;
its icons are web/icons/ under /static (rendered by web/icons/render.py). Installed, the app
opens standalone at `/`; on iPhones, added to the Home Screen, it may receive Web Push.
`/favicon.ico`, which browsers and tools ask for on their own, is the app's icon
(web/icons/icon-192.png, `image/png`: every browser shows a PNG whatever the name).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

MANIFEST = Path(__file__).resolve().parents[3] / "web" / "manifest.webmanifest"
MANIFEST_PATH = "/manifest.webmanifest"
MEDIA_TYPE = "application/manifest+json"
FAVICON = MANIFEST.parent / "icons" / "icon-192.png"

router = APIRouter(include_in_schema=False)


@router.get(MANIFEST_PATH)
async def manifest() -> FileResponse:
    return FileResponse(MANIFEST, media_type=MEDIA_TYPE)


@router.get("/favicon.ico")
async def favicon() -> FileResponse:
    return FileResponse(
        FAVICON, media_type="image/png", headers={"Cache-Control": "public, max-age=86400"}
    )

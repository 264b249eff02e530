"""Renders the app's PNG icons from the SVGs beside this file, in Debian's Chromium (Playwright).

Run `.venv/bin/python web/icons/render.py` after changing an SVG and commit the PNGs it writes:
- `icon-192.png`, `icon-512.png`: icon.svg (a rounded square, transparent corners): "any";
- `maskable-512.png`: maskable.svg (full bleed, the mark inside the central 80% safe zone);
- `apple-touch-icon.png` (180): icon.svg over the accent colour (iOS rounds it, and wants no
  transparency);
- `badge-96.png`: badge.svg, white on transparent (Android's status bar uses its alpha only).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import async_playwright

HERE = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
ACCENT = "#4f46e5"
# file name: (SVG, size in px, background behind it or None for transparent)
ICONS: dict[str, tuple[str, int, str | None]] = {
    "icon-192.png": ("icon.svg", 192, None),
    "icon-512.png": ("icon.svg", 512, None),
    "maskable-512.png": ("maskable.svg", 512, None),
    "apple-touch-icon.png": ("icon.svg", 180, ACCENT),
    "badge-96.png": ("badge.svg", 96, None),
}


async def render() -> None:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for name, (svg, size, background) in ICONS.items():
            page = await browser.new_page(viewport={"width": size, "height": size})
            markup = (HERE / svg).read_text()  # sized by the CSS below (its viewBox scales)
            fill = background or "transparent"
            await page.set_content(
                f"<style>html,body{{margin:0;background:{fill}}}"
                f"svg{{display:block;width:{size}px;height:{size}px}}</style>{markup}"
            )
            await page.screenshot(path=HERE / name, omit_background=background is None)
            await page.close()
        await browser.close()


if __name__ == "__main__":
    asyncio.run(render())

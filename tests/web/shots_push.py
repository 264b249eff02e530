"""Screenshots of issue 23's app icons, as the manifest lists them (a system notification cannot
be photographed: its options are asserted in tests/web/test_push_actions.py).

Not a test: `.venv/bin/python -m tests.web.shots_push after-i23` (or `before-i23`, on the old
code, where every icon is missing); see tests/web/shots.py. Desktop 1366x800, phone 390x844.
"""

from __future__ import annotations

import uuid

import asyncpg
from playwright.async_api import Page, ViewportSize

from tests.web.shots import PHONE, Scenario, run
from tests.web.shots_panel import DESKTOP, dark, phone

ICONS = (
    ("icon.svg", "SVG mark", ""),
    ("icon-192.png", "192", ""),
    ("icon-512.png", "512", ""),
    ("maskable-512.png", "maskable 512, cut to a circle", "50%"),
    ("maskable-512.png", "maskable 512, as is", ""),
    ("apple-touch-icon.png", "apple-touch-icon 180", "22%"),
    ("badge-96.png", "badge 96 (monochrome)", ""),
)


SHEET = """([icons, dark]) => {
    // Built with the DOM and CSSOM: the app's CSP refuses style attributes in markup.
    document.body.replaceChildren();
    document.documentElement.style.background = dark ? '#0f1220' : '#f5f6fa';
    Object.assign(document.body.style, {
        margin: '0', padding: '16px', color: dark ? '#e6e8f0' : '#1d2130',
        background: 'transparent', font: '14px system-ui, sans-serif',
    });
    const title = document.createElement('h1');
    title.textContent = 'Vividly icons';
    title.style.fontSize = '18px';
    const grid = document.createElement('div');
    grid.style.display = 'flex';
    grid.style.flexWrap = 'wrap';
    for (const [name, caption, radius] of icons) {
        const figure = document.createElement('figure');
        Object.assign(figure.style, {margin: '12px', textAlign: 'center', width: '150px'});
        const image = new Image(96, 96);
        image.src = '/static/icons/' + name;
        image.alt = name;
        image.style.borderRadius = radius;
        if (name.startsWith('badge')) image.style.background = '#4f46e5';
        const text = document.createElement('figcaption');
        text.textContent = caption;
        figure.append(image, text);
        grid.append(figure);
    }
    document.body.append(title, grid);
    return Promise.all([...document.images].map((image) => image.decode().catch(() => null)));
}"""


async def icon_sheet(page: Page, conn: asyncpg.Connection, user: uuid.UUID) -> None:
    """Every icon at 96 px (the badge on the accent colour) on the page's light or dark ground."""
    dark_scheme = await page.evaluate("matchMedia('(prefers-color-scheme: dark)').matches")
    await page.evaluate(SHEET, [list(ICONS), dark_scheme])


SCENARIOS: list[tuple[str, ViewportSize, Scenario]] = [
    ("icons-desktop", DESKTOP, icon_sheet),
    ("icons-desktop-dark", DESKTOP, dark(icon_sheet)),
    ("icons-phone", PHONE, phone(icon_sheet)),
    ("icons-phone-dark", PHONE, phone(dark(icon_sheet))),
]

if __name__ == "__main__":
    run(SCENARIOS)

"""A finger on the test browser's touch screen: real touch events (CDP `Input.dispatchTouchEvent`),
which Chromium turns into the pointer events a phone's browser would send."""

from __future__ import annotations

from playwright.async_api import FloatRect, Page

STEPS = 8
FLING_MS = 600


async def swipe(page: Page, box: FloatRect, dx: float) -> None:
    """Drag a finger from the middle of `box` sideways by `dx` px (negative: left), then lift it."""
    cdp = await page.context.new_cdp_session(page)
    x = box["x"] + box["width"] / 2
    y = box["y"] + box["height"] / 2
    try:
        await cdp.send(
            "Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": [{"x": x, "y": y}]}
        )
        for step in range(1, STEPS + 1):
            points = [{"x": x + dx * step / STEPS, "y": y}]
            await cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": points})
        # The finger rests before it lifts, so the swipe ends with no speed: no fling follows
        # (a fling's end would swallow the next tap, as it does on a phone).
        for _ in range(3):
            await page.wait_for_timeout(40)
            points = [{"x": x + dx, "y": y}]
            await cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": points})
        await cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    finally:
        await cdp.detach()
    # Chromium takes a tap that comes right after a swipe as the finger stopping the swipe's
    # fling (no click), as a phone does: the next tap waits until that is over.
    await page.wait_for_timeout(FLING_MS)

"""The small HTML pages of an unsubscribe or confirmation link opened in a browser.

They carry no script and no inline style (the page's Content-Security-Policy applies), and
everything put in them is escaped. A mail scanner that prefetches the link gets the confirmation
page, which changes nothing; only its button (a POST) unsubscribes.
"""

from __future__ import annotations

import html

from fastapi.responses import HTMLResponse


def _page(title: str, body: str, status: int) -> HTMLResponse:
    document = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="robots" content="noindex">'
        f"<title>{html.escape(title)}</title></head>\n<body><main>\n"
        f"<h1>{html.escape(title)}</h1>\n{body}\n</main></body></html>\n"
    )
    return HTMLResponse(document, status_code=status, headers={"Cache-Control": "no-store"})


def masked(address: str) -> str:
    """`address` with all but the first character of its local part hidden."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}•••@{domain}"


def confirm(address: str, action: str) -> HTMLResponse:
    """Asks before unsubscribing `address`; the form posts to `action` (this link)."""
    body = (
        f"<p>Stop the email digest sent to {html.escape(masked(address))}?</p>\n"
        f'<form method="post" action="{html.escape(action, quote=True)}">'
        '<input type="hidden" name="List-Unsubscribe" value="One-Click">'
        '<button type="submit">Unsubscribe</button></form>'
    )
    return _page("Unsubscribe from the email digest", body, 200)


def done(detail: str) -> HTMLResponse:
    body = (
        f"<p>{html.escape(detail)}</p>\n"
        "<p>You can turn the digest on again in the app's notification preferences.</p>"
    )
    return _page("You are unsubscribed", body, 200)


def refused(detail: str, status: int) -> HTMLResponse:
    return _page("This unsubscribe link does not work", f"<p>{html.escape(detail)}</p>", status)


def confirm_address(address: str, action: str) -> HTMLResponse:
    """Asks before confirming `address`; the form posts to `action` (this link)."""
    body = (
        f"<p>Send the email digest to {html.escape(masked(address))}?</p>\n"
        f'<form method="post" action="{html.escape(action, quote=True)}">'
        '<button type="submit">Confirm</button></form>'
    )
    return _page("Confirm your email digest address", body, 200)


def address_confirmed(detail: str) -> HTMLResponse:
    return _page("Address confirmed", f"<p>{html.escape(detail)}</p>", 200)


def confirm_refused(detail: str, status: int) -> HTMLResponse:
    return _page("This confirmation link does not work", f"<p>{html.escape(detail)}</p>", status)


def open_refused(detail: str, status: int) -> HTMLResponse:
    body = f"<p>{html.escape(detail)}</p>\n<p>The notification is in the app.</p>"
    return _page("This digest link does not work", body, status)

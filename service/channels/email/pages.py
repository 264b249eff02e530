"""The small HTML pages of an unsubscribe, confirmation or open link opened in a browser.

They carry no script and no inline style (the page's Content-Security-Policy applies): their look
is the served stylesheet web/css/landing.css, light and dark, phone and desktop. Each links back
to the app ("Open Vividly") and, where the student may want to change something, to its
preferences. Everything put in them is escaped (templates/page.html.j2 autoescapes). A mail
scanner that prefetches a link gets the confirmation page, which changes nothing; only its
button (a POST) unsubscribes or confirms.
"""

from __future__ import annotations

from dataclasses import dataclass

from fastapi.responses import HTMLResponse

from .templating import page_html


@dataclass(frozen=True, slots=True)
class Form:
    action: str
    button: str
    fields: tuple[tuple[str, str], ...] = ()


def _page(
    title: str,
    paragraphs: list[str],
    status: int,
    *,
    form: Form | None = None,
    preferences: bool = False,
) -> HTMLResponse:
    document = page_html(
        "page.html.j2",
        title=title,
        paragraphs=paragraphs,
        form=form,
        preferences=preferences,
        tone="refused" if status >= 400 else None,
    )
    return HTMLResponse(document, status_code=status, headers={"Cache-Control": "no-store"})


def masked(address: str) -> str:
    """`address` with all but the first character of its local part hidden."""
    local, _, domain = address.rpartition("@")
    return f"{local[:1]}•••@{domain}"


def confirm(address: str, action: str) -> HTMLResponse:
    """Asks before unsubscribing `address`; the form posts to `action` (this link)."""
    form = Form(action, "Unsubscribe", (("List-Unsubscribe", "One-Click"),))
    return _page(
        "Unsubscribe from the email digest",
        [f"Stop the email digest sent to {masked(address)}?"],
        200,
        form=form,
        preferences=True,
    )


def done(detail: str) -> HTMLResponse:
    paragraphs = [detail, "You can turn the digest on again in the app's notification preferences."]
    return _page("You are unsubscribed", paragraphs, 200, preferences=True)


def refused(detail: str, status: int) -> HTMLResponse:
    return _page("This unsubscribe link does not work", [detail], status, preferences=True)


def confirm_address(address: str, action: str) -> HTMLResponse:
    """Asks before confirming `address`; the form posts to `action` (this link)."""
    return _page(
        "Confirm your email digest address",
        [f"Send the email digest to {masked(address)}?"],
        200,
        form=Form(action, "Confirm"),
    )


def address_confirmed(detail: str) -> HTMLResponse:
    return _page("Address confirmed", [detail], 200, preferences=True)


def confirm_refused(detail: str, status: int) -> HTMLResponse:
    return _page("This confirmation link does not work", [detail], status, preferences=True)


def open_refused(detail: str, status: int) -> HTMLResponse:
    """`detail` ends by saying to open the notification in Vividly: the page's button does."""
    return _page("This digest link does not work", [detail], status)

"""The email's and the landing pages' templates (templates/), rendered with Jinja2.

Guarantees:
- HTML templates (`*.html.j2`) autoescape every value, attributes included: what a student or
  the pipeline wrote can add no markup. Plain-text templates (`*.txt.j2`) do not escape; the
  values they print go through the `one_line` filter (no line breaks, no control characters).
- A mail's HTML is rendered, then inlined once (`mail_html`): css-inline copies the rules of the
  one shared stylesheet (templates/mail.css, put in a <style> by templates/mail.html.j2) into
  each element's `style` attribute, and keeps the @media rules (dark mode, narrow screens) in
  the <style>. Nothing is fetched while inlining.
- Landing pages (`page_html`) are served by this service under its Content-Security-Policy
  (no inline style or script): they link web/css/landing.css instead.
- Chrome text is English (`lang="en"`); a `lang` given for the student marks their own text
  (titles, questions) only, and only when it is a language tag (`http/languages.py`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import css_inline
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from ...http.languages import is_language_tag
from ...live.subjects import HOME_PATH, PREFERENCES_PATH
from .digest_items import one_line, when

TEMPLATES = Path(__file__).parent / "templates"
PRODUCT: Final = "Vividly"
APP_PATH: Final = HOME_PATH
LANDING_STYLESHEET: Final = "/static/css/landing.css"

_ENV = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=True),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
_ENV.filters["one_line"] = one_line
_ENV.filters["when"] = when
_ENV.globals.update(product=PRODUCT)
_INLINER = css_inline.CSSInliner(keep_at_rules=True, load_remote_stylesheets=False)


def language(lang: str | None) -> str | None:
    """`lang` when it is a language tag of the service's one shape, else None (left out)."""
    return lang if lang is not None and is_language_tag(lang) else None


def mail_html(name: str, **context: Any) -> str:
    """The template `name` rendered and its stylesheet inlined."""
    return _INLINER.inline(_ENV.get_template(name).render(**context))


def text(name: str, **context: Any) -> str:
    """The plain-text template `name` rendered."""
    return _ENV.get_template(name).render(**context)


def page_html(name: str, **context: Any) -> str:
    """A landing page: the template `name`, linking the served stylesheet."""
    return _ENV.get_template(name).render(
        stylesheet=LANDING_STYLESHEET,
        app_path=APP_PATH,
        preferences_path=PREFERENCES_PATH,
        **context,
    )

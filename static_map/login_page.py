"""The login page (登录): a small form, its own stylesheet served by gridmap, nothing external."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Template

from static_map.assets import OWN_URL

LOGIN_CSS = "login.css"
TEMPLATE = Path(__file__).with_name("templates") / "login.html"


def build_login_page(next_path: str = "/map", error: str | None = None,
                     username: str = "") -> str:
    """The login page HTML; `error` shown above the form, `next_path` posted back with it."""
    text = TEMPLATE.read_text(encoding="utf-8")
    # autoescape: next_path and username come from the request.
    page: str = Template(text, autoescape=True).render(
        css_url=f"{OWN_URL}/{LOGIN_CSS}", next=next_path, error=error, username=username)
    return page

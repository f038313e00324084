"""Every HTML page gridmap serves loads its assets from gridmap itself, and those assets exist."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient

ASSET_REF = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")
ANY_URL = re.compile(r"https?://", re.IGNORECASE)


@pytest.mark.parametrize("path", ["/map", "/docs", "/redoc"])
def test_page_names_no_other_host_and_its_assets_are_served(client: TestClient, path: str) -> None:
    resp = client.get(path)
    assert resp.status_code == 200 and resp.headers["content-type"].startswith("text/html")
    html = resp.text
    assert not ANY_URL.search(html), ANY_URL.findall(html)[:3]
    local = [u for u in ASSET_REF.findall(html) if u.startswith("/")]
    assert local, "the page loads nothing local?"
    for url in local:
        asset = client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 0, url

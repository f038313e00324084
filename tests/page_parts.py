"""Reading the live map pages' HTML in tests: the config handed to GridmapLive.start and the
layer control's overlay names (shared by the grid worker's and the commander's page tests)."""

from __future__ import annotations

import json
import re
from typing import Any


def start_config(page: str, kind: str) -> dict[str, Any]:
    """The config object of the page's `GridmapLive.start("<kind>", …)` call."""
    found = re.search(r"GridmapLive\.start\(\"" + re.escape(kind) + r"\", map_\w+, \{.*?\}, "
                      r"(\{.*?\})\);", page, re.DOTALL)
    assert found, "no start call"
    config: dict[str, Any] = json.loads(found.group(1))
    return config


def overlay_names(page: str) -> list[str]:
    """The layer control's overlay labels, markup stripped, in order."""
    overlays = re.search(r"overlays\s*:\s*\{(.*?)\}", page, re.DOTALL)
    assert overlays is not None
    labels = [json.loads(n) for n in re.findall(r'("(?:[^"\\]|\\.)*")\s*:', overlays.group(1))]
    return [re.sub(r"<[^>]+>", "", label) for label in labels]

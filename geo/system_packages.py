"""Debian packages the project installs for itself: PostGIS for the database, Chromium and GDAL
for the browser and client tests. Retries while another apt holds its lock."""

from __future__ import annotations

import os
import subprocess
import time

from geo.errors import LocalDbError


def _is_root() -> bool:
    return os.geteuid() == 0

# Headless browser tests (Chinese labels need a CJK font) and GDAL as a real OGC API client.
TEST_PACKAGES = {
    "chromium": "/usr/bin/chromium",
    "fonts-wqy-microhei": "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "gdal-bin": "/usr/bin/ogrinfo",
}


def apt_install(packages: tuple[str, ...], *, attempts: int = 60) -> None:
    """Install Debian packages, retrying while another apt holds the lists or dpkg lock."""
    if not _is_root():
        raise LocalDbError(
            f"packages {' '.join(packages)} are missing and installing them needs root; "
            "install them or set GRIDMAP_DATABASE_URL"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    steps = [
        ["apt-get", "update"],
        ["apt-get", "install", "-y", "--no-install-recommends",
         "-o", "DPkg::Lock::Timeout=600", *packages],
    ]
    for step in steps:
        for attempt in range(attempts):
            proc = subprocess.run(step, capture_output=True, text=True, env=env)
            if proc.returncode == 0:
                break
            if "Could not get lock" not in proc.stderr and "is locked" not in proc.stderr:
                raise LocalDbError(f"{' '.join(step[:2])} failed: {proc.stderr.strip()[-2000:]}")
            time.sleep(min(10, 1 + attempt))
        else:
            raise LocalDbError(f"{' '.join(step[:2])}: apt stayed locked by another process")



def ensure_test_packages() -> list[str]:
    """Install the test-only system packages that are missing; return what was installed."""
    missing = tuple(pkg for pkg, path in TEST_PACKAGES.items() if not os.path.exists(path))
    if missing:
        print(f"gridmap: installing {' '.join(missing)} for the test suite ...", flush=True)
        apt_install(missing)
    return list(missing)


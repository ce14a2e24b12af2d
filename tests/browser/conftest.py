"""Real-browser fixtures: Debian's Chromium driven by Playwright (sync API).

Playwright never downloads a browser here: it is pointed at /usr/bin/chromium, and a missing
Chromium fails the run (CI must not turn a missing browser into a green, skipped run).
"""
import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]
REPO_ROOT = Path(__file__).resolve().parents[2]
SHOTS_DIR = REPO_ROOT / "test-results" / "browser"

# Belt and braces: even an accidental `playwright install` path in this process stays offline.
os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")


@pytest.fixture(scope="session")
def browser():
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(f"Chromium is missing: the browser tests need {CHROMIUM} "
                    "(bash scripts/servers.sh ensure-chromium, or as root: apt-get install -y chromium).",
                    pytrace=False)
    from playwright.sync_api import sync_playwright
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def shots_dir():
    """Where full-page screenshots go for a person to look at (gitignored)."""
    SHOTS_DIR.mkdir(parents=True, exist_ok=True)
    return SHOTS_DIR

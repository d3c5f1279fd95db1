"""The briefing book in a real browser: Debian's headless Chromium, driven by Playwright,
opening the book that `briefing-bot run`'s HTTP server serves behind a signed link.

Nothing is downloaded: Playwright's Python package brings only its driver, and the browser is
/usr/bin/chromium (apt: chromium fonts-noto-cjk; `.ci/run` installs them). Without it these tests
skip locally with the reason, and fail under CI=true.
"""

import asyncio
import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.links import LinkSigner
from fakes.telegram_api import DEFAULT_TOKEN, FakeTelegram
from tests.cli import free_port, read_until, start_cli

from ..conftest import AUGUST

CHROMIUM = Path("/usr/bin/chromium")
SECRET = "browser-test-secret-0123456789"  # noqa: S105 - made up for the test
# The flags this machine's Chromium needs: no sandbox as root, and no background traffic
# (the network is closed; Chromium would otherwise try Google's hosts at every start).
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The August visit's book printed on A4: a cover, the summary, the rest. Generous bounds: a
# change of font metrics moves it by a page or two, a broken print stylesheet by many.
PAGES = range(4, 30)
CJK_FONT = re.compile(r"CJK|Noto Sans KR|Nanum|Un ", re.IGNORECASE)

if not CHROMIUM.exists():
    if os.environ.get("CI") == "true":
        raise RuntimeError(f"{CHROMIUM} is missing: CI must install chromium (see .ci/run)")
    pytest.skip(
        f"no Chromium at {CHROMIUM} (apt-get install chromium fonts-noto-cjk)",
        allow_module_level=True,
    )

playwright_api = pytest.importorskip("playwright.async_api")


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[str]:
    """`briefing-bot run` (Telegram against the fake, polling) with the book published; the
    base URL of its HTTP server."""
    fake = FakeTelegram()
    await fake.start()
    port = free_port()
    workdir = tmp_path / "run"
    workdir.mkdir()
    env = {
        "TELEGRAM_BOT_TOKEN": DEFAULT_TOKEN,
        "TELEGRAM_API_URL": fake.base_url,
        "BRIEFINGS_HTTP_PORT": str(port),
        "BRIEFINGS_PUBLIC_URL": "https://briefings.example.org",
        "BRIEFINGS_LINK_SECRET": SECRET,
    }
    process = await start_cli("run", cwd=workdir, env=env)
    try:
        assert process.stdout is not None
        started = await read_until(process.stdout, "started: digest scheduler")
        assert f"started: HTTP on 127.0.0.1:{port}" in started, started
        yield f"http://127.0.0.1:{port}"
    finally:
        if process.returncode is None:
            process.terminate()
            async with asyncio.timeout(30):
                await process.wait()
        await fake.close()


async def test_the_book_renders_prints_and_fetches_nothing(served: str, tmp_path: Path) -> None:
    signer = LinkSigner(SECRET.encode(), 30)
    url = served + signer.path("book", AUGUST, "ko")
    errors: list[str] = []
    requests: list[str] = []
    failed: list[str] = []
    async with playwright_api.async_playwright() as p:
        # A new, empty profile under the test's directory (Playwright's --user-data-dir).
        browser = await p.chromium.launch_persistent_context(
            str(tmp_path / "profile"),
            executable_path=str(CHROMIUM),
            args=FLAGS,
            headless=True,
            viewport={"width": 390, "height": 844},
        )
        try:
            page = await browser.new_page()
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.on("requestfailed", lambda r: failed.append(r.url))
            response = await page.goto(url, wait_until="load")
            assert response is not None
            assert response.status == 200
            assert await page.get_attribute("html", "lang") == "ko"
            # Nothing but the page itself was asked for, and nothing failed.
            assert requests == [url]
            assert failed == []
            assert errors == []
            # Readable on a phone: nothing wider than the screen.
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 390

            # Latin and Hangul each drawn with a real font (Hangul with a CJK one).
            cdp = await browser.new_cdp_session(page)
            await cdp.send("DOM.enable")
            await cdp.send("CSS.enable")
            root = await cdp.send("DOM.getDocument")
            fonts = {}
            for name, selector in {
                "hangul": 'span[lang="ko"]',
                "latin": 'span[lang="it"]',
            }.items():
                found = await cdp.send(
                    "DOM.querySelector", {"nodeId": root["root"]["nodeId"], "selector": selector}
                )
                assert found["nodeId"], selector
                used = await cdp.send("CSS.getPlatformFontsForNode", {"nodeId": found["nodeId"]})
                fonts[name] = used["fonts"]
                assert sum(f["glyphCount"] for f in used["fonts"]) > 0, (name, used)
            assert any(CJK_FONT.search(f["familyName"]) for f in fonts["hangul"]), fonts

            shot = tmp_path / "book.png"
            await page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000

            pdf = await page.pdf(format="A4", print_background=True)
            (tmp_path / "book.pdf").write_bytes(pdf)
            pages = len(re.findall(rb"/Type\s*/Page(?!s)", pdf))
            assert pages in PAGES, pages
        finally:
            await browser.close()
    assert shutil.which("chromium") or CHROMIUM.exists()

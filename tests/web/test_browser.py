"""End to end in a real browser: Debian's chromium driven by Playwright, against the app on a
real werkzeug server (127.0.0.1, ephemeral port) over a copy of the web test world.

Skipped only when ``/usr/bin/chromium`` is missing and ``GREENLEDGER_REQUIRE_BROWSER`` is not
``1`` (CI sets it, and installs chromium, so there they can never be skipped silently).
Playwright never downloads a browser here. Each page is also saved as a screenshot in the
session's temporary folder (``.../screenshots0/``), to be looked at.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.api.conftest import app_for
from tests.web.conftest import WebWorld

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-gpu",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
TIMEOUT_MS = 15_000


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("GREENLEDGER_REQUIRE_BROWSER") == "1":
        pytest.fail(f"{CHROMIUM} is missing but GREENLEDGER_REQUIRE_BROWSER=1")
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium); set "
                "GREENLEDGER_REQUIRE_BROWSER=1 to make this a failure")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    _chromium_or_skip()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        launched = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def site(web_world: WebWorld, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    app = app_for(web_world.api.copy(tmp_path_factory.mktemp("browser-ledger")))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


@pytest.fixture
def page(browser, site: str) -> Iterator[object]:
    context = browser.new_context(base_url=site, viewport={"width": 1200, "height": 900},
                                  locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    violations: list[str] = []
    page.on("console", lambda msg: violations.append(msg.text)
            if "Content Security Policy" in msg.text else None)
    yield page
    context.close()
    assert violations == [], violations  # the style sheet and forms pass the CSP


def test_the_sample_declaration_is_valid_and_the_tampered_copy_is_not(page, web_world, shots):
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    # the style sheet applied (not blocked): the header is dark
    assert page.eval_on_selector("header.top", "e => getComputedStyle(e).backgroundColor") \
        == "rgb(29, 42, 34)"
    page.screenshot(path=str(shots / "home-zh.png"), full_page=True)
    page.set_input_files("#pdf", str(web_world.sample_pdf))
    page.click("#verify-button")
    page.wait_for_selector("#verdict")
    assert page.locator("#verdict").get_attribute("data-outcome") == "valid"
    assert "有效" in page.inner_text("#verdict h1")
    assert page.locator('tr.check[data-ok="pass"]').count() == 10
    page.screenshot(path=str(shots / "verdict-valid-zh.png"), full_page=True)

    page.goto("/")
    page.set_input_files("#pdf", str(web_world.tampered_pdf))
    page.click("#verify-button")
    page.wait_for_selector("#verdict")
    assert page.locator("#verdict").get_attribute("data-outcome") == "invalid"
    failed = page.locator('tr.check[data-ok="fail"]')
    assert failed.first.get_attribute("data-check") == "signature-intact"
    assert "PDF 签名完整" in page.inner_text("#verdict")
    page.screenshot(path=str(shots / "verdict-tampered-zh.png"), full_page=True)


def test_the_qr_page_checks_the_proof_and_names_the_cosigner(page, web_world, shots):
    page.goto(f"/verify/{web_world.eu_declaration}?lang=en")
    assert page.locator("#status").get_attribute("data-status") == "valid"
    assert page.locator("#inclusion").get_attribute("data-ok") == "pass"
    assert "certifier.example/audit-1" in page.inner_text("main")
    page.screenshot(path=str(shots / "declaration-en.png"), full_page=True)


def test_a_producer_signs_in_sees_its_chart_and_switches_language(page, site, web_world, shots):
    page.goto("/login")
    page.screenshot(path=str(shots / "login-zh.png"), full_page=True)
    page.fill("#api_key", web_world.keys["producer"])
    page.click("#login-button")
    page.wait_for_url("**/dashboard")
    assert page.locator("#footprint-chart rect.bar.s0").count() == 12
    assert page.locator("#footprint-chart rect.bar.s1").count() == 12
    assert "生产商看板" in page.inner_text("h1")
    page.screenshot(path=str(shots / "dashboard-zh.png"), full_page=True)

    page.click("#lang-en")
    page.wait_for_selector('html[lang="en"]')
    assert page.inner_text("h1") == "Producer dashboard"
    page.screenshot(path=str(shots / "dashboard-en.png"), full_page=True)
    page.goto("/")  # the choice persists
    assert page.locator("html").get_attribute("lang") == "en"

    page.goto("/dashboard")
    page.click("#lang-zh")
    page.wait_for_selector('html[lang="zh-CN"]')
    assert "生产商看板" in page.inner_text("h1")

    page.click("#logout")
    page.wait_for_url(f"{site}/")
    page.goto("/dashboard")
    assert "/login" in page.url


def test_a_certifier_sees_the_audit_page(page, web_world, shots):
    page.goto("/login")
    page.fill("#api_key", web_world.keys["certifier"])
    page.click("#login-button")
    page.wait_for_url("**/audit")
    assert page.locator("#chain-status").get_attribute("data-clean") == "yes"
    page.screenshot(path=str(shots / "audit-zh.png"), full_page=True)

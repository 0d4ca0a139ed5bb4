"""Real headless Chromium (Debian's package) through Playwright against the app served on a
free localhost port: a responder sees the countdown, completes the form, and watches the
timeline and the bpmn-js diagram update; another role does not see the task."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from engine.api import Engine
from engine.clock import ManualClock
from tests.web.conftest import task_of
from web.settings import ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]


@pytest.fixture
def server(app: Flask) -> Iterator[str]:
    if not (ROOT / "node_modules" / "bpmn-js" / "dist").is_dir():
        pytest.fail("bpmn-js is not installed: run `make install` (npm install)")
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_port}"
    finally:
        httpd.shutdown()
        thread.join(timeout=10)
        httpd.server_close()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class Session:
    """One person's browser context; collects console errors (CSP violations show there)."""

    def __init__(self, browser: Any, base: str, width: int = 1280, height: int = 900):
        self.context = browser.new_context(viewport={"width": width, "height": height})
        self.page = self.context.new_page()
        self.page.set_default_timeout(15000)
        self.errors: list[str] = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.base = base

    def login(self, username: str) -> Session:
        self.page.goto(self.base + "/login")
        self.page.get_by_label("User name").fill(username)
        self.page.get_by_label("Password").fill("demo")
        self.page.get_by_role("button", name="Sign in").click()
        self.page.wait_for_url(self.base + "/")
        return self


def test_responder_completes_task_and_watches_the_incident(browser: Any, server: str, outage: str,
                                                           web_engine: Engine, clock: ManualClock) -> None:
    from playwright.sync_api import expect

    dan = Session(browser, server).login("dan")                     # it_team: not this task's role
    expect(dan.page.locator("#inbox")).to_contain_text("Nothing to do for your roles")
    expect(dan.page.locator("#inbox")).not_to_contain_text("Acknowledge outage")

    alice = Session(browser, server).login("alice")
    page = alice.page
    task = page.locator("li.task", has_text="INC-1")
    expect(task).to_contain_text("Acknowledge outage (IT supervisor)")
    countdown = task.locator("time.countdown")
    expect(countdown).to_have_text(re.compile(r"^(10m|9m \d+s) left$"))
    clock.advance(timedelta(seconds=95))                         # the server's (manual) clock moves on
    expect(countdown).to_have_text(re.compile(r"^8m 2\ds left$"))   # the open page follows it

    # a new incident appears in the open inbox without a reload
    second = web_engine.start("system_outage", business_key="INC-2")
    expect(page.locator("li.task", has_text="INC-2")).to_be_visible(timeout=10000)

    task.get_by_role("link", name="Acknowledge outage (IT supervisor)").click()
    expect(page.get_by_role("heading", name="Acknowledge outage (IT supervisor)")).to_be_visible()
    expect(page.locator(".documentation")).to_contain_text("Confirm that you have taken charge")
    page.get_by_label("Outage acknowledged").check()
    page.get_by_role("button", name="Complete").click()
    page.wait_for_url(f"{server}/instances/{outage}")
    expect(page.locator(".flash.success")).to_contain_text("Completed")
    expect(page.locator(".timeline")).to_contain_text("Acknowledge outage (IT supervisor): completed")
    expect(page.locator(".timeline")).to_contain_text("by alice")

    # bpmn-js renders the diagram with the completed and active elements marked
    expect(page.locator("#diagram[data-rendered='true']")).to_be_attached()
    expect(page.locator("#diagram .djs-container svg").first).to_be_visible()
    expect(page.locator('.djs-element.cf-completed[data-element-id="notify_supervisor"]')).to_be_attached()
    expect(page.locator('.djs-element.cf-active[data-element-id="emergency_meeting"]')).to_be_attached()

    # someone else completes the next step: timeline and diagram follow without a reload
    meeting = task_of(web_engine, outage, "emergency_meeting")
    web_engine.complete(meeting.task_id, {"meetingLocation": "Room 1"}, actor="frank")
    expect(page.locator(".timeline")).to_contain_text("Start emergency meeting: completed", timeout=10000)
    expect(page.locator('.djs-element.cf-completed[data-element-id="emergency_meeting"]')).to_be_attached(
        timeout=10000)
    assert alice.errors == [] and dan.errors == []
    assert second


def test_phone_sized_inbox_and_other_role(browser: Any, server: str, outage: str) -> None:
    from playwright.sync_api import expect

    bob = Session(browser, server, width=390, height=844).login("bob")       # backup of the role
    page = bob.page
    task = page.locator("li.task", has_text="Acknowledge outage (IT supervisor)")
    expect(task).to_be_visible()
    box = task.bounding_box()
    assert box is not None and box["width"] <= 390
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"horizontal scrolling on a phone: {width}px"
    carol = Session(browser, server).login("judy")                          # hr
    expect(carol.page.locator("#inbox")).not_to_contain_text("Acknowledge outage")
    assert bob.errors == [] and carol.errors == []

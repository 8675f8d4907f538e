"""
Playwright (sync API) driving Debian's Chromium against pytest-django's live_server.

Every page opened through the `open_page` fixture records what would show up
in the browser's console as a problem: console errors (CSP violations are
logged there), uncaught exceptions, CSP `securitypolicyviolation` events and
failed or 4xx/5xx requests to the live server.
"""

import os
from dataclasses import dataclass, field

import pytest

from .chromium import CHROMIUM, CHROMIUM_ARGS

# Playwright's sync API runs an event loop in this thread; the ORM must still
# be usable from the test itself.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"


# Runs in every document before its own scripts; reports CSP violations to the test.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
    window.__reportCspViolation(
        `${event.effectiveDirective} blocked ${event.blockedURI || "inline"} ` +
        `(${event.sourceFile || document.location.href}:${event.lineNumber})`
    );
});
"""


@dataclass
class Problems:
    """What went wrong in the browser, in the order it happened."""

    items: list = field(default_factory=list)

    def add(self, kind, text):
        self.items.append(f"{kind}: {text}")

    def take(self):
        """Return the problems so far and start afresh."""
        items, self.items = self.items, []
        return items


def record_console_error(problems, message):
    if message.type != "error":
        return
    url = message.location.get("url", "")
    # Chromium asks for /favicon.ico by itself on pages without an icon link
    # (the admin's); that 404 is not the page's doing.
    if url.endswith("/favicon.ico"):
        return
    problems.add("console", f"{message.text} ({url})")


def record_failed_request(problems, request):
    # ERR_ABORTED is a request the page itself gave up on (a navigation, a
    # replaced image), not one that failed.
    if request.failure and "ERR_ABORTED" in request.failure:
        return
    problems.add("request failed", f"{request.url} {request.failure}")


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"the browser tests need Chromium at {CHROMIUM}: `make test` installs it (bin/ensure-chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()
    playwright.stop()


@pytest.fixture
def open_page(browser, live_server):
    """
    open_page() -> (page, problems): a page in a fresh browser context (its own
    cookies, so a new reader), with base_url set to the live server.
    """
    contexts = []

    def open_page():
        context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
        context.set_default_timeout(10_000)
        contexts.append(context)
        problems = Problems()
        context.expose_binding("__reportCspViolation", lambda _source, text: problems.add("CSP", text))
        context.add_init_script(REPORT_CSP_VIOLATIONS)
        page = context.new_page()
        page.on("console", lambda message: record_console_error(problems, message))
        page.on("pageerror", lambda error: problems.add("page error", error.stack or str(error)))
        page.on("requestfailed", lambda request: record_failed_request(problems, request))
        page.on(
            "response",
            lambda response: (
                response.status >= 400
                and response.url.startswith(live_server.url)
                and problems.add("HTTP", f"{response.status} {response.url}")
            ),
        )
        return page, problems

    yield open_page
    for context in contexts:
        context.close()

"""The portal in a real browser: Debian's Chromium driven by Playwright, against `qrec serve`
started for real (gunicorn on a free loopback port) on a demonstration workspace and on a
normal one. What only a browser proves: logging in through the form, htmx's search as you
type, portal.js adding a table row, downloads through the page's links, signing with the
password, and that the Content-Security-Policy holds with no console error on any page.

A screenshot of every page visited goes to tests/web/screenshots/ (never committed)."""

from __future__ import annotations

import hashlib
import io
import os
import re
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright
from pypdf import PdfReader

from qrecords.api import records, steps
from qrecords.workspace import Workspace
from tests.conftest import TODAY, as_user, init_workspace, load_example
from tests.servers import free_port
from tests.web.portal import PASSWORD, events, normal_workspace

# Debian's Chromium (tools/install-system-deps.sh): Playwright cannot download its own here.
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
QREC = Path(sys.executable).with_name("qrec")  # the virtualenv's
SCREENSHOTS = Path(__file__).with_name("screenshots")
PHONE = "138 0000 1234"
START_SECONDS = 30

expect.set_options(timeout=20_000)  # a first PDF starts LibreOffice in the server


# -- the portal, served for real ----------------------------------------------------------


@dataclass
class Portal:
    root: Path
    url: str
    number: str  # the record made before the server started


def _wait_until_listening(server: subprocess.Popen, port: int, log: Path) -> None:
    """Until the port answers; fails with the server's output if it exits or is too slow."""
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"qrec serve exited ({server.returncode}):\n{log.read_text()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    pytest.fail(f"qrec serve did not listen on {port} in {START_SECONDS} s:\n{log.read_text()}")


@contextmanager
def serving(root: Path, number: str, today: str | None):
    """`qrec serve` on the workspace at `root` in a subprocess until the block ends (SIGTERM,
    so it stops its LibreOffice; killed if it does not stop). QREC_TODAY is `today`, or
    unset: a normal workspace refuses it and goes by the real date."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("QREC_TODAY", "QREC_WORKSPACE", "QREC_USER")}
    env["XDG_CONFIG_HOME"] = str(root.parent / "config")  # never the real one
    if today:
        env["QREC_TODAY"] = today
    port, log = free_port(), root.parent / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [str(QREC), "-w", str(root), "serve", "--host", "127.0.0.1", "--port", str(port),
             "--threads", "4"], env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        _wait_until_listening(server, port, log)
        yield Portal(root, f"http://127.0.0.1:{port}", number)
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="module")
def demo_portal(tmp_path_factory):
    """A demonstration workspace (QREC_TODAY=2026-11-23) holding the example complaint,
    served. Tests add records to it, none changes the complaint."""
    root = tmp_path_factory.mktemp("demo") / "ws"
    with pytest.MonkeyPatch.context() as env:
        env.setenv("QREC_TODAY", TODAY)
        ws = init_workspace(root)
        try:
            number = records.new_record(as_user(ws, "lina"), "complaint",
                                        load_example("complaint"))["number"]
        finally:
            ws.close()
    with serving(root, number, today=TODAY) as portal:
        yield portal


@pytest.fixture(scope="module")
def normal_portal(tmp_path_factory):
    """A normal workspace (passwords, the real date) holding a contract review submitted by
    lina, which chengang's department (technical) must sign, served."""
    root = tmp_path_factory.mktemp("normal") / "ws"
    with pytest.MonkeyPatch.context() as env:
        env.delenv("QREC_TODAY", raising=False)
        normal_workspace(root, {"lina": PASSWORD, "chengang": PASSWORD})
        ws = Workspace.open(root, "lina")
        try:
            number = records.new_record(ws, "contract_review", load_example("contract_review"),
                                        pdf=False)["number"]
            steps.transition(ws, number, "submit", pdf=False)
        finally:
            ws.close()
    with serving(root, number, today=None) as portal:
        yield portal


# -- the browser ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium, headless; its crash-report folder in a temporary config folder, not ~."""
    env = {**os.environ, "XDG_CONFIG_HOME": str(tmp_path_factory.mktemp("chromium"))}
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS,
                                              env=env)
        yield chromium
        chromium.close()


class Tabs:
    """Pages of the browser for one test, each in its own context (its own cookies: one user).
    Every console error (a Content-Security-Policy violation is one, a resource the page
    could not load another) and uncaught exception is kept in `errors`; `shot` saves a
    screenshot of a page as it is now."""

    def __init__(self, browser, test_name: str):
        self.browser, self.test_name = browser, re.sub(r"\W+", "_", test_name)
        self.errors: list[str] = []
        self.contexts = []
        self.shots = 0
        for old in SCREENSHOTS.glob(f"{self.test_name}-*.png"):  # of an earlier run
            old.unlink()

    def open(self, portal: Portal) -> Page:
        context = self.browser.new_context(base_url=portal.url, accept_downloads=True)
        self.contexts.append(context)
        page = context.new_page()
        page.on("console", lambda message: self._console(page, message))
        page.on("pageerror", lambda error: self.errors.append(f"{page.url}: {error}"))
        return page

    def _console(self, page: Page, message) -> None:
        source = message.location.get("url")
        if message.type != "error" or (source == page.url and
                                       message.text.startswith("Failed to load resource")):
            return  # the status of the page itself (a 401, a 422) is for the test to check
        self.errors.append(f"{page.url}: {message.text} ({source})")

    def shot(self, page: Page, what: str) -> None:
        self.shots += 1
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / f"{self.test_name}-{self.shots:02d}-{what}.png",
                        full_page=True)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def tabs(browser, request):
    """The test's pages; at the end, no page may have had a console error."""
    opened = Tabs(browser, request.node.name)
    yield opened
    opened.close()
    assert opened.errors == [], "console errors on the pages visited:\n" + "\n".join(
        opened.errors)


def log_in(tabs: Tabs, portal: Portal, user: str, password: str | None = None) -> Page:
    """A new page, logged in through the login form as `user` (a demonstration workspace
    needs no password), on the search page."""
    page = tabs.open(portal)
    page.goto("/login")
    page.get_by_label("用户名 User").fill(user)
    if password is not None:
        page.get_by_label("密码 Password").fill(password)
    tabs.shot(page, f"login-{user}")
    page.get_by_role("button", name="登录 Log in").click()
    expect(page).to_have_url(f"{portal.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("搜索记录 Search records")
    tabs.shot(page, "search")
    return page


def open_record(tabs: Tabs, page: Page, number: str) -> None:
    """Find `number` with the search box (as typed, no Enter) and open it from the hits."""
    page.get_by_role("searchbox").press_sequentially(number)
    page.locator("#results").get_by_role("link", name=number).click()
    expect(page).to_have_url(re.compile(rf"/records/{number}$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text(number)
    tabs.shot(page, f"record-{number}")


def download_pdf(page: Page) -> tuple[str, bytes]:
    """The PDF of the record shown, through its link: (suggested file name, bytes)."""
    with page.expect_download() as started:
        page.get_by_role("link", name="PDF", exact=True).click()
    download = started.value
    return download.suggested_filename, Path(download.path()).read_bytes()


# -- the tests -----------------------------------------------------------------------------


def test_logging_in_with_user_and_password_lands_on_the_search_page(tabs, normal_portal):
    page = tabs.open(normal_portal)
    page.goto("/")  # a stranger is sent to log in
    expect(page).to_have_url(re.compile(r"/login\?"))
    expect(page.get_by_role("heading", level=1)).to_have_text("登录 Log in")
    tabs.shot(page, "login")
    page.get_by_label("用户名 User").fill("lina")
    page.get_by_label("密码 Password").fill("not-the-password")
    page.get_by_role("button", name="登录 Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("Wrong user or password")
    expect(page.get_by_label("用户名 User")).to_have_value("lina")
    tabs.shot(page, "wrong-password")
    page.get_by_label("密码 Password").fill(PASSWORD)
    page.get_by_role("button", name="登录 Log in").click()
    expect(page).to_have_url(f"{normal_portal.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text("搜索记录 Search records")
    expect(page.locator(".who")).to_contain_text("李娜 (lina)")
    tabs.shot(page, "search")


def test_search_shows_the_hits_as_you_type(tabs, demo_portal):
    page = log_in(tabs, demo_portal, "lina")
    with page.expect_response(lambda r: r.url.endswith("/search")) as posted:
        page.get_by_role("searchbox").press_sequentially("华东")  # no Enter
    assert posted.value.request.method == "POST" and posted.value.ok
    assert posted.value.request.headers.get("hx-request") == "true"  # htmx's, not the form's
    hits = page.locator("#results .hits li")
    expect(hits).to_have_count(1)
    expect(hits.first).to_contain_text(demo_portal.number)
    expect(page.locator("#total")).to_contain_text("共 1 条记录")
    expect(hits.first.locator("mark").first).to_have_text("华东")
    expect(page).to_have_url(f"{demo_portal.url}/")  # the page was updated, not left
    tabs.shot(page, "hits")


def test_a_hit_opens_the_record_whose_pdf_downloads_as_issued(tabs, demo_portal):
    page = log_in(tabs, demo_portal, "lina")  # privacy role: the documents as issued
    open_record(tabs, page, demo_portal.number)
    expect(page.locator(".sheet")).to_contain_text(PHONE)
    name, content = download_pdf(page)
    assert name == f"{demo_portal.number}_v1.pdf"
    ws = Workspace.open(demo_portal.root, "wangwen")
    try:
        stored = ws.catalog.files(ws.record_row(demo_portal.number)["id"], 1)["pdf"]
    finally:
        ws.close()
    assert hashlib.sha256(content).hexdigest() == stored["sha256"]


def test_without_the_privacy_role_the_page_and_the_pdf_are_masked(tabs, demo_portal):
    page = log_in(tabs, demo_portal, "zhangwei")
    open_record(tabs, page, demo_portal.number)
    sheet = page.locator(".sheet")
    expect(sheet).to_contain_text("***")
    expect(sheet).not_to_contain_text(PHONE)
    name, content = download_pdf(page)
    assert name.endswith("_masked.pdf"), name
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(content)).pages)
    assert "已遮蔽 MASKED" in text and PHONE not in text


def test_filling_in_a_table_with_a_mistake_keeps_what_was_typed(tabs, demo_portal):
    """A customer property list (the complaint has no table): a row added and filled, one
    added and removed again, a mistake shown beside its cell and corrected."""
    page = log_in(tabs, demo_portal, "zhouqiang")
    page.get_by_role("link", name="新建 New").click()
    tabs.shot(page, "forms")
    page.get_by_role("link", name=re.compile("顾客财产清单")).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("顾客财产清单")
    page.locator("[name=customer]").fill("苏州明辉电子科技有限公司")
    page.locator("[name=contract_no]").fill("MH-2026-112")
    page.locator("[name=received_date]").fill("2026-11-18")
    page.locator("[name=received_by]").fill("周强")
    items = page.locator("#field-items")
    expect(items.locator("tbody tr")).to_have_count(0)
    items.get_by_role("button", name="＋ 添加行 Add a row").click()
    expect(items.locator("tbody tr")).to_have_count(1)
    expect(page.locator("[name=items-0-item_no]")).to_be_focused()
    page.locator("[name=items-0-item_no]").fill("1")
    page.locator("[name=items-0-name]").fill("铜板 C1100")
    page.locator("[name=items-0-category]").select_option("material")
    page.locator("[name=items-0-quantity]").fill("四十")  # the mistake
    page.locator("[name=items-0-unit]").fill("张")
    items.get_by_role("button", name="＋ 添加行 Add a row").click()  # a row too many ...
    extra = items.locator("tbody tr").nth(1)
    extra.locator("input[name$='-name']").fill("多余的行")
    extra.locator(".remove-row").click()  # ... removed again
    expect(items.locator("tbody tr")).to_have_count(1)
    tabs.shot(page, "filled-in")
    page.get_by_role("button", name="建立记录 Make the record").click()

    expect(items.locator(".problem")).to_contain_text("items[1].quantity")
    expect(page.get_by_role("alert")).to_contain_text("请改正标出的字段")
    for name, value in [("customer", "苏州明辉电子科技有限公司"), ("contract_no", "MH-2026-112"),
                        ("received_date", "2026-11-18"), ("items-0-name", "铜板 C1100"),
                        ("items-0-category", "material"), ("items-0-quantity", "四十"),
                        ("items-0-unit", "张")]:
        expect(page.locator(f"[name={name}]")).to_have_value(value)
    tabs.shot(page, "mistake-shown")
    page.locator("[name=items-0-quantity]").fill("40")
    page.get_by_role("button", name="建立记录 Make the record").click()

    expect(page).to_have_url(re.compile(r"/records/CP-2026-\d{4}\?made=1$"))
    expect(page.get_by_text("已建立 Made: version 1")).to_be_visible()
    expect(page.locator(".sheet table")).to_contain_text("铜板 C1100")
    expect(page.locator(".sheet table")).not_to_contain_text("多余的行")
    tabs.shot(page, "made")


def test_a_department_row_is_signed_with_the_password_and_the_meaning_shown(
        tabs, normal_portal, monkeypatch):
    monkeypatch.delenv("QREC_TODAY")  # a normal workspace refuses it (to read its events)
    number = normal_portal.number
    page = log_in(tabs, normal_portal, "chengang", PASSWORD)
    page.get_by_role("link", name="我的任务 My tasks").click()
    task = page.get_by_role("row").filter(has_text=number)
    expect(task).to_contain_text("待本部门会签")
    tabs.shot(page, "tasks")
    task.get_by_role("link", name=number).click()
    expect(page).to_have_url(re.compile(rf"/records/{number}$"))
    sign = page.locator("form", has=page.get_by_role("button", name="签名 Sign"))
    expect(sign.locator(".meaning")).to_be_visible()
    expect(sign.locator(".meaning")).to_contain_text("签名含义 Meaning: 审核 reviewed")
    sign.get_by_label("评审意见 Decision").select_option("feasible")
    sign.get_by_label("签名密码 Password").fill(PASSWORD)
    tabs.shot(page, "to-sign")
    sign.get_by_role("button", name="签名 Sign").click()

    expect(page).to_have_url(re.compile(rf"/records/{number}$"))
    expect(page.locator(".sheet")).to_contain_text("陈刚")
    tabs.shot(page, "signed")
    signed = [e["detail"]["signature"] for e in events(normal_portal.root, "record.signed")]
    assert [(s["signer"], s["meaning"]) for s in signed] == [("chengang", "审核 reviewed")]


def test_the_policy_is_enforced_and_a_violation_would_be_seen(tabs, demo_portal):
    """The listener the other tests rely on: an inline script is refused by the browser, and
    the refusal is a console error."""
    page = log_in(tabs, demo_portal, "lina")
    with page.expect_console_message(lambda m: m.type == "error") as refused:
        ran = page.evaluate("""() => {
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.body.append(script);
            return window.inlineRan === true;
        }""")
    assert ran is False
    assert "Content Security Policy directive 'script-src 'self''" in refused.value.text
    assert len(tabs.errors) == 1 and refused.value.text in tabs.errors[0]
    tabs.errors.clear()  # the violation was this test's own doing

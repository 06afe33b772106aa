"""The portal through Flask's test client, route by route: who may see and do what, masking,
CSRF, lockout, 403 and 404, downloads byte for byte, filling in with mistakes, signing with
the password. Real workspaces (SQLite, files, Whoosh, LibreOffice for the masked PDF)."""

from __future__ import annotations

import hashlib
import io

import pytest

from qrecords.api import records, steps
from qrecords.workspace import Workspace
from tests.conftest import as_user, init_workspace, load_example
from tests.web.portal import (PASSWORD, client, csrf, events, log_in, normal_workspace,
                              post, submitted_contract)

PHONE = "138 0000 1234"


@pytest.fixture
def demo(tmp_path):
    """A demonstration workspace with one complaint (contact details are sensitive)."""
    ws = init_workspace(tmp_path / "ws")
    made = records.new_record(as_user(ws, "lina"), "complaint", load_example("complaint"))
    ws.close()
    return tmp_path / "ws", made["number"]


@pytest.fixture
def normal(tmp_path, monkeypatch):
    monkeypatch.delenv("QREC_TODAY", raising=False)
    return normal_workspace(tmp_path / "normal", {"lina": PASSWORD, "chengang": PASSWORD})


ROUTES = ["/", "/tasks", "/overdue", "/new", "/new/complaint", "/records/CC-2611-01",
          "/records/CC-2611-01/diff", "/records/CC-2611-01/v1.pdf",
          "/records/CC-2611-01/amend"]


@pytest.mark.parametrize("path", ROUTES)
def test_every_page_sends_a_stranger_to_the_login(demo, path):
    response = client(demo[0]).get(path)
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_the_login_page_shows_only_its_own_notes(normal):
    """/login?note= put any text a link carried on the portal's own page (escaped, but a
    fake notice all the same); a redirect now names one of the page's notes by its key."""
    spoofed = client(normal).get("/login?note=系统升级，请致电 400-000-0000")
    assert spoofed.status_code == 200 and "400-000-0000" not in spoofed.text
    stranger = client(normal)
    sent = stranger.get("/tasks")
    assert sent.status_code == 302 and "note=login" in sent.headers["Location"]
    assert "请先登录 Log in first" in stranger.get(sent.headers["Location"]).text
    c = log_in(client(normal), "lina")
    cookie = c.get_cookie("qrec_session").value
    assert post(c, "/logout", {}).status_code == 302
    replayed = client(normal)
    replayed.set_cookie("qrec_session", cookie)  # a session that has ended
    sent = replayed.get("/tasks")
    assert sent.status_code == 302 and "note=ended" in sent.headers["Location"]
    assert "会话已失效，请重新登录 Your session has ended" in \
        replayed.get(sent.headers["Location"]).text


def test_a_partial_update_without_a_session_is_told_to_log_in(demo):
    response = client(demo[0]).post("/search", data={"q": "x"},
                                    headers={"HX-Request": "true"})
    assert response.status_code in (400, 401)  # no session, so no CSRF token either


def test_pages_carry_the_security_headers(demo):
    c = log_in(client(demo[0]), "lina")
    response = c.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "<script>" not in response.text.replace(
        "<script src=", "")  # scripts only from files of the portal
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    cookie = response.request.environ.get("HTTP_COOKIE", "")
    assert "qrec_session" in cookie


def test_a_form_without_its_csrf_token_is_refused(demo):
    c = log_in(client(demo[0]), "lina")
    assert c.post("/search", data={"q": "华东"}).status_code == 400
    assert c.post("/new/complaint", data={"customer": "x"}).status_code == 400
    assert c.post("/logout").status_code == 400


def test_search_is_posted_so_a_searched_value_is_in_no_url(demo):
    root, number = demo
    c = log_in(client(root), "zhangwei")
    response = post(c, "/search", {"q": "华东"}, headers={"HX-Request": "true"})
    assert response.status_code == 200 and number in response.text
    assert "<mark>华东</mark>" in response.text and "共 1 条" in response.text
    assert c.get("/search?q=华东").status_code == 405  # never a GET with the query


def test_a_sensitive_value_is_found_and_logged_only_for_the_privacy_role(demo):
    root, number = demo
    shown = post(log_in(client(root), "zhangwei"), "/search", {"q": PHONE},
                 headers={"HX-Request": "true"})
    assert number not in shown.text
    assert events(root, "search.sensitive") == []
    found = post(log_in(client(root), "lina"), "/search", {"q": PHONE},
                 headers={"HX-Request": "true"})
    assert number in found.text
    logged = events(root, "search.sensitive")
    assert logged and logged[0]["actor"] == "lina" and PHONE not in str(logged[0]["detail"])


def test_a_record_is_masked_without_the_privacy_role_and_a_privacy_read_is_logged(demo):
    root, number = demo
    masked = log_in(client(root), "zhangwei").get(f"/records/{number}")
    assert masked.status_code == 200 and "***" in masked.text and PHONE not in masked.text
    assert events(root, "record.sensitive_read") == []
    seen = log_in(client(root), "lina").get(f"/records/{number}")
    assert PHONE in seen.text
    assert [e["actor"] for e in events(root, "record.sensitive_read")] == ["lina"]
    assert "· 质量部" in seen.text and "· quality<" not in seen.text  # who holds it, by name


def test_the_documents_as_issued_byte_for_byte_for_a_privacy_user(demo):
    root, number = demo
    c = log_in(client(root), "lina")
    ws = Workspace.open(root, "wangwen")
    stored = ws.catalog.files(ws.record_row(number)["id"], 1)
    ws.close()
    for kind in ("pdf", "docx"):
        response = c.get(f"/records/{number}/v1.{kind}")
        assert response.status_code == 200
        assert hashlib.sha256(response.data).hexdigest() == stored[kind]["sha256"]
        assert f"{number}_v1.{kind}" in response.headers["Content-Disposition"]
    logged = events(root, "record.downloaded")
    assert [(e["actor"], e["detail"]["kind"], e["detail"]["masked"]) for e in logged] == \
        [("lina", "pdf", False), ("lina", "docx", False)]


def test_others_get_a_masked_rendition_with_a_visible_mark_made_once(demo):
    from pypdf import PdfReader

    root, number = demo
    c = log_in(client(root), "zhangwei")
    first = c.get(f"/records/{number}/v1.pdf")
    assert first.status_code == 200 and "_masked.pdf" in first.headers["Content-Disposition"]
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(first.data)).pages)
    assert "已遮蔽 MASKED" in text and "***" in text and PHONE not in text
    assert "王磊" not in text  # the contact's name is sensitive too
    again = c.get(f"/records/{number}/v1.pdf")
    assert again.data == first.data  # the cached rendition
    docx = c.get(f"/records/{number}/v1.docx")
    assert PHONE.encode() not in docx.data
    logged = events(root, "record.downloaded")
    assert [e["detail"]["masked"] for e in logged] == [True, True, True]


def test_an_unknown_record_or_document_is_404_and_reveals_nothing(demo):
    root, number = demo
    c = log_in(client(root), "zhangwei")
    assert c.get("/records/CC-2611-99").status_code == 404
    assert c.get(f"/records/{number}/v9.pdf").status_code == 404
    assert c.get(f"/records/{number}/v0.pdf").status_code == 404  # not the current version
    for typed, shown in (("%00", "\\x00"), ("CC%1B[2J", "CC\\x1b[2J"), ("%E2%80%AE", "\\u202e")):
        page = c.get(f"/records/{typed}")  # quoted escaped, as the CLI prints it
        assert page.status_code == 404 and shown in page.text, typed
        assert "\x00" not in page.text and "\x1b" not in page.text and "\u202e" not in page.text
    assert c.get(f"/records/{number}/v1.exe").status_code == 404
    assert c.get(f"/records/{number}/letters/..%2F..%2Fqrecords.yaml").status_code == 404
    assert c.get("/no/such/page").status_code == 404


def test_a_step_the_roles_do_not_allow_is_403_and_logged(demo, tmp_path):
    root, number = demo
    c = log_in(client(root), "zhangwei")
    response = post(c, f"/records/{number}/step", {"action": "investigate"})
    assert response.status_code == 403 and "needs the role" in response.text
    refused = events(root, "access.refused")
    assert refused and refused[0]["actor"] == "zhangwei"
    assert refused[0]["detail"]["path"] == f"/records/{number}/step"
    # an auditor reads the refusal in the audit pack, whatever its period
    import zipfile

    from qrecords.api import audit_pack

    controller = Workspace.open(root, "wangwen")
    try:
        audit_pack.build(controller, str(tmp_path / "pack.zip"), date_from="2020-01-01",
                             date_to="2020-12-31")
    finally:
        controller.close()
    with zipfile.ZipFile(tmp_path / "pack.zip") as pack:
        trail = pack.read("audit/events.csv").decode("utf-8-sig")
    assert "access.refused" in trail and f"/records/{number}/step" in trail


def test_what_the_web_server_refuses_is_said_in_both_languages(demo):
    root, number = demo
    c = log_in(client(root), "zhangwei")
    wrong_method = c.put("/search")
    assert wrong_method.status_code == 405 and "POST" in wrong_method.headers["Allow"]
    assert "此页面不接受这种请求 This page does not take this kind of request" in \
        wrong_method.text
    too_big = c.post("/search", data={"q": "x" * (4 << 20)})
    assert too_big.status_code == 413 and "提交的内容太大 What was sent is too large" in \
        too_big.text
    for page in (wrong_method, too_big):
        assert "Method Not Allowed" not in page.text and "Request Entity" not in page.text
        assert page.headers["Content-Security-Policy"]  # the portal's own page and headers


def test_the_amend_form_is_refused_to_whom_amending_is_not_allowed(demo):
    """zhangwei (service) may not amend a contract review: the form itself is 403, logged,
    and shows none of the record's values."""
    root, _ = demo
    number = submitted_contract(root)
    response = log_in(client(root), "zhangwei").get(f"/records/{number}/amend")
    assert response.status_code == 403 and "amending needs the role" in response.text
    assert 'name="customer"' not in response.text
    refused = events(root, "access.refused")
    assert refused[-1]["actor"] == "zhangwei"
    assert refused[-1]["detail"]["path"] == f"/records/{number}/amend"
    assert log_in(client(root), "lina").get(f"/records/{number}/amend").status_code == 200


def test_a_value_holding_markup_or_a_template_is_shown_as_text(demo):
    root, _ = demo
    ws = Workspace.open(root, "lina")
    data = {**load_example("complaint"), "customer": "<script>alert(1)</script>{{ 7*7 }}"}
    number = records.new_record(ws, "complaint", data, pdf=False)["number"]
    ws.close()
    page = log_in(client(root), "lina").get(f"/records/{number}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;{{ 7*7 }}" in page  # as typed, not run
    hits = post(log_in(client(root), "lina"), "/search", {"q": "alert"},
                headers={"HX-Request": "true"}).text
    assert number in hits and "<script>alert" not in hits and "&lt;script&gt;" in hits


def test_filling_in_with_a_table_row_and_a_mistake_keeps_what_was_typed(demo):
    root, _ = demo
    c = log_in(client(root), "zhouqiang")
    form = {"customer": "苏州明辉电子科技有限公司", "contract_no": "MH-2026-112",
            "received_date": "2026-11-18", "received_by": "周强", "items-present": "1",
            "items-0-item_no": "1", "items-0-name": "铜板 C1100", "items-0-category": "material",
            "items-0-quantity": "四十", "items-0-unit": "张",
            "items-1-item_no": "", "items-1-name": ""}  # an empty row is dropped
    wrong = post(c, "/new/customer_property", form)
    assert wrong.status_code == 422
    assert "items[1].quantity" in wrong.text and 'value="四十"' in wrong.text
    assert 'value="铜板 C1100"' in wrong.text and 'value="MH-2026-112"' in wrong.text
    right = post(c, "/new/customer_property", {**form, "items-0-quantity": "40"})
    assert right.status_code == 302
    number = right.headers["Location"].split("/records/")[1].split("?")[0]
    ws = Workspace.open(root, "wangwen")
    data = ws.catalog.version(ws.record_row(number)["id"], 1)["data"]
    ws.close()
    assert data["items"] == [{**data["items"][0], "item_no": 1, "name": "铜板 C1100",
                              "quantity": data["items"][0]["quantity"]}]
    assert str(data["items"][0]["quantity"]) in ("40", "40.0", "40.00")


def test_amend_needs_a_reason_and_keeps_masked_values(demo):
    root, number = demo
    c = log_in(client(root), "zhangwei")  # no privacy role: contact details masked
    page = c.get(f"/records/{number}/amend")
    assert page.status_code == 200 and PHONE not in page.text
    assert 'name="customer_phone" value=""' in page.text
    no_reason = post(c, f"/records/{number}/amend", {"defective_quantity": "15", "reason": ""})
    assert no_reason.status_code == 400 and "reason" in no_reason.text
    done = post(c, f"/records/{number}/amend", {"defective_quantity": "15", "reason": "复点",
                                                "customer_phone": ""})
    assert done.status_code == 302
    ws = Workspace.open(root, "wangwen")
    record = ws.record_row(number)
    data = ws.catalog.version(record["id"], 2)["data"]
    ws.close()
    assert data["defective_quantity"] == 15 and data["customer_phone"] == PHONE


def test_my_tasks_lists_the_rows_my_department_must_sign(demo):
    root, _ = demo
    number = submitted_contract(root)
    c = log_in(client(root), "chengang")
    page = c.get("/tasks").text
    assert number in page and "待本部门会签" in page
    assert "<small>技术部 Technical</small>" in page  # the department by its name, not its id
    assert "(技术部 Technical)" in c.get(f"/records/{number}").text


def test_a_wrong_password_is_counted_and_the_user_locked_after_five(normal):
    c = client(normal)
    for attempt in range(1, 6):
        response = c.post("/login", data={"user": "lina", "password": "nope-nope",
                                          "csrf_token": csrf(c)})
        assert response.status_code == 401 and "Wrong user or password" in response.text
    locked = c.post("/login", data={"user": "lina", "password": PASSWORD,
                                    "csrf_token": csrf(c)})
    assert locked.status_code == 401 and "Wrong user or password" in locked.text
    unknown = c.post("/login", data={"user": "nobody", "password": "x", "csrf_token": csrf(c)})
    assert _page(locked.text).replace("lina", "nobody") == _page(unknown.text)  # no hint
    # five wrong passwords, then the attempt while locked: all logged
    assert [e["detail"].get("locked", False) for e in events(normal, "login.failed")] == \
        [False] * 5 + [True]
    assert events(normal, "login.locked") and unknown.status_code == 401


def _page(html: str) -> str:
    """A page without its CSRF tokens (they carry the time, in seconds: two pages made in
    different seconds differ in them), in the forms and in htmx's request headers."""
    import re

    html = re.sub(r'name="csrf_token" value="[^"]+"', "", html)
    return re.sub(r'"X-CSRFToken": "[^"]+"', "", html)


def test_logout_ends_the_session_in_the_catalog(normal):
    c = log_in(client(normal), "lina")
    assert c.get("/").status_code == 200
    cookie = c.get_cookie("qrec_session").value
    assert post(c, "/logout", {}).status_code == 302
    other = client(normal)
    other.set_cookie("qrec_session", cookie)  # the old cookie, replayed
    assert other.get("/").status_code == 302


def test_signing_a_row_asks_the_password_and_shows_the_meaning(normal):
    number = submitted_contract(normal)
    c = log_in(client(normal), "chengang")
    page = c.get(f"/records/{number}").text
    assert "签名含义 Meaning: 审核 reviewed" in page and 'type="password"' in page
    wrong = post(c, f"/records/{number}/sign", {"decision": "feasible", "password": "bad"})
    assert wrong.status_code == 401 and "wrong password" in wrong.text
    assert c.get("/").status_code == 200  # a wrong signature password does not log out
    right = post(c, f"/records/{number}/sign", {"decision": "feasible", "password": PASSWORD})
    assert right.status_code == 302
    signed = events(normal, "record.signed")[0]["detail"]["signature"]
    assert signed["signer"] == "chengang" and signed["meaning"] == "审核 reviewed"
    assert events(normal, "signature.failed")[0]["actor"] == "chengang"
    local = signed["at_local"]  # shown with its offset: the versions' column is UTC
    shown = f"陈刚 审核 reviewed {local[:10]} {local[11:16]} {local[-6:]}"
    assert local[-6:] == "+08:00" and shown in c.get(f"/records/{number}").text


def test_the_controller_pages_are_the_document_controllers_only(demo):
    root, number = demo
    staff = log_in(client(root), "zhangwei")
    assert staff.get("/retention").status_code == 403
    assert staff.get("/registers/complaint.xlsx").status_code == 200  # masked, as the CLI
    assert events(root, "register.sensitive_read") == []
    assert post(staff, "/retention/hold", {"numbers": number, "reason": "x",
                                           "place": "1"}).status_code == 403
    controller = log_in(client(root), "wangwen")
    page = controller.get("/retention")
    assert page.status_code == 200 and "客户投诉处理单" in page.text
    assert "结案后保存 3 年，期满销毁 3y from closure, then destroy" in page.text
    held = post(controller, "/retention/hold", {"numbers": number, "reason": "诉讼 litigation",
                                                "place": "1"})
    assert held.status_code == 200 and "已冻结 on hold" in held.text
    dry = post(controller, "/retention/dispose", {"all_due": "1", "reason": "保存期满",
                                                  "dry_run": "1"})
    assert dry.status_code == 200 and "试运行 Dry run" in dry.text
    xlsx = controller.get("/registers/complaint.xlsx")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    assert events(root, "register.sensitive_read")  # the controller sees contact details
    pack = post(controller, "/audit-pack", {"form": "complaint"})
    assert pack.status_code == 200 and pack.data[:2] == b"PK"
    assert events(root, "audit_pack.made")


def test_a_refused_hold_keeps_what_the_controller_typed(demo):
    root, number = demo
    controller = log_in(client(root), "wangwen")
    typed = {"numbers": f"CC-2699-99 {number}", "reason": "诉讼 litigation", "place": "1"}
    refused = post(controller, "/retention/hold", typed)
    assert refused.status_code == 404 and "无此记录 no record &#39;CC-2699-99&#39;" in refused.text
    assert f'value="CC-2699-99 {number}"' in refused.text
    assert 'value="诉讼 litigation"' in refused.text
    assert events(root, "hold.placed") == []  # nothing held: the list is refused whole
    no_reason = post(controller, "/retention/dispose", {"all_due": "1", "reason": " ",
                                                       "dry_run": "0"})
    assert no_reason.status_code == 400 and 'value="0" selected' in no_reason.text


def test_after_the_login_the_page_asked_for_opens(demo):
    root, number = demo
    c = client(root)
    sent = c.get(f"/records/{number}")
    assert sent.status_code == 302 and "next=" in sent.headers["Location"]
    login_page = sent.headers["Location"]
    token = csrf(c, login_page)
    done = c.post(login_page, data={"user": "lina", "password": "", "csrf_token": token})
    assert done.status_code == 302 and done.headers["Location"] == f"/records/{number}"
    for wanted in ("//evil.example/x", "/%09/evil.example", "/\\evil.example", "/%0a/x",
                   "https://evil.example"):
        evil = c.post(f"/login?next={wanted}", data={"user": "lina", "password": "",
                                                     "csrf_token": csrf(c)})
        assert evil.status_code == 302 and evil.headers["Location"] == "/", wanted
    assert c.head("/login", data={"user": "lina", "password": ""}).status_code == 200


def test_the_sign_form_is_shown_only_while_my_department_has_to_sign(demo):
    root, _ = demo
    number = submitted_contract(root)
    c = log_in(client(root), "chengang")
    assert "会签 Sign your department" in c.get(f"/records/{number}").text
    assert post(c, f"/records/{number}/sign", {"decision": "feasible"}).status_code == 302
    assert "会签 Sign your department" not in c.get(f"/records/{number}").text


def test_overdue_reminders_become_letters_of_the_record(demo, monkeypatch):
    root, number = demo
    monkeypatch.setenv("QREC_TODAY", "2026-12-20")  # past the complaint's deadline
    c = log_in(client(root), "zhaomin")
    page = c.get("/overdue")
    assert page.status_code == 200 and number in page.text
    made = post(c, "/overdue/remind", {})
    assert made.status_code == 200 and f"RM-20261220-{number}" in made.text
    record = c.get(f"/records/{number}").text
    key = f"reminders/2026-12-20/RM-20261220-{number}.docx"
    assert key in record
    letter = c.get(f"/records/{number}/letters/{key}")
    assert letter.status_code == 200 and letter.data[:2] == b"PK"
    ws = Workspace.open(root, "wangwen")
    stored = ws.catalog.written_files(number)
    ws.close()
    assert key in stored
    assert events(root, "record.downloaded")[-1]["detail"]["letter"] == key


def test_the_diff_of_two_versions_names_each_change(demo):
    root, number = demo
    ws = Workspace.open(root, "lina")
    records.amend(ws, number, {"defective_quantity": 15}, "复点", pdf=False)
    ws.close()
    page = log_in(client(root), "zhangwei").get(f"/records/{number}/diff")
    assert page.status_code == 200
    assert "v1 → v2" in page.text and ">12<" in page.text and ">15<" in page.text
    assert PHONE not in page.text
    same = log_in(client(root), "zhangwei").get(f"/records/{number}/diff?from=2&to=2")
    assert "无变化 No changes" in same.text


def test_results_come_in_pages_and_sorted_by_date(demo):
    import re

    root, _ = demo
    ws = Workspace.open(root, "lina")
    for day in range(1, 25):  # 24 more complaints, received in November up to today
        records.new_record(ws, "complaint", {**load_example("complaint"),
                                             "received_date": f"2026-11-{min(day, 23):02d}"},
                           pdf=False)
    ws.close()
    c = log_in(client(root), "zhangwei")
    first = post(c, "/search", {"q": "华东"}, headers={"HX-Request": "true"}).text
    assert "共 25 条" in first and first.count("<li>") == 20
    assert 'name="page" value="2"' in first
    second = post(c, "/search", {"q": "华东", "page": "2"}, headers={"HX-Request": "true"})
    assert second.text.count("<li>") == 5
    newest = post(c, "/search", {"q": "华东", "order": "date"},
                  headers={"HX-Request": "true"}).text
    dates = re.findall(r'<span class="date">(\d{4}-\d\d-\d\d)</span>', newest)
    assert dates == sorted(dates, reverse=True) and dates[0] == "2026-11-23"


def test_a_signing_step_asks_the_password_and_records_the_meaning(tmp_path, monkeypatch):
    monkeypatch.delenv("QREC_TODAY", raising=False)
    root = normal_workspace(tmp_path / "n", {"huangjun": PASSWORD})
    ws = Workspace.open(root, "lina")
    number = records.new_record(ws, "complaint", load_example("complaint"), pdf=False)["number"]
    quality = Workspace.open(root, "zhaomin")
    steps.transition(quality, number, "investigate", pdf=False)
    steps.transition(quality, number, "assign", {"cause_analysis": "包装不足",
                                                 "responsible_department": "quality"},
                     pdf=False)
    steps.transition(ws, number, "propose", {"countermeasure": "改包装",
                                             "disposition": "credit",
                                             "disposition_amount": "3000"}, pdf=False)
    quality.close()
    ws.close()
    c = log_in(client(root), "huangjun")
    page = c.get(f"/records/{number}").text
    assert "签名含义 Meaning: 核决 decided" in page
    refused = post(c, f"/records/{number}/step", {"action": "decide"})  # no password
    assert refused.status_code == 401
    done = post(c, f"/records/{number}/step", {"action": "decide", "password": PASSWORD})
    assert done.status_code == 302
    decided = [e for e in events(root, "record.transition")
               if e["detail"]["transition"] == "decide"][0]
    assert decided["detail"]["signature"]["meaning"] == "核决 decided"
    assert decided["actor"] == "huangjun"


def test_a_new_form_starts_with_the_schemas_defaults(demo):
    root, _ = demo
    page = log_in(client(root), "lina").get("/new/complaint").text
    assert 'name="received_date" type="date" value="2026-11-23"' in page  # today
    assert '<option value="no" selected>否 No</option>' in page  # sample_attached: no


def test_a_new_form_asks_what_qrec_new_asks_and_leaves_later_steps_to_them(demo):
    """The fields of `qrec new` (domain/entry.py): the cause analysis and the disposition are
    filled in at their steps, on the record's page, not when the complaint is made."""
    from qrecords.domain.entry import entry_fields, typed_fields

    root, _ = demo
    page = log_in(client(root), "lina").get("/new/complaint").text
    ws = Workspace.open(root, "lina")
    form = ws.forms.current("complaint")
    ws.close()
    asked = {f.id for f in entry_fields(form)}
    later = {f.id for f in typed_fields(form)} - asked
    assert {"cause_analysis", "disposition"} <= later and "customer" in asked
    for fid in asked:
        assert f'name="{fid}"' in page or f'name="{fid}-present"' in page, fid
    for fid in later:
        assert f'name="{fid}"' not in page and f'name="{fid}-' not in page, fid


def test_a_step_is_given_its_fields_and_a_refusal_keeps_what_was_typed(demo):
    root, _ = demo
    number = submitted_contract(root)
    for department_user in ("lina", "chengang", "zhaomin", "sunli", "zhouqiang", "liuyang"):
        c = log_in(client(root), department_user)
        assert post(c, f"/records/{number}/sign", {"decision": "feasible"}).status_code == 302
    assert post(log_in(client(root), "lina"), f"/records/{number}/step",
                {"action": "complete"}).status_code == 302
    manager = log_in(client(root), "huangjun")
    page = manager.get(f"/records/{number}").text
    assert 'name="set-conclusion"' in page  # the approve step takes the conclusion
    refused = post(manager, f"/records/{number}/step",
                   {"action": "approve", "comment": "同意 agreed"})  # no conclusion given
    assert refused.status_code == 409 or refused.status_code == 422
    assert "conclusion" in refused.text and 'value="同意 agreed"' in refused.text
    done = post(manager, f"/records/{number}/step", {"action": "approve",
                                                     "set-conclusion": "accept"})
    assert done.status_code == 302
    assert "已批准" in manager.get(f"/records/{number}").text


def test_a_form_the_roles_do_not_allow_is_not_offered(demo):
    root, number = demo
    staff = log_in(client(root), "zhangwei")  # service role, sales department
    contract = submitted_contract(root)
    assert "会签 Sign your department" not in staff.get(f"/records/{contract}").text
    assert contract not in staff.get("/tasks").text
    controller = log_in(client(root), "wangwen")  # complaints are amended by their roles
    assert "修改 Amend" not in controller.get(f"/records/{number}").text

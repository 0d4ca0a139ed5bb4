"""The comparison page and its API (figures, deltas, changes, two diagrams, reproducible
simulation plots embedded safely), the plan page and API (risks, targets, CSV, heat map, who may
edit), the review schedule, and the demo set-up scheduling the quarterly review."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from engine import schedules
from engine.api import Engine
from engine.clock import ManualClock
from engine.config import Config
from tests.conftest import FIXTURES, ROOT
from tests.web.conftest import bearer
from tests.web.test_web_browser import browser, server  # noqa: F401  (fixtures)
from web import demo
from web.pages.analysis import _CACHE, safe_svg

ORDERS = [ROOT / "bpmn" / "order_handling_as_is.bpmn", ROOT / "bpmn" / "order_handling_to_be.bpmn"]
REVIEW = ROOT / "bpmn" / "plan_review.bpmn"
ANALYSIS = FIXTURES / "analysis"


@pytest.fixture
def orders(web_engine: Engine) -> Engine:
    web_engine.import_paths(ORDERS + [REVIEW])
    return web_engine


def _box_plot(html: str) -> str:
    match = re.search(r'<figure class="plot" id="box-plot">(.*?)</figure>', html, re.S)
    assert match, "no box plot on the page"
    return match.group(1)


def test_compare_page_defaults_to_the_order_pair(orders: Engine, login) -> None:
    client, _ = login("alice")
    response = client.get("/compare?simulate=40&seed=7")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "steps 5 → 3, critical path 48 h → 24 h, hand-offs 4 → 2" in html
    assert html.count('class="diagram compare-diagram"') == 2
    assert "/definitions/order_handling_as_is/1/source" in html and "/definitions/order_handling_to_be/1/source" in html
    assert "Production scheduling + Shipping → Schedule and ship" in html        # merged
    assert '"Schedule and ship": "merged"' in html and '"Shipping": "merged"' in html   # diagram colours
    assert "Enter customer order → Register order automatically" in html         # automated
    assert re.search(r'change-parallelised">.*?Finance review', html, re.S)
    assert html.count("<svg") == 3 and "Cycle time, mean" in html
    assert not re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", html)   # CSP: no inline code
    assert "compare.js" in html and 'href="/compare"' in html                   # the navigation links it
    _CACHE.clear()                                                              # simulate again, not cached
    again = client.get("/compare?simulate=40&seed=7").get_data(as_text=True)
    assert _box_plot(again) == _box_plot(html)                                  # same seed, same plot
    other = client.get("/compare?simulate=40&seed=8").get_data(as_text=True)
    assert _box_plot(other) != _box_plot(html)


def test_compare_page_refuses_unknown_keys_and_file_paths(orders: Engine, login) -> None:
    client, _ = login("alice")
    for spec in ("nope", "/etc/passwd", "../../pyproject.toml", str(ORDERS[0])):
        response = client.get("/compare", query_string={"as_is": spec, "to_be": "order_handling_to_be"})
        assert response.status_code == 404, spec
        assert "root:" not in response.get_data(as_text=True)
    assert client.get("/compare?simulate=999999").status_code == 400
    assert client.get("/compare?simulate=0").status_code == 200                  # no simulation
    page = client.get("/compare?as_is=order_handling_to_be&to_be=order_handling_as_is&simulate=0")
    assert "steps 3 → 5" in page.get_data(as_text=True)


def test_compare_page_without_models_explains(web_engine: Engine, login) -> None:
    client, _ = login("alice")
    response = client.get("/compare")
    assert response.status_code == 200 and "Import two processes" in response.get_data(as_text=True)


def test_svg_is_rebuilt_from_an_allow_list() -> None:
    hostile = ('<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)" width="10"><script>alert(2)</script>'
               '<text x="1" y="2" style="x:url(javascript:1)">&lt;img src=x onerror=alert(3)&gt;</text>'
               '<a href="javascript:alert(4)"><rect width="1" height="1" fill="url(#x)"/></a>'
               '<foreignObject><div>x</div></foreignObject></svg>')
    clean = str(safe_svg(hostile))
    assert "onload" not in clean and "<script" not in clean and "javascript" not in clean
    assert "foreignObject" not in clean and "style" not in clean and 'fill="url' not in clean
    assert "&lt;img src=x onerror=alert(3)&gt;" in clean and 'width="10"' in clean
    assert "could not be shown" in str(safe_svg("<svg><unclosed"))


def test_compare_api(orders: Engine, client: FlaskClient) -> None:
    report = client.get("/api/v1/compare", headers=bearer()).get_json()
    assert (report["as_is"]["tasks"], report["to_be"]["tasks"]) == (5, 3)
    assert (report["as_is"]["critical_path_hours"], report["to_be"]["critical_path_hours"]) == (48, 24)
    assert (report["as_is"]["handoffs"], report["to_be"]["handoffs"]) == (4, 2)
    assert report["deltas"]["critical_path"] == "-PT24H" or report["deltas"]["critical_path_hours"] == -24
    assert "simulation" not in report
    url = "/api/v1/compare?as_is=order_handling_as_is&to_be=order_handling_to_be&simulate=30&seed=3"
    first, second = (client.get(url, headers=bearer()).get_json() for _ in range(2))
    assert first["simulation"] == second["simulation"] and "plots" not in first
    assert first["simulation"]["as_is"]["scenario"]["cases"] == 30
    with_plots = client.get(url + "&plots=true", headers=bearer()).get_json()
    assert with_plots["plots"]["box_plot"].startswith("<svg")
    assert client.get("/api/v1/compare?as_is=nope&to_be=order_handling_to_be", headers=bearer()).status_code == 404
    assert client.get("/api/v1/compare?simulate=x", headers=bearer()).status_code == 400
    assert client.get("/api/v1/compare?simulate=10000&replications=20", headers=bearer()).status_code == 400
    assert client.get("/api/v1/compare").status_code == 401


def test_plan_page_read_only_for_responders(orders: Engine, login) -> None:
    client, token = login("alice")
    page = client.get("/plan").get_data(as_text=True)
    assert "Risk register" in page and "Add a risk" not in page and 'href="/plan"' in page
    response = client.post("/plan/risks", data={"csrf_token": token, "id": "R1", "risk": "x", "likelihood": 1,
                                                "impact": 1})
    assert response.status_code == 403
    assert client.get("/plan/risks.csv").status_code == 200                     # reading is fine


def test_manager_adds_edits_deletes_risks_with_heat_map(orders: Engine, login) -> None:
    client, token = login("grace")                                              # continuity_manager
    response = client.post("/plan/risks", data={
        "csrf_token": token, "id": "R7", "risk": "Warehouse flooded", "likelihood": "4", "impact": "5",
        "process": "order_handling_to_be", "steps": "schedule_and_ship", "runbook": "system_outage",
        "controls": "Second warehouse", "owner": "grace"})
    assert response.status_code == 302
    page = client.get("/plan").get_data(as_text=True)
    assert "Warehouse flooded" in page and "4 × 5 = 20" in page and "Second warehouse" in page
    assert re.search(r'title="likelihood 4 × impact 5 = 20 \(high\): R7" data-count="1"', page)
    bad = client.post("/plan/risks", data={"csrf_token": token, "id": "R8", "risk": "x", "likelihood": "9",
                                           "impact": "1"})
    assert bad.status_code == 400 and "likelihood" in bad.get_data(as_text=True)
    row_id = re.search(r'href="/plan/risks/(\d+)"', page).group(1)
    assert client.get(f"/plan/risks/{row_id}").status_code == 200
    saved = client.post(f"/plan/risks/{row_id}", data={"csrf_token": token, "id": "R7", "risk": "Warehouse flooded",
                                                       "likelihood": "1", "impact": "2"})
    assert saved.status_code == 302 and "1 × 2 = 2" in client.get("/plan").get_data(as_text=True)
    assert client.post(f"/plan/risks/{row_id}/delete", data={"csrf_token": token}).status_code == 302
    assert "Warehouse flooded" not in client.get("/plan").get_data(as_text=True)
    assert client.post("/plan/risks/999999/delete", data={"csrf_token": token}).status_code == 404


def test_csv_import_and_export_through_the_page(orders: Engine, login, clock: ManualClock) -> None:
    client, token = login("grace")
    with (ANALYSIS / "risks.csv").open("rb") as fh:
        response = client.post("/plan/risks.csv", data={"csrf_token": token, "file": (fh, "risks.csv")},
                               content_type="multipart/form-data")
    assert response.status_code == 302
    exported = client.get("/plan/risks.csv")
    assert exported.mimetype == "text/csv" and "attachment" in exported.headers["Content-Disposition"]
    assert exported.get_data(as_text=True).splitlines()[1].startswith("R1,Key supplier cannot deliver,4,4")
    with (ANALYSIS / "targets.csv").open("rb") as fh:
        client.post("/plan/targets.csv", data={"csrf_token": token, "file": (fh, "t.csv")},
                    content_type="multipart/form-data")
    page = client.get("/plan").get_data(as_text=True)
    assert "Fewer SLA breaches" in page and "no data" in page
    bad = client.post("/plan/risks.csv", data={"csrf_token": token, "file": (__import__("io").BytesIO(
        b"id,risk\nR1,x\n"), "bad.csv")}, content_type="multipart/form-data")
    assert bad.status_code == 400 and "missing column" in bad.get_data(as_text=True)
    target_id = re.search(r'href="/plan/targets/(\d+)"', page).group(1)
    edit = client.get(f"/plan/targets/{target_id}").get_data(as_text=True)
    assert 'value="Faster order processing"' in edit


def test_registers_api(orders: Engine, client: FlaskClient, login) -> None:
    created = client.post("/api/v1/risks", headers=bearer(), json={
        "id": "R1", "risk": "Payment outage", "likelihood": 3, "impact": 5, "runbook": "system_outage"})
    assert created.status_code == 201 and created.get_json()["level"] == "high"
    row_id = created.get_json()["row_id"]
    changed = client.put(f"/api/v1/risks/{row_id}", headers=bearer(), json={"likelihood": 1})
    assert changed.get_json()["score"] == 5 and changed.get_json()["runbook"] == "system_outage"
    assert client.post("/api/v1/risks", headers=bearer(), json={"id": "R1", "risk": "dup", "likelihood": 1,
                                                                "impact": 1}).status_code == 400
    imported = client.post("/api/v1/risks.csv", headers={**bearer(), "Content-Type": "text/csv"},
                           data=(ANALYSIS / "risks.csv").read_bytes())
    assert imported.get_json() == {"added": 3, "updated": 1}
    register = client.get("/api/v1/risks", headers=bearer()).get_json()
    assert len(register["risks"]) == 4 and register["heat_map"]["levels"]["high"] == 2
    assert client.get("/api/v1/risks.csv", headers=bearer()).get_data(as_text=True).startswith("id,risk,")
    assert client.delete(f"/api/v1/risks/{row_id}", headers=bearer()).status_code == 204
    assert client.get(f"/api/v1/risks/{row_id}", headers=bearer()).status_code == 404
    assert client.get("/api/v1/risks/abc", headers=bearer()).status_code == 404
    target = client.post("/api/v1/targets", headers=bearer(), json={
        "goal": "Fewer timeouts", "key": "order_sla", "metric": "timeout_rate", "target": 0.05})
    assert target.status_code == 201 and target.get_json()["current"] is None
    tid = target.get_json()["row_id"]
    assert client.put(f"/api/v1/targets/{tid}", headers=bearer(), json={"direction": "sideways"}).status_code == 400
    assert client.post("/api/v1/targets.csv?replace=true", headers={**bearer(), "Content-Type": "text/csv"},
                       data=(ANALYSIS / "targets.csv").read_bytes()).get_json() == {"added": 3, "removed": 1}
    assert [t["goal"] for t in client.get("/api/v1/targets", headers=bearer()).get_json()][1] == "Fewer SLA breaches"
    responder, token = login("alice")
    assert responder.get("/api/v1/risks").status_code == 200
    refused = responder.post("/api/v1/risks", json={"id": "R9", "risk": "x", "likelihood": 1, "impact": 1},
                             headers={"X-CSRFToken": token})
    assert refused.status_code == 403


def test_review_schedule_on_the_plan_page_and_api(orders: Engine, login, client: FlaskClient,
                                                  clock: ManualClock) -> None:
    manager, token = login("grace")
    assert manager.post("/plan/schedules", data={"csrf_token": token, "key": "plan_review",
                                                 "every": "P3M"}).status_code == 302
    page = manager.get("/plan").get_data(as_text=True)
    assert re.search(r"<td>plan_review</td><td>P3M</td>", page)
    assert manager.post("/plan/schedules", data={"csrf_token": token, "key": "plan_review",
                                                 "every": "often"}).status_code == 400
    [row] = client.get("/api/v1/schedules", headers=bearer()).get_json()
    clock.set(clock.now() + timedelta(days=93))
    orders.run_due_drills()                                                     # what the worker does
    assert [t.name for t in orders.inbox("grace")] == ["Review continuity plan and registers"]
    assert "Review continuity plan and registers" in manager.get("/").get_data(as_text=True)
    assert client.delete(f"/api/v1/schedules/{row['id']}", headers=bearer()).status_code == 204
    created = client.post("/api/v1/schedules", headers=bearer(), json={"key": "plan_review", "cron": "0 9 1 */3 *"})
    assert created.status_code == 201 and created.get_json()["cron"] == "0 9 1 */3 *"
    assert client.post("/api/v1/schedules", headers=bearer(), json={"key": "nope"}).status_code == 404


def test_demo_schedules_the_quarterly_review(database_url: str, clock: ManualClock) -> None:
    eng = Engine(Config(database_url=database_url), clock=clock, senders=demo.demo_senders())
    try:
        done = demo.seed(eng)
        assert any("plan review" in line for line in done)
        [row] = schedules.list_schedules(eng)
        assert (row["key"], row["every"]) == ("plan_review", "P3M")
        assert demo.seed(eng) == [] and len(schedules.list_schedules(eng)) == 1
    finally:
        eng.close()


@pytest.mark.browser
@pytest.mark.skipif(not Path("/usr/bin/chromium").exists(), reason="Debian's chromium is not installed")
def test_compare_page_in_chromium_renders_both_diagrams_and_plots(orders: Engine, server, browser) -> None:  # noqa: F811
    from tests.web.test_web_browser import Session

    person = Session(browser, server).login("grace")
    person.page.goto(server + "/compare?simulate=30&seed=2")
    for index in range(2):
        person.page.locator(".compare-diagram").nth(index).and_(
            person.page.locator("[data-rendered=true]")).wait_for()
    assert person.page.locator("#box-plot svg rect").count() == 2
    as_is, to_be = (set((person.page.locator(".compare-diagram").nth(i).get_attribute("data-marked") or "").split())
                    for i in range(2))
    assert {"enter_customer_order", "production_scheduling", "shipping", "finance_review"} <= as_is
    assert {"register_order", "schedule_and_ship", "inventory_check"} <= to_be
    assert person.page.locator(".compare-diagram .djs-element.cf-merged").count() >= 3
    assert person.page.locator(".compare-diagram .djs-element").count() > 10
    person.page.get_by_role("link", name="Plan").click()
    person.page.wait_for_url(server + "/plan")
    assert person.page.locator("#heat-map td").count() == 25
    assert person.errors == []                                                  # no CSP violation

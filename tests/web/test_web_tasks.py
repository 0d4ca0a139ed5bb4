"""The task page: generated form, field errors, safe documentation, 403 for other roles,
and two responders racing for one task."""

from __future__ import annotations

import re
import threading
from datetime import timedelta

from engine.api import Engine
from tests.web.conftest import task_of


def _form_task(engine: Engine) -> tuple[str, str]:
    iid = engine.start("web_form", business_key="FORM-1")
    return iid, task_of(engine, iid, "fill_form").task_id


def test_form_has_an_input_per_field_type(login, web_engine: Engine) -> None:
    _, task_id = _form_task(web_engine)
    dan, _ = login("dan")                     # it_team
    page = " ".join(dan.get(f"/tasks/{task_id}").get_data(as_text=True).split())
    assert re.search(r'<label for="f-summary">Summary <span class="req"', page)
    assert re.search(r'<input id="f-summary" name="summary" type="text"[^>]*required', page)
    assert re.search(r'name="affected" type="number" value="" step="1"', page)
    assert re.search(r'name="ratio" type="number" value="" step="any"', page)
    assert re.search(r'type="checkbox" id="f-standby" name="standby" value="true"', page)
    assert re.search(r'name="since" type="date"', page)
    assert '<option value="low" >Low</option>' in page and '<option value="high" >High</option>' in page


def test_script_in_task_name_and_documentation_is_text(login, web_engine: Engine) -> None:
    iid, task_id = _form_task(web_engine)
    dan, _ = login("dan")
    page = dan.get(f"/tasks/{task_id}").get_data(as_text=True)
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(&#39;name&#39;)&lt;/script&gt; Fill the form" in page
    assert "<strong>Check</strong> the <em>standby</em> system." in page      # Markdown rendered
    assert "<li>first step</li>" in page
    assert 'href="javascript:' not in page and "[bad link](javascript:alert(1))" in page   # left as text
    assert '<a href="https://example.test/runbook" rel="noopener noreferrer nofollow">runbook</a>' in page
    for path in ("/", f"/instances/{iid}"):
        assert "<script>alert(" not in dan.get(path).get_data(as_text=True)
    live = dan.get("/inbox/live").get_json()["html"]
    assert "<script>alert(" not in live and "&lt;script&gt;" in live


def test_field_errors_are_shown_per_field(login, web_engine: Engine) -> None:
    _, task_id = _form_task(web_engine)
    dan, token = login("dan")
    missing = dan.post(f"/tasks/{task_id}", data={"csrf_token": token, "affected": "12"})
    page = missing.get_data(as_text=True)
    assert missing.status_code == 400
    assert 'id="f-summary-error">this field is required' in page
    assert 'id="f-severity-error">this field is required' in page
    assert 'name="affected" type="number" value="12"' in page          # what was typed is kept
    wrong = dan.post(f"/tasks/{task_id}", data={"csrf_token": token, "summary": "s", "severity": "high",
                                                "affected": "many"})
    assert wrong.status_code == 400
    assert "id=\"f-affected-error\">&#39;many&#39; is not a valid long" in wrong.get_data(as_text=True)
    bad_enum = dan.post(f"/tasks/{task_id}", data={"csrf_token": token, "summary": "s", "severity": "extreme"})
    assert bad_enum.status_code == 400 and 'id="f-severity-error"' in bad_enum.get_data(as_text=True)


def test_completing_goes_to_the_incident_page(login, web_engine: Engine) -> None:
    iid, task_id = _form_task(web_engine)
    dan, token = login("dan")
    response = dan.post(f"/tasks/{task_id}", data={
        "csrf_token": token, "summary": "all good", "affected": "40", "ratio": "0.5", "standby": "true",
        "since": "2026-01-01", "severity": "high"})
    assert response.status_code == 302 and response.headers["Location"] == f"/instances/{iid}"
    page = dan.get(response.headers["Location"]).get_data(as_text=True)
    assert "Completed “" in page and "Fill the form: completed" in page and "by dan" in page
    review = task_of(web_engine, iid, "review")
    assert review.role == "management"


def test_other_role_gets_403_on_page_and_api(login, outage: str, web_engine: Engine) -> None:
    task = task_of(web_engine, outage, "notify_supervisor")
    dan, token = login("dan")
    assert dan.get(f"/tasks/{task.task_id}").status_code == 403
    assert dan.post(f"/tasks/{task.task_id}", data={"csrf_token": token, "acknowledged": "true"}).status_code == 403
    assert dan.post(f"/tasks/{task.task_id}/claim", data={"csrf_token": token}).status_code == 403
    api = dan.get(f"/api/v1/tasks/{task.task_id}")
    assert api.status_code == 403 and api.mimetype == "application/problem+json"
    done = dan.post(f"/api/v1/tasks/{task.task_id}/complete", json={"data": {}}, headers={"X-CSRFToken": token})
    assert done.status_code == 403
    assert task_of(web_engine, outage, "notify_supervisor").task_id == task.task_id


def test_two_responders_complete_the_same_task(login, outage: str, web_engine: Engine) -> None:
    task = task_of(web_engine, outage, "notify_supervisor")
    alice, alice_token = login("alice")
    bob, bob_token = login("bob")                # backup of the same role
    assert alice.get(f"/tasks/{task.task_id}").status_code == 200
    assert bob.get(f"/tasks/{task.task_id}").status_code == 200
    results: dict[str, int] = {}
    barrier = threading.Barrier(2)

    def submit(name: str, client, token: str) -> None:
        barrier.wait()
        results[name] = client.post(f"/tasks/{task.task_id}", data={"csrf_token": token,
                                                                      "acknowledged": "true"}).status_code

    threads = [threading.Thread(target=submit, args=a) for a in (("alice", alice, alice_token),
                                                                 ("bob", bob, bob_token))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results.values()) == [302, 409], results
    loser = "alice" if results["alice"] == 409 else "bob"
    winner = "bob" if loser == "alice" else "alice"
    again = (alice, alice_token) if loser == "alice" else (bob, bob_token)
    late = again[0].post(f"/tasks/{task.task_id}", data={"csrf_token": again[1], "acknowledged": "true"})
    assert late.status_code == 409
    assert f"already completed by {winner}" in late.get_data(as_text=True)
    completed = [e for e in web_engine.show(outage).timeline
                 if e.kind == "task_completed" and e.bpmn_id == "notify_supervisor"]
    assert len(completed) == 1 and completed[0].actor == winner


def test_completed_task_page_says_who_completed_it_and_when(login, outage: str, web_engine: Engine,
                                                            clock) -> None:
    task = task_of(web_engine, outage, "notify_supervisor")
    clock.advance(timedelta(minutes=4))
    web_engine.complete(task.task_id, {"acknowledged": True}, actor="bob")
    alice, _ = login("alice")
    page = alice.get(f"/tasks/{task.task_id}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "Completed by <strong>bob</strong>" in text
    assert "2026-01-01 00:04:00 UTC" in text and "(on time)" in text and "Complete the task" not in text
    dan, _ = login("dan")                              # another role: still 403 after completion
    assert dan.get(f"/tasks/{task.task_id}").status_code == 403
    unknown = alice.get("/tasks/no-such-task")
    assert unknown.status_code == 404 and b"no longer open" in unknown.data


def test_withdrawn_task_page_says_nobody_completed_it(login, web_engine: Engine) -> None:
    iid = web_engine.start("system_outage", business_key="GONE")
    task = task_of(web_engine, iid, "notify_supervisor")
    web_engine.cancel(iid, actor="admin")
    admin, _ = login("admin")
    page = admin.get(f"/tasks/{task.task_id}")
    assert page.status_code == 200 and b"Withdrawn at" in page.data and b"nobody completed it" in page.data


def test_hostile_documentation_renders_at_once_and_safely() -> None:
    """Model documentation is untrusted: inputs that sent Python-Markdown quadratic (20,000
    '[' took 52 s) render in linear time; nesting is bounded; raw HTML stays text; a text over
    the size cap is shown as plain text."""
    from web.pages.filters import MAX_MARKDOWN, render_markdown

    for hostile in ("[" * 100_000 + "x", "[a](" * 20_000, "- " * 20_000 + "x", "> " * 20_000 + "x",
                    "*" * 40_000 + "a"):
        html = str(render_markdown(hostile))
        assert "<script" not in html and html
    assert str(render_markdown("<img src=x onerror=alert(1)> **bold**")) == (
        "<p>&lt;img src=x onerror=alert(1)&gt; <strong>bold</strong></p>\n")
    long = "**not bold** <b>x</b>\n" * (MAX_MARKDOWN // 10)
    rendered = str(render_markdown(long))
    assert rendered.startswith('<p class="plain-text">**not bold** &lt;b&gt;x&lt;/b&gt;')


def test_constraints_are_drawn_and_checked_per_field(login, web_engine: Engine) -> None:
    from tests.test_form_constraints import MODEL

    web_engine.import_files([("assess.bpmn", MODEL)])
    instance = web_engine.start("assess", {"ticket": "INC-7"})
    [task] = web_engine.tasks(instance_id=instance)
    dan, token = login("dan")                                   # it_team
    page = dan.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert re.search(r'name="people" type="number" value="1"\s+step="1"\s+min="0" max="10000"', page)
    assert re.search(r'name="summary" type="text"[^>]*minlength="5" maxlength="40"', page)
    assert re.search(r'name="ticket" type="text" value="INC-1"[^>]*\breadonly\b', page)
    bad = dan.post(f"/tasks/{task.task_id}", data={"csrf_token": token, "summary": "Down", "people": "-3"})
    html = bad.get_data(as_text=True)
    assert bad.status_code == 400
    assert 'id="f-people-error">must be at least 0' in html
    assert 'id="f-summary-error">must be at least 5 characters long' in html

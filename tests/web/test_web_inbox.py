"""The inbox: the right people see the right tasks, with deadlines, filters, claims and a
live JSON feed."""

from __future__ import annotations

from datetime import timedelta

from engine.api import Engine
from engine.clock import ManualClock
from tests.web.conftest import task_of


def test_responder_sees_own_role_tasks_with_countdown(login, outage: str, web_engine: Engine) -> None:
    alice, _ = login("alice")
    page = alice.get("/").get_data(as_text=True)
    task = task_of(web_engine, outage, "notify_supervisor")
    assert "Acknowledge outage (IT supervisor)" in page
    assert f'href="/tasks/{task.task_id}"' in page
    assert f'datetime="{task.due_at.isoformat().replace("+00:00", "Z")}"' in page or "class=\"countdown" in page
    assert "10m left" in page
    assert "system outage · INC-1" in page


def test_other_role_does_not_see_it(login, outage: str) -> None:
    dan, _ = login("dan")              # it_team
    page = dan.get("/").get_data(as_text=True)
    assert "Acknowledge outage" not in page
    assert "Nothing to do for your roles" in page


def test_backup_member_and_admin_see_it(login, outage: str) -> None:
    for user in ("bob", "admin"):      # bob: backup of it_supervisor
        client, _ = login(user)
        assert "Acknowledge outage (IT supervisor)" in client.get("/").get_data(as_text=True)


def test_overdue_is_highlighted(login, outage: str, clock: ManualClock) -> None:
    alice, _ = login("alice")
    clock.advance(timedelta(minutes=9, seconds=30))
    page = alice.get("/").get_data(as_text=True)
    assert "30s left" in page and 'class="task overdue"' not in page
    clock.advance(timedelta(minutes=1))       # past due; the timer has not fired (no worker here)
    page = alice.get("/").get_data(as_text=True)
    assert 'class="task overdue"' in page and "overdue by 30s" in page


def test_claim_and_release(login, outage: str, web_engine: Engine) -> None:
    alice, token = login("alice")
    task = task_of(web_engine, outage, "notify_supervisor")
    response = alice.post(f"/tasks/{task.task_id}/claim", data={"csrf_token": token, "next": "/"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    page = alice.get("/").get_data(as_text=True)
    assert "Claimed by me <span class=\"count\">1</span>" in page
    bob, bob_token = login("bob")
    assert "held by <strong>alice</strong>" in bob.get("/").get_data(as_text=True)
    assert bob.post(f"/tasks/{task.task_id}/unclaim", data={"csrf_token": bob_token}).status_code == 403
    assert bob.post(f"/tasks/{task.task_id}/claim", data={"csrf_token": bob_token}).status_code == 409
    alice.post(f"/tasks/{task.task_id}/unclaim", data={"csrf_token": token})
    assert web_engine.task(task.task_id).claimed_by is None


def test_filters(login, outage: str, web_engine: Engine) -> None:
    other = web_engine.start("web_form", business_key="FORM-1")
    admin, _ = login("admin")
    everything = admin.get("/").get_data(as_text=True)
    assert "Acknowledge outage" in everything and "Fill the form" in everything
    by_key = admin.get("/?key=web_form").get_data(as_text=True)
    assert "Fill the form" in by_key and "Acknowledge outage" not in by_key
    by_instance = admin.get(f"/?instance={outage}").get_data(as_text=True)
    assert "Acknowledge outage" in by_instance and "Fill the form" not in by_instance
    by_role = admin.get("/?role=it_team").get_data(as_text=True)
    assert "Fill the form" in by_role and "Acknowledge outage" not in by_role
    assert "Fill the form" not in admin.get("/?show=mine").get_data(as_text=True)
    assert other


def test_sorted_by_deadline(login, web_engine: Engine, clock: ManualClock) -> None:
    web_engine.start("system_outage", business_key="DUE-FIRST")
    clock.advance(timedelta(minutes=3))
    web_engine.start("system_outage", business_key="DUE-SECOND")
    bob, _ = login("bob")
    page = bob.get("/").get_data(as_text=True)
    tasks = page[page.index('<ul class="task-list">'):]
    assert tasks.index("DUE-FIRST") < tasks.index("DUE-SECOND")      # earliest deadline first


def test_live_feed_changes_when_tasks_change(login, outage: str, web_engine: Engine) -> None:
    alice, _ = login("alice")
    first = alice.get("/inbox/live").get_json()
    assert first["total"] == 1 and "Acknowledge outage" in first["html"] and first["now"].endswith("Z")
    assert alice.get("/inbox/live").get_json()["fingerprint"] == first["fingerprint"]
    web_engine.complete(task_of(web_engine, outage, "notify_supervisor").task_id, {"acknowledged": True},
                        actor="alice")
    after = alice.get("/inbox/live").get_json()
    assert after["total"] == 0 and after["fingerprint"] != first["fingerprint"]

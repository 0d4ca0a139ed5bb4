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


def test_fast_task_json_equals_the_view_shape(web_engine: Engine, clock: ManualClock) -> None:
    """The API's dicts (straight from the query) match TaskView.to_json plus the labels, for
    role-scoped, claimed and limited listings, across deadlines with and without microseconds."""
    for n in range(4):
        web_engine.start("system_outage", business_key=f"FAST-{n}")
        clock.advance(timedelta(seconds=61, microseconds=250_000 * (n % 2)))
    web_engine.start("web_form")                                           # a task without a deadline
    first = web_engine.tasks(roles=["it_supervisor"], limit=10)[0]
    web_engine.claim(first.task_id, "alice")
    cases: list[dict[str, object]] = [{}, {"roles": ["it_supervisor"]}, {"roles": ["it_supervisor", "it_team"]},
                                      {"claimed_by": "alice"}, {"not_claimed_by": "alice"}, {"unclaimed": True},
                                      {"key": "web_form"}, {"roles": []}]
    for filters in cases:
        for limit in (None, 2, 100) if filters else (2, 100, 10_000):   # no filter, no limit: no labels
            views = web_engine.tasks(**filters, limit=limit)                # type: ignore[arg-type]
            fast = web_engine.tasks_json(**filters, limit=limit)            # type: ignore[arg-type]
            assert fast == [{**v.to_json(), "key": v.key, "business_key": v.business_key} for v in views], filters
            assert web_engine.tasks_count(**filters) >= len(fast)          # type: ignore[arg-type]
    listed = web_engine.tasks_json()
    stored = {t.task_id: t.form for t in web_engine.tasks()}              # the projection's own column
    orm_times = {t.task_id: (t.due_at, t.ready_at) for t in web_engine.tasks()}   # ORM-typed datetimes
    assert {t.task_id: (t.due_at, t.ready_at) for t in web_engine.tasks(limit=10_000)} == orm_times
    assert {t["task_id"]: t["form"] for t in listed} == stored and any(stored.values())
    assert any(t["due_at"] and t["due_at"].endswith(".250000Z") for t in listed)
    due = [t["due_at"] is None for t in listed]
    assert due == sorted(due) and [t["due_at"] for t in listed if t["due_at"]] == sorted(
        t["due_at"] for t in listed if t["due_at"])                        # earliest first, none last


def test_stored_time_text_is_formatted_like_isoformat() -> None:
    from datetime import UTC, datetime

    from engine.clock import isoformat
    from engine.runtime.inbox import _iso

    for moment in (datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 1, 2, 3, 4, 5, 120, tzinfo=UTC),
                   datetime(2026, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC)):
        stored = moment.replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")     # SQLAlchemy's SQLite form
        assert _iso(stored) == isoformat(moment) == _iso(moment)
    assert _iso("2026-01-02 03:04:05") == "2026-01-02T03:04:05Z" and _iso(None) is None
    from datetime import timedelta, timezone
    from zoneinfo import ZoneInfo
    for zone in (ZoneInfo("Etc/UTC"), timezone(timedelta(hours=2)), ZoneInfo("America/New_York")):
        moment = datetime(2026, 3, 4, 5, 6, 7, 89, tzinfo=zone)              # as a driver may hand it over
        assert _iso(moment) == isoformat(moment) and _iso(moment.replace(microsecond=0)).endswith(":07Z")


def test_api_lists_the_callers_roles_only_without_looking_the_user_up_again(login, outage: str,
                                                                              web_engine: Engine) -> None:
    web_engine.start("web_form")
    alice, _ = login("alice")                     # it_supervisor only
    listed = alice.get("/api/v1/tasks").get_json()
    assert [t["bpmn_id"] for t in listed] == ["notify_supervisor"]
    assert set(listed[0]) >= {"task_id", "instance_id", "bpmn_id", "name", "role", "due_at", "form",
                              "key", "business_key", "claimed_by_me"}
    admin, _ = login("admin")
    assert len(admin.get("/api/v1/tasks").get_json()) == 2


def test_long_inbox_shows_the_first_tasks_without_counting_the_rest(web_engine: Engine,
                                                                    clock: ManualClock) -> None:
    from tests.web.conftest import sign_in
    from web.app import create_app

    app = create_app(web_engine, config={"inbox_limit": 2}, start_scheduler=False, testing=True)
    for n in range(3):
        web_engine.start("system_outage", business_key=f"LONG-{n}")
        clock.advance(timedelta(seconds=30))
    bob = app.test_client()
    sign_in(bob, "bob")
    page = bob.get("/").get_data(as_text=True)
    assert page.count('<li class="task') == 2 and "Showing the first tasks only" in page
    assert "LONG-0" in page and "LONG-1" in page and "LONG-2" not in page      # earliest deadlines
    live = bob.get("/inbox/live").get_json()
    assert live["total"] is None and live["fingerprint"] in page               # more than shown
    listed = bob.get("/api/v1/tasks?limit=50").get_json()
    assert len(listed) == 2                                                    # the API keeps the cap


def test_a_role_taken_away_is_gone_on_the_next_request(login, outage: str, web_engine: Engine) -> None:
    """Roles are read on every request (not cached in the session): once the people directory
    no longer gives alice it_supervisor, her signed-in session loses the task at once."""
    import yaml

    from tests.conftest import demo_people

    alice, _ = login("alice")
    task = task_of(web_engine, outage, "notify_supervisor")
    assert [t["task_id"] for t in alice.get("/api/v1/tasks").get_json()] == [task.task_id]
    directory = yaml.safe_load(demo_people())
    directory["roles"]["it_supervisor"]["primary"] = ["carol"]
    web_engine.load_people(yaml.safe_dump(directory))
    assert alice.get("/api/v1/tasks").get_json() == []
    assert alice.get(f"/api/v1/tasks/{task.task_id}").status_code == 403
    assert alice.get(f"/tasks/{task.task_id}").status_code == 403

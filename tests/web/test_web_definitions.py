"""Definitions pages: list with versions, diagram, upload (admin) with the CLI's precise
errors; hostile uploads are refused and the server keeps serving."""

from __future__ import annotations

import io

import pytest

from tests.conftest import FIXTURES, ROOT

HOSTILE = FIXTURES / "hostile"


def _upload(client, token: str, *files: tuple[str, bytes], each: bool = False):
    data = {"csrf_token": token, "files": [(io.BytesIO(content), name) for name, content in files]}
    if each:
        data["each"] = "on"
    return client.post("/definitions", data=data, content_type="multipart/form-data")


def test_list_and_diagram_pages(login) -> None:
    alice, _ = login("alice")
    page = alice.get("/definitions").get_data(as_text=True)
    assert "System outage" in page and "<code>system_outage</code>" in page and "runbook for" in page
    assert "Upload BPMN" not in page                      # not an admin
    diagram = alice.get("/definitions/system_outage").get_data(as_text=True)
    assert 'data-source-url="/definitions/system_outage/1/source"' in diagram
    assert "bpmn-navigated-viewer.production.min.js" in diagram
    source = alice.get("/definitions/system_outage/1/source")
    assert source.mimetype == "text/plain" and "sandbox" in source.headers["Content-Security-Policy"]
    assert alice.get("/definitions/nope").status_code == 404


def test_admin_uploads_a_new_version(login) -> None:
    admin, token = login("admin")
    body = (ROOT / "bpmn" / "order_handling_as_is.bpmn").read_bytes()
    response = _upload(admin, token, ("order_handling_as_is.bpmn", body))
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "order_handling_as_is v1" in page and "executable" in page
    again = _upload(admin, token, ("order_handling_as_is.bpmn", body)).get_data(as_text=True)
    assert "(unchanged)" in again
    assert "Order handling (as-is)" in admin.get("/definitions").get_data(as_text=True)


def test_non_admin_may_not_upload(login) -> None:
    alice, token = login("alice")
    assert _upload(alice, token, ("x.bpmn", b"<x/>")).status_code == 403


@pytest.mark.parametrize("name", ["xxe_file.bpmn", "billion_laughs.bpmn", "xxe_parameter_entity.bpmn",
                                  "script_import_os.bpmn"])
def test_hostile_upload_is_refused_and_the_server_keeps_serving(login, name: str) -> None:
    admin, token = login("admin")
    response = _upload(admin, token, (name, (HOSTILE / name).read_bytes()))
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Rejected" in page and f"<code>{name}" in page
    assert "root:x:" not in page
    assert admin.get("/definitions").status_code == 200
    assert admin.get("/").status_code == 200


def test_rejection_names_file_line_and_element(login) -> None:
    admin, token = login("admin")
    body = (HOSTILE / "script_import_os.bpmn").read_bytes()
    page = _upload(admin, token, ("bad.bpmn", body)).get_data(as_text=True)
    problem = page[page.index('<ul class="plain problems">'):]
    assert "<code>bad.bpmn:" in problem and " [" in problem.split("</code>")[0]


def test_api_upload_reports_problems(client) -> None:
    from tests.web.conftest import bearer

    bad = client.post("/api/v1/definitions", headers=bearer(), content_type="multipart/form-data",
                      data={"files": [(io.BytesIO((HOSTILE / "xxe_file.bpmn").read_bytes()), "xxe.bpmn")]})
    assert bad.status_code == 422 and bad.mimetype == "application/problem+json"
    body = bad.get_json()
    assert body["type"] == "urn:contiflow:problem:import-rejected"
    assert body["problems"][0]["file"] == "xxe.bpmn" and body["problems"][0]["message"]
    good = client.post("/api/v1/definitions", headers=bearer(), content_type="multipart/form-data",
                       data={"files": [(io.BytesIO((ROOT / "bpmn" / "order_handling_to_be.bpmn").read_bytes()),
                                        "to_be.bpmn")]})
    assert good.status_code == 201
    assert good.get_json()["imported"][0]["key"] == "order_handling_to_be"
    empty = client.post("/api/v1/definitions", headers=bearer(), content_type="multipart/form-data", data={})
    assert empty.status_code == 400


def test_too_large_upload_is_413(login, web_engine) -> None:
    admin, token = login("admin")
    huge = b"<x>" + b" " * (4 * web_engine.config.max_model_bytes + 2 * 1024 * 1024) + b"</x>"
    body = (b"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n" + token.encode()
            + b"\r\n--b\r\nContent-Disposition: form-data; name=\"files\"; filename=\"huge.bpmn\"\r\n\r\n"
            + huge + b"\r\n--b--\r\n")       # prebuilt: the test client would spool it to a temp file
    response = admin.post("/definitions", data=body, content_type="multipart/form-data; boundary=b")
    assert response.status_code == 413
    assert admin.get("/definitions").status_code == 200


def test_bpmn_js_assets_are_served_from_node_modules(client) -> None:
    from web.settings import ROOT as WEB_ROOT

    if not (WEB_ROOT / "node_modules" / "bpmn-js" / "dist").is_dir():
        pytest.skip("npm packages not installed (make install runs npm install)")
    with client.get("/assets/bpmn-js/bpmn-navigated-viewer.production.min.js") as script:
        assert script.status_code == 200 and b"BpmnJS" in script.data
        assert "max-age=86400" in script.headers["Cache-Control"]
    with client.get("/assets/bpmn-js/assets/bpmn-js.css") as css:
        assert css.status_code == 200 and css.mimetype == "text/css"
    with client.get("/assets/bpmn-js/assets/bpmn-font/css/bpmn-embedded.css") as font:
        assert font.status_code == 200
    assert client.get("/assets/bpmn-js/../../package.json").status_code == 404
    assert client.get("/assets/bpmn-js/bpmn-modeler.development.js").status_code == 404


def test_uploaded_spiffarena_form_schema_is_the_task_form(login, web_engine) -> None:
    """A SpiffArena model uploaded with its JSON-schema form files: the task page shows the
    schema's fields (the admin acts on every task) and the server checks them."""
    admin, token = login("admin")
    modelers = FIXTURES / "modelers"
    files = [(name, (modelers / name).read_bytes())
             for name in ("spiffarena_review.bpmn", "review-schema.json", "review-uischema.json")]
    page = _upload(admin, token, *files).get_data(as_text=True)
    assert "spiffarena_review v1" in page and "not in this deployment" not in page
    instance = web_engine.start("spiffarena_review", {"price": 30, "quantity": 5})
    [task] = web_engine.tasks(instance_id=instance)
    html = admin.get(f"/tasks/{task.task_id}").get_data(as_text=True)
    assert "Order details are correct" in html and 'name="confirmed"' in html and 'name="reviewComment"' in html
    refused = admin.post(f"/api/v1/tasks/{task.task_id}/complete", json={"data": {"reviewComment": "ok"}},
                         headers={"X-CSRFToken": token})
    assert refused.status_code == 400 and "confirmed" in refused.get_data(as_text=True)
    done = admin.post(f"/tasks/{task.task_id}", data={"csrf_token": token, "confirmed": "on", "reviewComment": "ok"})
    assert done.status_code == 302 and [t.bpmn_id for t in web_engine.tasks(instance_id=instance)] == ["approve"]

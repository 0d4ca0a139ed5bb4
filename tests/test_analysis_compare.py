"""``contiflow compare`` (DESIGN §3): the bundled order pair gives 5 → 3 steps and 48 h → 24 h,
files or stored definition keys, and one-line errors with a non-zero exit on bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.analysis.compare import compare
from engine.analysis.matching import similarity
from engine.analysis.sources import load_model
from engine.cli.main import main
from tests.conftest import FIXTURES, ROOT

AS_IS = ROOT / "bpmn" / "order_handling_as_is.bpmn"
TO_BE = ROOT / "bpmn" / "order_handling_to_be.bpmn"
CLAIMS = FIXTURES / "analysis"
FIGURES = ("tasks", "human_tasks", "handoffs", "critical_path", "critical_path_hours")


@pytest.fixture
def cli(database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("CONTIFLOW_DATABASE_URL", database_url)

    def run(*args: object) -> tuple[int, object, str]:
        code = main([str(a) for a in args])
        out, err = capsys.readouterr()
        return code, (json.loads(out) if "--json" in args and code == 0 else out), err
    return run


def test_bundled_pair_json_contract(cli) -> None:
    code, report, err = cli("compare", AS_IS, TO_BE, "--json")
    assert code == 0, err
    for side in ("as_is", "to_be"):
        assert set(FIGURES) <= set(report[side])
    assert [report["as_is"][k] for k in FIGURES] == [5, 5, 4, "PT48H", 48.0]
    assert [report["to_be"][k] for k in FIGURES] == [3, 3, 2, "PT24H", 24.0]
    deltas = report["deltas"]
    assert (deltas["tasks"], deltas["human_tasks"], deltas["handoffs"], deltas["critical_path_hours"],
            deltas["critical_path"]) == (-2, -2, -2, -24.0, "-PT24H")
    assert report["summary"] == "steps 5 → 3, critical path 48 h → 24 h, hand-offs 4 → 2"
    changes = report["changes"]
    assert changes["merged"] == [{"into": "Schedule and ship", "from": ["Production scheduling", "Shipping"]}]
    assert changes["parallelised"] == ["Finance review", "Inventory check"]
    assert changes["automated"] == [{"from": "Enter customer order", "to": "Register order automatically"}]
    assert "simulation" not in report


def test_bundled_pair_human_text(cli) -> None:
    code, out, _ = cli("compare", AS_IS, TO_BE)
    assert code == 0
    assert out.splitlines()[0] == "steps 5 → 3, critical path 48 h → 24 h, hand-offs 4 → 2"
    assert "merged: Production scheduling + Shipping → Schedule and ship" in out


def test_descriptive_pair(cli) -> None:
    code, report, _ = cli("compare", CLAIMS / "claims_as_is.bpmn", CLAIMS / "claims_to_be.bpmn", "--json")
    assert code == 0
    assert [report["as_is"][k] for k in FIGURES] == [7, 6, 5, "PT19H30M", 19.5]
    assert [report["to_be"][k] for k in FIGURES] == [5, 5, 3, "PT14H", 14.0]
    assert report["deltas"]["critical_path_hours"] == -5.5
    assert report["changes"]["merged"] == [{"into": "Pay out and inform customer",
                                            "from": ["Pay out", "Inform customer"]}]


def test_definition_keys_and_files_mix(cli) -> None:
    code, _, err = cli("import", "--each", AS_IS, CLAIMS / "claims_as_is.bpmn", "--json")
    assert code == 0, err
    code, report, err = cli("compare", "order_handling_as_is", TO_BE, "--json")
    assert code == 0, err
    assert (report["as_is"]["tasks"], report["to_be"]["tasks"]) == (5, 3)
    # a key analyses that process only: the customer pool of the same file is left out
    code, report, _ = cli("compare", "claims_as_is", CLAIMS / "claims_to_be.bpmn", "--json")
    assert code == 0 and report["as_is"]["tasks"] == 6 and len(report["as_is"]["processes"]) == 1


def test_analyse_single_model(cli) -> None:
    code, fig, _ = cli("analyse", TO_BE, "--json")
    assert code == 0 and (fig["tasks"], fig["parallel_sections"]) == (3, 1)
    code, out, _ = cli("analyse", CLAIMS / "claims_as_is.bpmn")
    assert code == 0 and "7 steps" in out and "loop" in out


@pytest.mark.parametrize(("args", "message"), [
    (("missing.bpmn", TO_BE), "missing.bpmn: no such file"),
    (("no_such_key", TO_BE), "no_such_key: no such file or definition key"),
    ((AS_IS, "{bad}"), "not well-formed XML"),
    ((AS_IS, ROOT / "bpmn"), "is a folder"),
    ((AS_IS, "{notbpmn}"), "not a BPMN document"),
])
def test_bad_input_one_line_error(cli, tmp_path: Path, args: tuple, message: str) -> None:
    (tmp_path / "bad.bpmn").write_text("<definitions><process")
    (tmp_path / "notbpmn.bpmn").write_text('<html xmlns="urn:x"/>')
    real = [str(a).replace("{bad}", str(tmp_path / "bad.bpmn")).replace("{notbpmn}", str(tmp_path / "notbpmn.bpmn"))
            for a in args]
    code, out, err = cli("compare", *real, "--json")
    assert code != 0 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_bad_simulation_options_are_refused(cli) -> None:
    code, _, err = cli("compare", AS_IS, TO_BE, "--simulate", "--cases", "0")
    assert code != 0 and "at least 1" in err
    code, _, err = cli("compare", AS_IS, TO_BE, "--simulate", "--capacity", "Warehouse")
    assert code != 0 and "LANE=N" in err


def test_name_matching() -> None:
    assert similarity("Production scheduling", "Schedule and ship") == 0.5
    assert similarity("Shipping", "Schedule and ship") == 1.0
    report = compare(load_model(str(AS_IS)), load_model(str(AS_IS)))
    assert report["changes"]["kept"] == ["Enter customer order", "Finance review", "Inventory check",
                                         "Production scheduling", "Shipping"]
    assert report["deltas"]["critical_path"] == "PT0S"

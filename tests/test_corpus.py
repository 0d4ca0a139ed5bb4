"""Every BPMN file of the shared corpus goes through the importer without a raw traceback.

Each file is one deployment together with the DMN files of its folder; process ids defined by
the other BPMN files of the folder count as already deployed (``known_process_ids``), the way
a folder imported file by file would see them.  Allowed outcomes: a Deployment or an
ImportRejected whose problems name the file.  Executable specs must restore into a workflow.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from pathlib import Path

import pytest

from engine.errors import ImportProblem, ImportRejected
from engine.importer import parse_deployment
from engine.spiff.serializer import new_workflow

CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus"
_PROCESS_ID = re.compile(rb'<(?:\w+:)?process\b[^>]*?\sid="([^"]+)"')
MIN_EXECUTABLE_OK = 50      # of the 64 BPMN files under executable/ (53 import today)

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="shared corpus not present")


def _bpmn_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file()
                  and (p.name.endswith(".bpmn") or p.name.endswith(".bpmn20.xml")))


def _deployment(path: Path) -> tuple[list[tuple[str, bytes]], set[str]]:
    rel = str(path.relative_to(CORPUS))
    files = [(rel, path.read_bytes())]
    files += [(str(p.relative_to(CORPUS)), p.read_bytes()) for p in sorted(path.parent.glob("*.dmn"))]
    known: set[str] = set()
    for sibling in path.parent.iterdir():
        if sibling != path and sibling.name.endswith((".bpmn", ".bpmn20.xml")):
            known |= {m.decode() for m in _PROCESS_ID.findall(sibling.read_bytes())}
    return files, known


@pytest.mark.slow
def test_corpus_imports_without_tracebacks() -> None:
    started = time.monotonic()
    outcomes: Counter[str] = Counter()
    crashes: list[str] = []
    executable_ok: list[str] = []
    executable_files = 0
    for path in _bpmn_files():
        rel = str(path.relative_to(CORPUS))
        in_executable = rel.startswith("executable/")
        executable_files += in_executable
        files, known = _deployment(path)
        try:
            deployment = parse_deployment(files, known_process_ids=known)
        except ImportRejected as exc:
            outcomes["rejected"] += 1
            if not exc.problems or not all(isinstance(p, ImportProblem) and p.file and p.message
                                           for p in exc.problems):
                crashes.append(f"{rel}: ImportRejected without located problems")
            continue
        except Exception as exc:  # noqa: BLE001 - exactly what this test hunts for
            crashes.append(f"{rel}: {type(exc).__name__}: {exc}")
            continue
        runnable = [p for p in deployment.processes if p.executable]
        outcomes["executable" if runnable else "model-only"] += 1
        for draft in runnable:
            try:
                new_workflow(("corpus", rel, draft.key), draft.spec, None)
            except Exception as exc:  # noqa: BLE001
                crashes.append(f"{rel} [{draft.key}]: spec does not restore: {exc!r}")
        if runnable and in_executable:
            executable_ok.append(rel)
    elapsed = time.monotonic() - started
    print(f"\ncorpus: {sum(outcomes.values())} files — executable {outcomes['executable']}, "
          f"model-only {outcomes['model-only']}, rejected {outcomes['rejected']}; "
          f"executable/: {len(executable_ok)} of {executable_files} import an executable process; "
          f"{elapsed:.1f} s")
    assert not crashes, "\n".join(crashes)
    assert len(executable_ok) >= MIN_EXECUTABLE_OK
    assert elapsed < 60

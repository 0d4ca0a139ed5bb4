"""Import BPMN/DMN files into a ``Deployment`` — or refuse them with every reason at once.

    parse_deployment(files, *, known_process_ids=frozenset(), max_bytes=10 MiB) -> Deployment

Steps: hardened XML parsing (``safe_xml``), dialect detection (``dialect``), metadata per
flow node (``metadata``), structural validation (``validate``), translation of vendor
constructs into SpiffWorkflow's form (``translate``), sandbox checks (``checks``) and the
SpiffWorkflow build (``build``).  Nothing is stored and nothing but the given bytes is read;
the only exception that leaves is ``ImportRejected``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from engine.errors import ImportProblem, ImportRejected
from engine.importer import dialect as dialects
from engine.importer import metadata, validate
from engine.importer.build import BuildInput, build_specs, split_decisions
from engine.importer.dmn import prepare_decision
from engine.importer.json_forms import FormFile, attach_forms, load_form_file
from engine.importer.metadata import FLOW_NODES
from engine.importer.model import Deployment, ProcessDraft, SourceFile
from engine.importer.ns import BPMN, b, local, ns_of
from engine.importer.problems import Report
from engine.importer.safe_xml import DEFAULT_MAX_BYTES, UnsafeXml, parse_xml
from engine.importer.schema import schema_warnings
from engine.importer.translate import translate

__all__ = ["parse_deployment", "DEFAULT_MAX_BYTES"]


class _File:
    def __init__(self, name: str, data: bytes, root: Any, dialect: str, report: Report):
        self.name, self.data, self.root, self.dialect, self.report = name, data, root, dialect, report
        self.processes: list[Any] = []
        self.executable: list[Any] = []


def _load(name: str, data: Any, max_bytes: int) -> tuple[_File | None, SourceFile | None, Report]:
    report = Report(name)
    if not isinstance(data, (bytes, bytearray)):
        report.problem("file content must be bytes")
        return None, None, report
    data = bytes(data)
    if len(name) > validate.MAX_NAME:
        report.problem(f"file name is {len(name)} characters long; the limit is {validate.MAX_NAME}")
    sha = hashlib.sha256(data).hexdigest()
    try:
        root = parse_xml(data, max_bytes)
    except UnsafeXml as exc:
        report.problem(exc.message, line=exc.line)
        return None, SourceFile(name, data, sha, "unknown", _kind_by_name(name)), report
    if dialects.is_dmn(root):
        kind = "dmn"
    elif root.tag == b("definitions"):
        kind = "bpmn"
        schema_warnings(root, report)
    else:
        report.problem(f"not a BPMN or DMN document (root element {local(root.tag)!r} in "
                       f"namespace {ns_of(root.tag) or 'none'!r})", line=root.sourceline)
        return None, SourceFile(name, data, sha, "unknown", _kind_by_name(name)), report
    dialect = dialects.detect(root)
    return _File(name, data, root, dialect, report), SourceFile(name, data, sha, dialect, kind), report


def _kind_by_name(name: str) -> str:
    return "dmn" if name.lower().endswith(".dmn") else "bpmn"


def _decisions(f: _File) -> list[tuple[str, Any]]:
    return split_decisions(f.root, f"{{{ns_of(f.root.tag)}}}decision")


def _drafts(f: _File) -> list[ProcessDraft]:
    drafts = []
    descriptive = f.dialect == dialects.DESCRIPTIVE
    for process in f.root.iter(b("process")):
        pid = process.get("id")
        if not pid:
            f.report.problem("process has no id", process)
            continue
        props, tasks = metadata.read_process(process)
        executable = validate.is_executable(process, descriptive, f.report)
        f.processes.append(process)
        if executable:
            f.executable.append(process)
        drafts.append(ProcessDraft(key=pid, name=(process.get("name") or "").strip() or pid,
                                   file=f.name, executable=executable, tasks=tasks,
                                   properties=props))
    if not drafts:
        f.report.warn("document contains no process")
    return drafts


def _validate(f: _File) -> None:
    validate.diagram_positions(f.root, f.report)
    validate.duplicate_ids(f.root, f.executable, f.report)
    for process in f.executable:
        validate.start_event(process, f.report)
        validate.flow_references(process, f.report)
        validate.boundary_refs(process, f.report)


def _demote_implicit(f: _File, decisions: set[str], callable_ids: set[str]) -> list[str]:
    """A process that never claimed to be executable (no isExecutable attribute) and cannot
    run is imported as model-only, with the reasons as warnings, instead of rejected."""
    demoted = []
    for process in list(f.executable):
        if process.get("isExecutable") is not None:
            continue
        scratch = Report(f.name)
        validate.start_event(process, scratch)
        validate.flow_references(process, scratch)
        validate.boundary_refs(process, scratch)
        if not scratch.problems:
            translate(f.root, {process.get("id")}, decisions, callable_ids, scratch)
        if scratch.problems:
            f.executable.remove(process)
            demoted.append(process.get("id"))
            f.report.warn(f"process has no isExecutable attribute and cannot run as drawn "
                          f"({scratch.problems[0].message}); imported as model-only", process)
    return demoted


def _process_warnings(drafts: list[ProcessDraft], owner: dict[str, _File], reports: list[Report]) -> None:
    """Each imported process carries what concerns it: its own warnings, its file's (schema
    deviations, SpiffWorkflow's remarks) and the deployment's form files'."""
    own = {w for r in reports for ws in r.by_process.values() for w in ws}
    forms = [w for r in reports if r.file.lower().endswith(".json") for w in r.warnings]
    for draft in drafts:
        report = owner[draft.key].report
        of_file = [w for w in report.warnings if w not in own]
        draft.warnings = of_file + list(report.by_process.get(draft.key, [])) + forms


def _count_nodes(files: Iterable[_File]) -> int:
    return sum(1 for f in files for p in f.executable for el in p.iter()
               if isinstance(el.tag, str) and ns_of(el.tag) == BPMN and local(el.tag) in FLOW_NODES)


def _parse(files: list[tuple[str, bytes]], known: frozenset[str] | set[str], max_bytes: int
           ) -> Deployment:
    loaded: list[_File] = []
    sources: list[SourceFile] = []
    reports: list[Report] = []
    forms: list[FormFile] = []
    for item in files:
        name, data = (item[0], item[1]) if isinstance(item, tuple) and len(item) == 2 else (
            str(item), None)
        if str(name).lower().endswith(".json"):            # a SpiffArena form schema
            report = Report(str(name))
            reports.append(report)
            form = load_form_file(str(name), data, max_bytes, report)
            if form is not None:
                forms.append(form)
            continue
        f, source, report = _load(str(name), data, max_bytes)
        reports.append(report)
        if source is not None:
            sources.append(source)
        if f is not None:
            loaded.append(f)
    bpmn = [f for f in loaded if f.dialect != dialects.DMN]
    dmn = [f for f in loaded if f.dialect == dialects.DMN]
    decisions = {ident: (f, tree) for f in dmn for ident, tree in _decisions(f)}

    drafts: list[ProcessDraft] = []
    owner: dict[str, _File] = {}
    for f in bpmn:
        file_drafts = _drafts(f)
        roles = {t.bpmn_id: (t.role, t.line) for d in file_drafts if d.executable
                 for t in d.tasks.values() if t.role}
        validate.store_limits(f.processes, f.executable, roles, f.report)
        for draft in file_drafts:
            if draft.key in owner:
                f.report.problem(f"process id {draft.key!r} is also defined in "
                                 f"{owner[draft.key].name}", element_id=draft.key)
            owner[draft.key] = f
            drafts.append(draft)
    attach_forms(drafts, {d.key: owner[d.key].report for d in drafts}, forms)
    sources += list({f.name: f for d in drafts for f in d.form_files}.values())
    callable_ids = {d.key for d in drafts if d.executable} | set(known)
    demoted = {pid for f in bpmn for pid in _demote_implicit(f, set(decisions), callable_ids)}
    for draft in drafts:
        if draft.key in demoted:
            draft.executable = False
    callable_ids -= demoted

    validate.call_cycles([(p, f.report) for f in bpmn for p in f.executable])
    inp = BuildInput(flow_nodes=_count_nodes(bpmn))
    for f in bpmn:
        if not f.executable:
            continue
        _validate(f)
        pids = {p.get("id") for p in f.executable}
        tree = translate(f.root, pids, set(decisions), callable_ids, f.report)
        inp.bpmn.append((f.report, tree))
        for pid in pids:
            inp.processes[pid] = f.report
    for f, tree in decisions.values():
        prepare_decision(tree, f.report)
        inp.dmn.append((f.report, tree))

    if not any(r.problems for r in reports) and inp.processes:
        fallback = inp.bpmn[0][0]
        specs, spiff_warnings = build_specs(inp, fallback)
        for draft in drafts:
            draft.spec = specs.get(draft.key) if draft.executable else None
        reports[0].warnings.extend(f"SpiffWorkflow: {w}" for w in dict.fromkeys(spiff_warnings))

    problems = [p for r in reports for p in r.problems]
    if problems:
        raise ImportRejected(problems)
    if not drafts:
        raise ImportRejected([ImportProblem(r.file, "no BPMN process in this deployment: DMN tables and form "
                                                    "files are imported together with the process that uses them")
                              for r in reports])
    _process_warnings(drafts, owner, reports)
    return Deployment(files=sources, processes=drafts,
                      warnings=[w for r in reports for w in r.warnings])


def parse_deployment(files: list[tuple[str, bytes]], *,
                     known_process_ids: frozenset[str] | set[str] = frozenset(),
                     max_bytes: int = DEFAULT_MAX_BYTES) -> Deployment:
    """Parse, translate and validate ``files`` (display name, raw bytes) as one deployment.

    ``known_process_ids``: executable process keys already stored, callable from these files.
    Raises ``ImportRejected`` listing every problem; never any other exception.
    """
    try:
        if not files:
            raise ImportRejected([ImportProblem("<deployment>", "no files to import")])
        return _parse(list(files), known_process_ids, max_bytes)
    except ImportRejected:
        raise
    except Exception as exc:  # noqa: BLE001 - the contract: ImportRejected or a Deployment
        raise ImportRejected([ImportProblem(
            "<deployment>", f"internal error while importing: {type(exc).__name__}: {exc}")]
        ) from None

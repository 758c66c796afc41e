"""``kyodaku scan`` and ``kyodaku check``: the same functions as the library
(:mod:`kyodaku.scan.pipeline`), with progress, a summary table and readable evidence."""

from __future__ import annotations

import contextlib
import sys
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from kyodaku.cli.common import HomeOption, check_licensee, console, fail, friendly_errors, open_workspace, parse_date
from kyodaku.cli.explain import explain, explain_text, text_reason_key
from kyodaku.cli.progress import known_total, scan_progress
from kyodaku.policy.decide import Policy
from kyodaku.report.html import DEFAULT_MAX_EVIDENCE
from kyodaku.scan.pipeline import DEFAULT_FILE_TIMEOUT, ScanOptions, ScanSummary, check_file, resume_state, scan_paths

USES = ("training", "generation")
_STYLE = {"blocked": "bold red", "cleared": "green", "review": "yellow", "error": "magenta"}

LicenseeOption = Annotated[str, typer.Option("--licensee", "-l", help="Who wants to use the files (the permit's licensee).")]
UseOption = Annotated[str, typer.Option("--use", "-u", help="training or generation.")]
OnOption = Annotated[str | None, typer.Option("--on", help="Decide as of this date (YYYY-MM-DD; default today).")]
StrictOption = Annotated[bool, typer.Option("--strict", help="A licensee that no permit of the workspace "
                                            "names is an error (exit 1), not a warning.")]
PolicyOption = Annotated[Path | None, typer.Option("--policy", help="A policy JSON overriding the packaged one.",
                                                   exists=True, dir_okay=False)]


def _options(licensee: str, use: str, on: str | None, workers: int | None, policy: Path | None,
             file_timeout: float = DEFAULT_FILE_TIMEOUT, cache: bool = True, ray: str | None = None,
             allow_outside: list[Path] | None = None) -> ScanOptions:
    if use not in USES:
        fail(f"--use must be 'training' or 'generation', not {use!r}")
    if file_timeout <= 0:
        fail("--file-timeout must be a positive number of seconds")
    return ScanOptions(licensee=licensee, use=use, on=parse_date(on, "--on") or date.today(), workers=workers,
                       policy=Policy.load(policy) if policy else None, file_timeout=file_timeout, cache=cache,
                       ray=ray, allow_outside=tuple(str(p) for p in allow_outside or ()))


def register(app: typer.Typer) -> None:
    app.command("scan")(scan)
    app.command("check")(check)
    app.command("check-text")(check_text_cmd)


@friendly_errors
def scan(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders (images and videos), WebDataset shards "
                                                "(*.tar) and Parquet / JSONL manifests to scan.")],
    licensee: LicenseeOption,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write one JSON line per file here ('-' for stdout).")] = None,
    use: UseOption = "training",
    on: OnOption = None,
    workers: Annotated[int | None, typer.Option("--workers", "-j", help="Worker processes (default: all cores).")] = None,
    policy: PolicyOption = None,
    file_timeout: Annotated[float, typer.Option("--file-timeout", help="Seconds one file may take; a file "
                                                "over it is reported as an error (a stuck decoder).")] = DEFAULT_FILE_TIMEOUT,
    cleared_out: Annotated[Path | None, typer.Option("--cleared-out", help="After the scan, write the cleared "
                                                     "corpus here in the input's own format (shards, manifests, "
                                                     "a file list) and exclusions.jsonl.", file_okay=False)] = None,
    report: Annotated[Path | None, typer.Option("--report", help="After the scan, write an offline HTML report "
                                                "of it here (see `kyodaku report`).", dir_okay=False)] = None,
    max_evidence: Annotated[int, typer.Option("--max-evidence", min=0, help="With --report: at most this many "
                                              "evidence rows per rights holder.")] = DEFAULT_MAX_EVIDENCE,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted scan: keep the lines already "
                                         "in --out and scan only what they lack.")] = False,
    force: Annotated[bool, typer.Option("--force", "-f", help="Replace an --out file that already holds "
                                        "results (without it, a scan refuses to overwrite one).")] = False,
    name: Annotated[str | None, typer.Option("--name", help="Record the scan under this name (the corpus name "
                                             "rights holders' inquiries use; default: the --out file name, "
                                             "else the inputs). A name already recorded is refused.")] = None,
    append_to_record: Annotated[bool, typer.Option("--append-to-record", help="Record this scan under a name "
                                                   "already recorded: inquiries by that name then answer "
                                                   "from every scan of it.")] = False,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Fingerprint every file again, even content "
                                           "already matched against these references.")] = False,
    ray: Annotated[str | None, typer.Option("--ray", help="Match on a Ray cluster: 'auto' (the one RAY_ADDRESS or "
                                            "`ray start` names, else a local instance) or its address; "
                                            "--workers then counts Ray workers (default: the cluster's CPUs).",
                                            metavar="auto|ADDRESS")] = None,
    allow_outside: Annotated[list[Path] | None, typer.Option(
        "--allow-outside", metavar="DIR", file_okay=False,
        help="Let Parquet / JSONL manifests name files under DIR too (repeatable). By default a manifest's "
             "path column must resolve, symlinks followed, inside the manifest's own folder; any other row "
             "is an error \"path outside the manifest's folder\".")] = None,
    strict: StrictOption = False,
    home: HomeOption = None,
) -> None:
    """Scan files and folders against the registry; block copies of registered works that
    have no valid permit for LICENSEE and USE.

    What a file is comes from its bytes, not its name: a picture named x.mp4 is matched
    as a picture.  Inside folders, files whose bytes are no image or video (text, JSON
    sidecars) are skipped and counted in the summary; a file named like media whose
    bytes are not, and a known image format kyodaku cannot decode (HEIF, JPEG XL...),
    are errors."""
    options = _options(licensee, use, on, workers, policy, file_timeout, cache=not no_cache, ray=ray,
                       allow_outside=allow_outside)
    to_stdout = out is not None and str(out) == "-"
    if resume and (out is None or to_stdout):
        fail("--resume needs --out FILE (the results of the interrupted scan)")
    if out is not None and not to_stdout:
        _check_out_file(out, resume=resume, force=force)
    workspace = open_workspace(home)
    check_licensee(workspace, options.licensee, strict=strict)
    record_name = name or (out.stem if out is not None and not to_stdout else " ".join(str(p) for p in paths))
    if not resume and not append_to_record:
        _check_record_name(workspace, record_name, force=force,
                           source="--name" if name else "the --out file's name" if out and not to_stdout
                           else "the inputs, without --out or --name")
    if cleared_out is not None and (out is None or to_stdout):
        fail("--cleared-out needs --out FILE (the verdicts it filters by)")
    if report is not None and (out is None or to_stdout):
        fail("--report needs --out FILE (the results it reports on)")
    done: set[str] = set()
    previous: list[dict[str, Any]] = []
    if resume:
        try:
            done, previous = resume_state(out)
        except ValueError as exc:
            fail(str(exc))
    show = console() if not to_stdout else None
    with contextlib.ExitStack() as stack:
        mode = "a" if resume else "w"
        sink = sys.stdout if to_stdout else (stack.enter_context(open(out, mode, encoding="utf-8")) if out else None)
        total = None if to_stdout else known_total(paths)
        progress = stack.enter_context(scan_progress(show or console(), total, disable=to_stdout))
        # a resumed scan's bar starts at what the first run did
        job = progress.add_task("scan", total=total, completed=min(len(previous), total or 0) if total else 0,
                                blocked=0, review=0, error=0)
        counts = {"blocked": 0, "review": 0, "error": 0}

        def tick(line: dict[str, Any]) -> None:
            if line["verdict"] in counts:
                counts[line["verdict"]] += 1
            progress.update(job, advance=1, **counts)

        if previous:
            progress.console.print(f"resuming: {len(previous)} file(s) already scanned in {out}")
        summary = scan_paths(workspace, [str(p) for p in paths], options, out=sink, on_result=tick, done=done,
                             name=record_name)
        if total is not None:  # files skipped inside folders (no media) were counted in the total
            progress.update(job, total=progress.tasks[0].completed)
    for line in previous:
        summary.add(line)
    if show is not None:
        _print_summary(summary, options, out)
    if cleared_out is not None:
        from kyodaku.corpus.outputs import write_cleared

        counts = write_cleared(paths, out, cleared_out)
        kept = ", ".join(f"{n} {k}" for k, n in counts.items() if k != "excluded") or "nothing"
        console().print(f"cleared corpus in {escape(str(cleared_out))}: {kept} kept; "
                        f"{counts['excluded']} excluded (exclusions.jsonl)")
    if report is not None:
        from kyodaku.cli.report_cmds import write_report
        from kyodaku.policy.decide import default_policy
        from kyodaku.report.html import scan_info

        policy = options.policy or default_policy()
        info = scan_info(workspace, out, licensee=options.licensee, use=options.use, on=options.on,
                         inputs=[str(p) for p in paths],
                         thresholds={"review": policy.review_threshold, "block": policy.block_threshold})
        write_report(workspace, out, report, info, max_evidence)


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            n += chunk.count(b"\n")
    return n


def _check_out_file(out: Path, *, resume: bool, force: bool) -> None:
    """Never lose a results file: one that holds results is continued (--resume) or
    replaced (--force), never overwritten silently."""
    if resume and force:
        fail("--resume and --force contradict each other: --resume keeps the lines in --out and scans what "
             "they lack, --force replaces the file")
    if out.is_dir():
        fail(f"--out {out}: is a folder; name a results file (e.g. {out / 'results.jsonl'})")
    if resume or force or not out.exists() or out.stat().st_size == 0:
        return
    fail(f"--out {out} already exists and holds {_count_lines(out)} line(s) of results; pass --resume to "
         "continue that scan, --force to replace the file, or choose another --out")


def _check_record_name(workspace: Any, record_name: str, *, source: str, force: bool) -> None:
    """One name, one scan: inquiries by a corpus name would otherwise mix the scans."""
    from kyodaku.records.store import Records

    earlier = Records(workspace.session).scans(record_name)
    if not earlier:
        return
    last = earlier[-1]
    fail(f"a scan named {record_name!r} ({source}) is already recorded in this workspace "
         f"(scan {last.id}, {last.licensee}, {last.use}, {last.started_at:%Y-%m-%d %H:%M}"
         + (f", and {len(earlier) - 1} more" if len(earlier) > 1 else "") + "); rights holders' inquiries by "
         "that name would mix both scans. Give this one another name with --name NAME, or pass "
         "--append-to-record to record it under the same name"
         + (" (--force replaces the results file, not the record)" if force else ""))


def _print_summary(summary: ScanSummary, options: ScanOptions, out: Path | None) -> None:
    c = console()
    for w in summary.warnings:
        c.print(f"[yellow]warning:[/yellow] {escape(w)}")
    table = Table(title=f"scan for {escape(options.licensee)} ({options.use}, {options.on.isoformat()})")
    table.add_column("verdict")
    table.add_column("files", justify="right")
    table.add_column("share", justify="right")
    for verdict in ("blocked", "review", "error", "cleared"):
        n = summary.verdicts.get(verdict, 0)
        share = f"{n / summary.total:.1%}" if summary.total else "-"
        table.add_row(f"[{_STYLE[verdict]}]{verdict}[/]", str(n), share)
    table.add_row("[bold]total[/bold]", str(summary.total), "")
    c.print(table)
    if summary.blocked_by_holder:
        by = Table(title="blocked, by rights holder")
        by.add_column("holder")
        by.add_column("files", justify="right")
        for holder, n in summary.blocked_by_holder.most_common():
            by.add_row(escape(holder), str(n))
        c.print(by)
    rate = summary.total / summary.seconds if summary.seconds else 0.0
    cached = f"; {summary.cache['hits']} matched before (cache)" if summary.cache.get("hits") else ""
    not_media = summary.skipped.get("not_media", 0)
    if not_media:
        c.print(f"skipped inside folders, without a result line: {not_media} file(s) whose bytes are no image "
                "or video")
    c.print(f"{summary.total} files in {summary.seconds:.1f} s ({rate:.1f} files/s){cached}"
            + (f"; results in {escape(str(out))}" if out else "")
            + (f"; recorded as scan {summary.record_id}" if summary.record_id else ""))


@friendly_errors
def check(
    file: Annotated[Path, typer.Argument(help="One image or video (its kind comes from its bytes, not its name).")],
    licensee: LicenseeOption,
    use: UseOption = "training",
    on: OnOption = None,
    policy: PolicyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON line instead.")] = False,
    strict: StrictOption = False,
    home: HomeOption = None,
) -> None:
    """Check one file and explain the verdict with its evidence.

    Exit status: 0 cleared, 2 blocked, 3 review, 4 error (the file could not be read);
    1 for a usage or workspace error.
    """
    import json

    options = _options(licensee, use, on, 0, policy)
    workspace = open_workspace(home)
    check_licensee(workspace, options.licensee, strict=strict)
    line = check_file(workspace, file, options)
    if as_json:
        print(json.dumps(line, ensure_ascii=False, indent=1))
    else:
        from kyodaku.policy.decide import default_policy

        policy = options.policy or default_policy()
        _explain(line, explain(line, titles=_titles(workspace, _work_ids(line)), licensee=options.licensee,
                               use=options.use, review=policy.review_threshold,
                               lookalikes=workspace.registry.list_lookalikes()))
    raise typer.Exit(CHECK_EXIT[line["verdict"]])


def _work_ids(line: dict[str, Any]) -> set[str]:
    """The works a line names: matched, explaining a match, or named in its text."""
    ids = set()
    for m in line.get("matches") or []:
        ids.add(str(m.get("work_id")))
        by = (m.get("evidence") or {}).get("explained_by") if isinstance(m.get("evidence"), dict) else None
        if by is not None:
            ids.add(str(by))
    ids.update(str(c["work_id"]) for c in line.get("captions") or [] if c.get("work_id"))
    return ids


def _titles(workspace: Any, work_ids: set[str]) -> dict[str, str]:
    out = {}
    for work_id in sorted(work_ids):
        work = workspace.registry.get_work(work_id)
        if work is not None:
            out[work_id] = work.title
    return out


#: ``kyodaku check`` exit status per verdict (1 is taken by usage and workspace errors)
CHECK_EXIT = {"cleared": 0, "blocked": 2, "review": 3, "error": 4}


def _explain(line: dict[str, Any], sentences: list[str]) -> None:
    """The verdict, why in sentences (:func:`kyodaku.cli.explain.explain`), the policy's
    reason, and the evidence tables."""
    c = console()
    verdict = line["verdict"]
    c.print(f"{escape(line['path'])}: [{_STYLE.get(verdict, 'bold')}]{verdict.upper()}[/]")
    for sentence in sentences:
        c.print(f"  - {escape(sentence)}")
    c.print(f"  [dim]policy: {escape(str(line.get('reason')))}[/dim]")
    _explain_captions(line.get("captions") or [])
    matches = line.get("matches") or []
    if not matches:
        return
    table = Table(show_header=True, title="evidence")
    for col in ("work", "holder", "score", "method", "verdict", "evidence"):
        table.add_column(col)
    for m in matches[:10]:
        ev = m.get("evidence", {})
        parts = [f"{k}={v}" for k, v in ev.items() if not isinstance(v, (list, dict))][:5]
        if m.get("query_segment"):
            parts.append(f"query {m['query_segment'][0]:.1f}-{m['query_segment'][1]:.1f}s")
        if m.get("ref_segment"):
            parts.append(f"ref {m['ref_segment'][0]:.1f}-{m['ref_segment'][1]:.1f}s")
        v = m.get("verdict", "")
        table.add_row(m["work_id"], escape(str(m.get("holder", ""))), f"{m['score']:.3f}", m.get("method", ""),
                      f"[{_STYLE.get(v, '')}]{v}[/]" if v else "", escape(", ".join(parts)))
    c.print(table)


def _explain_captions(captions: list[dict[str, Any]]) -> None:
    if not captions:
        return
    table = Table(title="named in the caption / metadata text", show_header=True)
    for col in ("work", "holder", "alias", "text", "field", "kind", "score", "verdict"):
        table.add_column(col)
    for c in captions[:20]:
        v = c.get("verdict", "")
        table.add_row(escape(str(c.get("work_id") or "(holder)")), escape(str(c["holder"])), escape(c["alias"]),
                      escape(c["text"]), escape(str(c.get("field") or "")), c["kind"], f"{c['score']:.3f}",
                      f"[{_STYLE.get(v, '')}]{v}[/]" if v else "")
    console().print(table)


@friendly_errors
def check_text_cmd(
    text: Annotated[str, typer.Argument(help="A caption or prompt.")],
    licensee: LicenseeOption,
    use: UseOption = "training",
    on: OnOption = None,
    policy: PolicyOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON result instead.")] = False,
    strict: StrictOption = False,
    home: HomeOption = None,
) -> None:
    """Check a caption or prompt: which registered works and holders it names or asks
    the style of, and whether LICENSEE may use them for USE.

    Exit status: 0 cleared, 3 review; 1 for a usage or workspace error.
    """
    import json

    from kyodaku.scan.captions import check_text

    options = _options(licensee, use, on, 0, policy)
    workspace = open_workspace(home)
    check_licensee(workspace, options.licensee, strict=strict)
    result = check_text(workspace, text, licensee=options.licensee, use=options.use, on=options.on,
                        policy=options.policy)
    ids = {str(x["work_id"]) for x in result["captions"] if x.get("work_id")}
    sentences = explain_text(result, titles=_titles(workspace, ids), licensee=options.licensee, use=options.use)
    if as_json:
        # the same reason and explanation as the lines a person reads, and its message key
        said: dict[str, Any] = {**result, "reason": sentences[0], "explanation": sentences}
        if (key := text_reason_key(result)) is not None:
            said["reason_key"] = key
        print(json.dumps(said, ensure_ascii=False, indent=1))
    else:
        c = console()
        verdict = result["verdict"]
        first, *rest = sentences
        # what it found leads; the policy's reason (worded for a scanned file) is not repeated
        c.print(f"[{_STYLE.get(verdict, 'bold')}]{verdict.upper()}[/]: {escape(first)}")
        for sentence in rest:
            c.print(f"  - {escape(sentence)}")
        _explain_captions(result["captions"])
    raise typer.Exit(CHECK_EXIT[result["verdict"]])

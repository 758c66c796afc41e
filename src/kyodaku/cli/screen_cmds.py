"""``kyodaku screen``: the generation guard from the command line, the same calls as the
desk's ``POST /api/v1/screen/*`` (:class:`kyodaku.guard.screen.Guard`)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from kyodaku.cli.common import HomeOption, check_licensee, console, err_console, fail, friendly_errors, settings_for
from kyodaku.cli.scan_cmds import _STYLE, CHECK_EXIT, StrictOption, _explain_captions
from kyodaku.guard.provenance import NotSignable, SigningKey, sign_screened
from kyodaku.guard.screen import Guard, ScreenRefused, ScreenResult
from kyodaku.workspace import Workspace


def register(app: typer.Typer) -> None:
    app.command("screen")(screen)


def _explain(result: ScreenResult, name: str) -> None:
    c = console()
    c.print(f"{escape(name)}: [{_STYLE.get(result.verdict, 'bold')}]{result.verdict.upper()}[/] "
            f"(decision {result.decision_id})")
    c.print(f"  reason: {escape(str(result.reason))}")
    _explain_captions(list(result.captions))
    if result.rewrite:
        c.print(f"  suggested prompt: {escape(result.rewrite['prompt'])}")
        c.print(f"  suggested negative prompt: {escape(result.rewrite['negative_prompt'])}")
    if not result.works:
        return
    table = Table(show_header=True)
    for col in ("work", "holder", "score", "method", "verdict", "segment"):
        table.add_column(col)
    for w in result.works[:10]:
        seg = f"{w.query_segment[0]:.1f}-{w.query_segment[1]:.1f}s" if w.query_segment else ""
        v = w.verdict or ""
        table.add_row(w.work_id, escape(str(w.holder or "")), f"{w.score:.3f}", w.method or "",
                      f"[{_STYLE.get(v, '')}]{v}[/]" if v else "", seg)
    c.print(table)


@friendly_errors
def screen(
    file: Annotated[Path | None, typer.Argument(help="A generated image or video (none: screen --prompt only).",
                                                dir_okay=False)] = None,
    prompt: Annotated[str | None, typer.Option("--prompt", "-p", help="The prompt it was generated from.")] = None,
    negative_prompt: Annotated[str, typer.Option("--negative-prompt", help="The negative prompt (prompt only).")] = "",
    licensee: Annotated[str | None, typer.Option("--licensee", "-l", help="Who generates (default: "
                                                 "KYODAKU_LICENSEE, the desk's).")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the JSON result instead.")] = False,
    signed_out: Annotated[Path | None, typer.Option("--signed-out", dir_okay=False,
                                                    help="When cleared, write the output signed (C2PA manifest "
                                                    "with the screening assertion) to this file.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Let --signed-out overwrite an existing file.")] = False,
    strict: StrictOption = False,
    home: HomeOption = None,
) -> None:
    """Screen a generated output (or a prompt) for use generation, as the desk's
    POST /api/v1/screen/output and /prompt do; the screening is a recorded decision.
    With --signed-out PATH a cleared output is written there signed (KYODAKU_C2PA_CERT
    and KYODAKU_C2PA_KEY); a blocked or review one is never signed.

    Exit status: 0 cleared, 2 blocked, 3 review, 4 the file cannot be screened; 1 for a
    usage or workspace error (or a cleared output that could not be signed).
    """
    settings = settings_for(home)
    if file is None and prompt is None:
        raise typer.BadParameter("give a FILE, or --prompt TEXT to screen a prompt")
    signing = None
    if signed_out is not None:  # refused before screening: nothing is recorded for a usage error
        if file is None:
            fail("--signed-out needs a FILE to sign (a prompt is not signed)")
        if signed_out.exists() and not force:
            fail(f"{signed_out} exists: give --force to overwrite it")
        if settings.c2pa_cert is None or settings.c2pa_key is None:
            fail("--signed-out needs a signing certificate: set KYODAKU_C2PA_CERT and KYODAKU_C2PA_KEY")
        signing = SigningKey.load(settings.c2pa_cert, settings.c2pa_key)
    workspace = Workspace.open(settings.home, settings.database_url)
    who = licensee or settings.licensee
    check_licensee(workspace, who, strict=strict)
    guard = Guard(workspace, who, policy_file=settings.policy_file, keep_prompts=settings.screen_keep_prompts,
                  max_pixels=settings.screen_max_pixels, max_seconds=settings.screen_max_seconds)
    try:
        result = guard.screen_prompt(prompt or "", negative_prompt) if file is None \
            else guard.screen_output(file, prompt)
    except ScreenRefused as exc:
        if as_json:
            print(json.dumps({"verdict": "error", "detail": str(exc),
                              "decision_id": exc.result.decision_id if exc.result else None}, ensure_ascii=False))
        else:
            console().print(f"{escape(str(file))}: [magenta]ERROR[/]: {escape(str(exc))}")
        raise typer.Exit(CHECK_EXIT["error"]) from None
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False, indent=1))
    else:
        _explain(result, str(file) if file is not None else "prompt")
    if signing is not None and signed_out is not None and file is not None:
        if result.verdict != "cleared":
            (err_console() if as_json else console()).print(f"not signed: the verdict is {result.verdict}")
        else:
            try:
                signed, _mime = sign_screened(result, file.read_bytes(), signing, title=file.name)
            except NotSignable as exc:
                fail(f"not signed: {exc} (decision {result.decision_id} is recorded)")
            _write(signed_out, signed, force)
            (err_console() if as_json else console()).print(f"signed: {escape(str(signed_out))} (decision {result.decision_id})")
    raise typer.Exit(CHECK_EXIT[result.verdict])


def _write(path: Path, data: bytes, force: bool) -> None:
    """Write ``data`` whole to ``path``: with ``force`` a temporary file renamed into place,
    without it an exclusive create (an existing ``path`` is never replaced)."""
    if not force:
        try:
            with path.open("xb") as f:
                f.write(data)
        except FileExistsError:
            fail(f"{path} exists: give --force to overwrite it")
        return
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

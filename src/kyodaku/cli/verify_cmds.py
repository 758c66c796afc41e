"""``kyodaku verify FILE``: read a released output's C2PA manifest back and check its
kyodaku screening assertion against the workspace's records.

Four checks, each printed: the signature holds for these bytes; the signer chains to a
trust anchor (``KYODAKU_C2PA_TRUST_ANCHORS`` or ``--trust-anchors``; none configured is
"not trusted"); the decision the assertion names is recorded with the same verdict; the
registry digest it names is the one recorded with that decision.  Exit 0 only when all
four hold, else 1."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape

from kyodaku.cli.common import HomeOption, console, friendly_errors, open_workspace, settings_for


def register(app: typer.Typer) -> None:
    @app.command("verify")
    @friendly_errors
    def verify(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A signed output.")],
        trust_anchors: Annotated[Path | None, typer.Option(
            "--trust-anchors", exists=True, dir_okay=False,
            help="PEM root certificates to trust (default: KYODAKU_C2PA_TRUST_ANCHORS).")] = None,
        home: HomeOption = None,
    ) -> None:
        """Check a signed output: its C2PA signature, that its signer is trusted (trust
        anchors), that the decision its kyodaku screening assertion names is recorded with
        the same verdict and registry digest. Prints each check; exit 0 only when all hold."""
        from kyodaku.guard.provenance import load_trust_anchors, verify_output

        settings = settings_for(home)
        anchors_path = trust_anchors or settings.c2pa_trust_anchors
        anchors = load_trust_anchors(anchors_path) if anchors_path is not None else None
        v = verify_output(file, trust_anchors=anchors)
        checks: list[tuple[bool, str]] = []
        checks.append((v.signature_valid, "signature valid" if v.signature_valid else
                       "signature invalid: " + ("; ".join(v.problems) or "the C2PA signature does not hold")))
        if v.trusted:
            checks.append((True, f"trusted: the signer chains to a trust anchor in {anchors_path}"))
        elif not v.trust_checked:
            checks.append((False, "not trusted: no trust anchors configured (KYODAKU_C2PA_TRUST_ANCHORS)"))
        else:
            checks.append((False, f"not trusted: the signer chains to no trust anchor in {anchors_path}"))
        checks.extend(_record_checks(v.assertion, home))
        c = console()
        c.print(f"{escape(str(file))}: digital source type {escape(str(v.digital_source_type))}")
        if v.assertion is not None:
            c.print(f"  assertion: {escape(str(v.assertion))}")
        for ok, text in checks:
            c.print(f"  [{'green' if ok else 'red'}]{'ok' if ok else 'FAIL'}[/] {escape(text)}")
        if not all(ok for ok, _ in checks):
            raise typer.Exit(1)
        c.print("verified")


def _record_checks(assertion: dict[str, Any] | None, home: Path | None) -> list[tuple[bool, str]]:
    """The decision and registry-digest checks of a screening assertion, against the records."""
    from kyodaku.records.store import Records
    from kyodaku.registry.base import NotFound

    if assertion is None:
        return [(False, "decision: no kyodaku screening assertion"),
                (False, "registry digest: no kyodaku screening assertion")]
    raw = assertion.get("decision_id")
    ws = open_workspace(home)
    try:
        decision = Records(ws.session).decision(int(raw))  # type: ignore[arg-type]
    except (NotFound, TypeError, ValueError):
        return [(False, f"decision {raw}: not in the records"),
                (False, "registry digest: no recorded decision to compare with")]
    finally:
        ws.dispose()
    out: list[tuple[bool, str]] = []
    said = assertion.get("verdict")
    if decision.source != "screen":
        out.append((False, f"decision {decision.id} is not a screening (source {decision.source})"))
    elif decision.verdict == said:
        out.append((True, f"decision {decision.id} recorded as {decision.verdict}"))
    else:
        out.append((False, f"decision {decision.id} is recorded as {decision.verdict!r}, the manifest says {said!r}"))
    recorded, named = decision.line.get("registry_digest"), assertion.get("registry_digest")
    if recorded is None:
        out.append((False, f"registry digest: none recorded with decision {decision.id}"))
    elif recorded == named:
        out.append((True, f"registry digest {recorded} as recorded"))
    else:
        out.append((False, f"registry digest {named} differs from the one recorded with decision {decision.id}, "
                           f"{recorded}"))
    return out

"""``kyodaku verify FILE``: read a released output's C2PA manifest back and check its
kyodaku screening assertion against the workspace's records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from kyodaku.cli.common import HomeOption, console, friendly_errors, open_workspace


def register(app: typer.Typer) -> None:
    @app.command("verify")
    @friendly_errors
    def verify(
        file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="A signed output.")],
        home: HomeOption = None,
    ) -> None:
        """Check a signed output: its C2PA signature, the kyodaku screening assertion, and
        that the decision it names is recorded with the same verdict. Exit 1 on any problem."""
        from kyodaku.guard.provenance import verify_output
        from kyodaku.records.store import Records

        v = verify_output(file)
        c = console()
        problems = list(v.problems)
        if not v.signature_valid:
            problems.append("the C2PA signature does not hold for this file")
        if v.assertion is None:
            problems.append("no kyodaku screening assertion")
        else:
            ws = open_workspace(home)
            try:
                decision = Records(ws.session).decision(int(v.assertion.get("decision_id") or 0))
                if getattr(decision, "verdict", None) != v.assertion.get("verdict"):
                    problems.append(f"decision {v.assertion.get('decision_id')} is recorded as "
                                    f"{getattr(decision, 'verdict', None)!r}, the manifest says "
                                    f"{v.assertion.get('verdict')!r}")
            except Exception as e:  # an unknown decision
                problems.append(f"decision {v.assertion.get('decision_id')}: {e}")
            finally:
                ws.dispose()
        c.print(f"digital source type: {escape(str(v.digital_source_type))}; signer trusted: {v.trusted}")
        if v.assertion is not None:
            c.print(f"assertion: {escape(str(v.assertion))}")
        for p in problems:
            c.print(f"[red]problem:[/red] {escape(p)}")
        if problems:
            raise typer.Exit(1)
        c.print("verified")

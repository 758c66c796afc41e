"""``PYTHONPATH=demo python -m kyodaku_demo [--out DIR] [--quiet]``: the offline demo (see :mod:`kyodaku_demo`)."""

from __future__ import annotations

import argparse
import sys
from datetime import date

from kyodaku_demo import DemoError, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kyodaku_demo",
        description="Draw artworks of two rights holders, register them, and scan a corpus of copies "
                    "with the kyodaku command line (offline, about a minute).")
    parser.add_argument("--out", default="demo-out",
                        help="demo folder (default ./demo-out); wiped and recreated")
    parser.add_argument("--on", type=date.fromisoformat, default=None,
                        help="decide as of this date (YYYY-MM-DD; default today)")
    parser.add_argument("--quiet", action="store_true", help="print only the verdicts")
    args = parser.parse_args(argv)
    try:
        verdicts = run(args.out, quiet=args.quiet, on=args.on)
    except DemoError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1
    if args.quiet:
        for path, verdict in sorted(verdicts.items()):
            print(f"{verdict:8} {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Diff two scan results files (JSON lines), ignoring timing fields.

    python benchmarks/diff_results.py BEFORE.jsonl AFTER.jsonl [--show 5]

Lines are paired by ``path``.  Every field of every line is compared, nested ones too
(matches, evidence, captions, signals), except timing fields (``seconds`` and any other
key named in ``--ignore``).  Exits 0 when every line is identical, 1 on any difference
(naming the first few differing paths and fields), 2 when a file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

#: fields that measure time, not behaviour
TIMING_FIELDS = ("seconds",)


def load(path: Path) -> dict[str, dict[str, Any]]:
    lines: dict[str, dict[str, Any]] = {}
    for number, text in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not text.strip():
            continue
        line = json.loads(text)
        key = str(line.get("path", f"<line {number}>"))
        if key in lines:
            raise ValueError(f"{path}:{number}: path {key} appears twice")
        lines[key] = line
    return lines


def differences(a: Any, b: Any, ignore: frozenset[str], where: str = "") -> list[str]:
    """Where ``a`` and ``b`` differ, as dotted field names (``matches[0].score``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k in ignore:
                continue
            name = f"{where}.{k}" if where else k
            if k not in a or k not in b:
                out.append(f"{name} ({'missing before' if k not in a else 'missing after'})")
            else:
                out.extend(differences(a[k], b[k], ignore, name))
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{where} (length {len(a)} -> {len(b)})"]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out.extend(differences(x, y, ignore, f"{where}[{i}]"))
        return out
    if a != b or type(a) is not type(b):
        return [f"{where} ({json.dumps(a)[:60]} -> {json.dumps(b)[:60]})"]
    return []


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("before", type=Path)
    ap.add_argument("after", type=Path)
    ap.add_argument("--show", type=int, default=5, help="differing paths to name (default 5)")
    ap.add_argument("--ignore", action="append", default=[], help="another field to ignore (repeatable)")
    args = ap.parse_args(argv)
    try:
        before, after = load(args.before), load(args.after)
    except (OSError, ValueError) as exc:
        print(f"cannot read results: {exc}", file=sys.stderr)
        return 2
    ignore = frozenset(TIMING_FIELDS) | frozenset(args.ignore)
    differing: list[tuple[str, list[str]]] = []
    for path in sorted(set(before) | set(after)):
        if path not in after:
            differing.append((path, ["(line missing after)"]))
        elif path not in before:
            differing.append((path, ["(line missing before)"]))
        else:
            found = differences(before[path], after[path], ignore)
            if found:
                differing.append((path, found))
    if not differing:
        print(f"identical: {len(before)} lines (ignoring {', '.join(sorted(ignore))})")
        return 0
    print(f"{len(differing)} of {len(set(before) | set(after))} lines differ:")
    for path, found in differing[: args.show]:
        print(f"  {path}: {'; '.join(found[:4])}" + (f" (+{len(found) - 4} more)" if len(found) > 4 else ""))
    return 1


if __name__ == "__main__":
    sys.exit(main())

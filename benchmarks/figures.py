"""The figure tables of README.md and docs/benchmarks.md, written from docs/figures/*.json.

Every table of current figures in those two files sits between markers::

    <!-- figures:NAME -->
    | ... the table, written by this script ... |
    <!-- /figures -->

and is written from the row templates in ``TABLES`` below: the words are the template's,
every figure is a ``{file/key/...:spec}`` placeholder filled from ``docs/figures/FILE.json``
(the figures a benchmark or evaluation measured, with the command that made them).
``tests/test_docs_figures.py`` fails when a marked table is not what this script writes, and
when a template carries a figure of its own instead of a placeholder.

    .venv/bin/python benchmarks/figures.py            # check: exit 1 and a diff where a table differs
    .venv/bin/python benchmarks/figures.py --write    # rewrite the marked tables from the JSON

Placeholder specs (numbers are read from the JSON as decimals, so nothing is lost to floats):

- ``{f/a/b}``         the value as the JSON writes it
- ``{f/a/b:.3f}``     rounded half up to 3 decimals; ``,`` groups thousands (``{f/a:,}``, ``{f/a:,.1f}``)
- ``{f/a/b:+.3f}``    the exact value in parentheses, after a space, when the JSON holds more than
  3 decimals, else nothing: ``{f/a/b:.3f}{f/a/b:+.3f}`` prints ``0.996 (0.9964)``, or ``0.980``
- a list element is a key: ``{corpus/ray/1/one_whole/0:.1f}``
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIGURES = ROOT / "docs" / "figures"
DOCS = ("README.md", "docs/benchmarks.md")

PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_./-]+)(?::([^}]*))?\}")
SPEC = re.compile(r"^(\+)?(,)?(?:\.(\d+)f)?$")
# the markers stand on lines of their own (so a mention of them in `code` is not one)
BLOCK = re.compile(r"^(<!-- figures:([a-z0-9-]+) -->\n)(.*?)^(<!-- /figures -->)$", re.S | re.M)


# --- the accuracy tables: one template per set, the same six metrics ------------------------

METRICS = ("muAP", "r_at_p99", "false_clear", "false_block", "review", "video_localized")
METRIC_DIGITS = {"video_localized": 2}
ACCURACY_HEAD = ["| set | muAP | R@P99 | false_clear | false_block | review | video_localized |",
                 "|---|---|---|---|---|---|---|"]


def _accuracy_row(key: str, label: str, *, detail: bool, bold: tuple[str, ...] = ()) -> str:
    """One set's row. detail: the exact value after the rounded one (docs/benchmarks.md), and
    false_block as a count where the JSON has one; otherwise the rounded value (README)."""
    figures = load("accuracy")["sets"][key]
    cells = [label]
    for metric in METRICS:
        if metric not in figures:
            cells.append("–")
            continue
        digits = figures.get("digits", METRIC_DIGITS.get(metric, 3))
        where = f"accuracy/sets/{key}/{metric}"
        rounded = f"{{{where}:.{digits}f}}"
        if metric in bold:  # the emphasis covers the rounded figure, not the exact one after it
            rounded = f"**{rounded}**"
        if detail and metric == "false_block" and "false_block_of" in figures:
            of = f"accuracy/sets/{key}/false_block_of"
            cells.append(f"{rounded} ({{{of}/0}} of {{{of}/1:,}}: {{{where}}})")
        elif detail:
            cells.append(f"{rounded}{{{where}:+.{digits}f}}")
        else:
            cells.append(rounded)
    return "| " + " | ".join(cells) + " |"


def accuracy_docs() -> list[str]:
    full = ("muAP", "r_at_p99", "false_clear", "false_block", "review", "video_localized")
    return ACCURACY_HEAD + [
        _accuracy_row("full-seed0", "**full** (dev, seed 0: 138 works, 4,452 queries)", detail=True, bold=full),
        _accuracy_row("full-seed1", "full, seed 1 (138 works, 4,452 queries)", detail=True,
                      bold=("muAP", "r_at_p99", "false_block")),
        _accuracy_row("small-seed0", "small (dev, seed 0)", detail=True),
        _accuracy_row("small-seed1", "small, seed 1", detail=True),
        _accuracy_row("cartoon-small", "small, other art (`benchmarks/profiles/cartoon.json`: flat clip-art stamps, "
                      "SuperTux scenes)", detail=True, bold=("muAP", "video_localized")),
        _accuracy_row("space-small", "small, other art 2 (`benchmarks/profiles/space.json`: Endless Sky ship sprites "
                      "and planet photographs, Hedgewars theme art)", detail=True),
        _accuracy_row("space-full", "**full**, other art 2 (243 works, 4,612 queries)", detail=True,
                      bold=("muAP", "r_at_p99", "false_block")),
        _accuracy_row("plain-pdq", "plain PDQ (reference, from the set's README)", detail=True),
    ]


def accuracy_readme() -> list[str]:
    return ACCURACY_HEAD + [
        _accuracy_row("full-seed0", "full dev set (seed 0: 138 works, 4,452 queries)", detail=False),
        _accuracy_row("full-seed1", "full, seed 1", detail=False),
        _accuracy_row("space-full", "other art 2, full (`space.json`: 243 works, 4,612 queries)", detail=False),
        _accuracy_row("cartoon-small", "cartoon, small (`cartoon.json`)", detail=False),
        _accuracy_row("crossmodal-small", "cross-modal, small (`--cross-modal`: frames of episodes, pictures inside "
                      "videos)", detail=False),
        _accuracy_row("crossmodal-full", "cross-modal, full (114 works, 4,296 queries)", detail=False),
        _accuracy_row("plain-pdq", "plain PDQ (from the set's README)", detail=False),
    ]


# --- the speed tables: row templates --------------------------------------------------------

def _scan_row(label: str, where: str, bold: bool = False, goal: bool = False) -> str:
    ratio = f"{{{where}/ratio:.3f}}"  # the times as measured: 4.26 and 28.9 ms
    if bold:
        ratio = f"**{ratio}**"
    if goal:
        ratio += " (goal ≥ {scan/goal_ratio}, not met)"
    return f"| {label} | {{{where}/kyodaku_ms}} | {{{where}/pdq_ms}} | {ratio} |"


SCAN_HEAD = ["| run | kyodaku ms/file | plain PDQ ms/file | throughput vs plain PDQ |", "|---|---|---|---|"]
CORPUS_HEAD = ["| pass | items/s | per core | main RSS | largest worker | process tree |", "|---|---|---|---|---|---|"]


def _corpus_row(label: str, where: str, *, bold: tuple[str, ...] = (), digits: int = 0) -> str:
    figures = load("corpus")
    for part in where.split("/")[1:]:
        figures = figures[part]
    cells = [label]
    for key, fmt, unit in (("items_s", ",.1f", ""), ("per_core", ".1f", ""), ("main_mib", f".{digits}f", " MiB"),
                           ("worker_mib", f".{digits}f", " MiB"), ("tree_mib", f".{digits}f", " MiB")):
        if key not in figures:
            cells.append("-")
            continue
        if key == "items_s" and isinstance(figures[key], int):
            fmt = ","
        cell = f"{{{where}/{key}:{fmt}}}"
        cells.append((f"**{cell}{unit}**" if key in bold else f"{cell}{unit}"))
    return "| " + " | ".join(cells) + " |"


def _ray_row(label: str, run: str) -> str:
    r = f"corpus/ray/{run}"
    return (f"| {label} | {{{r}/items}} | {{{r}/one_whole/0:.1f}}, {{{r}/one_whole/1:.1f}} / "
            f"{{{r}/one_steady/0:.1f}}, {{{r}/one_steady/1:.1f}} | {{{r}/two_whole:.1f}} / {{{r}/two_steady:.1f}} | "
            f"**{{{r}/speedup_whole:.2f}}× / {{{r}/speedup_steady:.2f}}×** |")


def _index_row(label: str, index: str, where: str, bold: bool = False, memory: str = "") -> str:
    b = "**" if bold else ""
    return (f"| {label} | {index} | {b}{{{where}/p50_ms}}{b} | {b}{{{where}/recall:.3f}}{b} | "
            f"{b}{{{where}/vs_flat}}{b} | {b}{{{where}/gib_per_1m:.1f}} GiB{b}{memory} |")


def _local_row(label: str, kind: str, size: str, bold: bool = False) -> str:
    w = f"local_index/{kind}/{size}"
    b = "**" if bold else ""
    return (f"| {label} | {'kyodaku' if kind == 'kyodaku' else 'grown from 20k'} | {{{w}/lists:,}} | {{{w}/build_s}} | "
            f"{b}{{{w}/p50_ms:,}}{b} | {{{w}/vs_exact}} | {{{w}/recall1:.3f}} | {{{w}/recall3:.3f}} |")


def _desk_row(run: str) -> str:
    w = f"desk/runs/{run}"
    return (f"| {run} | {{{w}/claims_s:.1f}} | {{{w}/p50_ms:,}} / **{{{w}/p95_ms:,}}** / {{{w}/p99_ms:,}} | "
            f"{{{w}/me_p95_ms}} | {{{w}/p95_ratio:.1f}} | {{{w}/stored:,}}, each key once, none lost |")


def speed_readme() -> list[str]:
    return [
        "| measure | figure | command |",
        "|---|---|---|",
        "| scan throughput vs a plain PDQ scan, one core, the whole full set | {scan/runs/full/ratio:.3f} "
        "({scan/runs/full/kyodaku_ms:.1f} vs {scan/runs/full/pdq_ms:.2f} ms/file; goal ≥ {scan/goal_ratio}, not met) "
        "| `benchmarks/bench_scan.py evalsets/full` |",
        "| Ray, 2 workers vs 1, whole pass / steady state | {corpus/ray/1/speedup_whole:.2f}× / "
        "{corpus/ray/1/speedup_steady:.2f}× (goal ≥ {corpus/ray/goal_speedup}×) "
        "| `benchmarks/bench_corpus.py evalsets/full --items 300 --small 100 --repeat 2 --ray-items 400` |",
        "| 100k-item corpus fingerprinted, 2 workers: main RSS, process tree | {corpus/quiet/100k/main_mib:.1f} MiB, "
        "{corpus/quiet/100k/tree_mib:.1f} MiB ({corpus/quiet/growth/corpus_times}× the corpus: "
        "+{corpus/quiet/growth/main_mib:.1f} MiB main) "
        "| `benchmarks/bench_corpus.py evalsets/full --items 100000 --small 10000 --repeat 1 --ray-items 0` |",
        "| PDQ index, 1M references: p50 vs exact flat scan | {index/mih/1m/p50_ms} ms, {index/mih/1m/vs_flat}, "
        "recall {index/mih/1m/recall:.3f} | `benchmarks/bench_index.py` |",
        "| video fingerprinting vs real time (40 s 720p) | {video/query_x:.1f}× (full decode: {video/full_decode_x:.1f}×) "
        "| `benchmarks/bench_video.py --repeat 5` |",
    ]


def guard_readme() -> list[str]:
    g = "guard/outputs"
    return [
        "| measure | figure | command |",
        "|---|---|---|",
        "| prompts by keyword sets, on the {guard/prompts/cases} labelled prompts: precision, recall, time "
        "| {guard/prompts/precision:.3f}, {guard/prompts/recall:.3f}, {guard/prompts/ms_per_prompt} ms a prompt "
        "| `benchmarks/bench_prompts.py` |",
        "| `POST /api/v1/screen/prompt` p50 vs `GET /api/v1/me` (small cross-modal set registered) "
        "| {guard/prompt_latency/vs_me_low}-{guard/prompt_latency/vs_me_high}× ({guard/prompt_latency/me_in_process_ms} "
        "ms in process; goal < {guard/prompt_latency/goal_ms} ms) | `benchmarks/bench_screen.py` |",
        f"| a 1024-px image output p50 (full cross-modal set registered) | {{{g}/image_p50_ms}} ms "
        f"(goal < {{{g}/image_goal_ms}} ms, not met) | `benchmarks/bench_screen.py --cases me,image,video` |",
        f"| a 10-s 720p clip p50, vs before its decoding was shared | {{{g}/video_p50_s}} s, "
        f"{{{g}/video_vs_before}}× ({{{g}/video_before_p50_s}} s; goal < {{{g}/video_goal_s}} s, not met) "
        "| `benchmarks/bench_screen.py --cases me,image,video` |",
        "| reference pictures per registered hour of video: the sets' {keyframes/episodes/videos} episodes "
        "(every shot pans) / a composed {keyframes/composed/minutes}-minute clip "
        "| {keyframes/episodes/keyframes_per_hour:,} / {keyframes/composed/keyframes_per_hour:,} "
        "| `benchmarks/bench_keyframes.py` |",
    ]


def scan_docs() -> list[str]:
    return SCAN_HEAD + [
        _scan_row("**the whole full set**, 4,416 images (1,500 query keypoints)", "scan/runs/full", bold=True,
                  goal=True),
        _scan_row("`--every 10` (442 files), with partly redrawn matches to review", "scan/runs/every10"),
    ]


def threads_docs() -> list[str]:
    return SCAN_HEAD + [
        _scan_row("before (OpenCV and FAISS on one thread, OpenBLAS on two)", "scan/threads/before"),
        _scan_row("after (all on one thread)", "scan/threads/after"),
    ]


def corpus_docs() -> list[str]:
    return CORPUS_HEAD + [
        _corpus_row("1k items, all fingerprinted", "corpus/busy/1k"),
        _corpus_row("10k items, all fingerprinted", "corpus/busy/10k"),
        _corpus_row("100k items (the 10k shards ×10), all cache hits", "corpus/busy/100k-cached"),
    ]


def corpus_quiet_docs() -> list[str]:
    head = ["| pass (quiet machine) | items/s | per core | main RSS | largest worker | process tree |",
            CORPUS_HEAD[1]]
    return head + [
        _corpus_row("10k items, all fingerprinted", "corpus/quiet/10k", digits=1),
        _corpus_row("**100k items, all fingerprinted**", "corpus/quiet/100k", digits=1,
                    bold=("per_core", "main_mib", "tree_mib")),
        _corpus_row("the same 100k again, all cache hits", "corpus/quiet/100k-cached", digits=1),
    ]


def ray_docs() -> list[str]:
    return ["| run | items | 1 worker, items/s | 2 workers, items/s | speedup |", "|---|---|---|---|---|",
            _ray_row("run 1", "1"), _ray_row("run 2 (minutes later)", "2")]


def index_docs() -> list[str]:
    return ["| references (codes) | index | p50 ms | recall | p50 vs exact flat | memory per 1M references |",
            "|---|---|---|---|---|---|",
            _index_row("10k (80k)", "mih", "index/mih/10k"),
            _index_row("100k (800k)", "mih", "index/mih/100k"),
            _index_row("1M (8M)", "mih", "index/mih/1m", bold=True),
            _index_row("1M (8M)", "faiss multihash", "index/faiss-multihash/1m",
                       memory=" (serialised; RSS {index/faiss-multihash/1m/rss_gib_per_1m:.1f} GiB)")]


def local_index_docs() -> list[str]:
    return ["| descriptors (≈ pictures) | index | lists | build s (2 threads) | query p50 ms per image | vs exact "
            "| 1-NN recall | 3-NN recall |",
            "|---|---|---|---|---|---|---|---|",
            _local_row("155k (≈ 150, the full set)", "kyodaku", "155k", bold=True),
            _local_row("155k", "grown", "155k"),
            _local_row("1M (≈ 1,100)", "kyodaku", "1m", bold=True),
            _local_row("1M", "grown", "1m"),
            _local_row("7.6M (≈ 8,500)", "kyodaku", "7.6m", bold=True),
            _local_row("7.6M", "grown", "7.6m")]


def desk_docs() -> list[str]:
    return ["| run | claims/s | claim p50 / p95 / p99 ms | `/me` p95 ms | p95 ratio | stored |",
            "|---|---|---|---|---|---|", _desk_row("1"), _desk_row("2")]


# the marked blocks: name -> (the file it is in, its row templates)
TABLES = {
    "readme-accuracy": ("README.md", accuracy_readme),
    "readme-speed": ("README.md", speed_readme),
    "readme-guard": ("README.md", guard_readme),
    "accuracy": ("docs/benchmarks.md", accuracy_docs),
    "scan": ("docs/benchmarks.md", scan_docs),
    "scan-threads": ("docs/benchmarks.md", threads_docs),
    "corpus": ("docs/benchmarks.md", corpus_docs),
    "corpus-quiet": ("docs/benchmarks.md", corpus_quiet_docs),
    "ray": ("docs/benchmarks.md", ray_docs),
    "index": ("docs/benchmarks.md", index_docs),
    "local-index": ("docs/benchmarks.md", local_index_docs),
    "desk": ("docs/benchmarks.md", desk_docs),
}


# --- filling the templates ------------------------------------------------------------------

_loaded: dict[str, dict[str, Any]] = {}


def load(name: str) -> dict[str, Any]:
    """docs/figures/NAME.json, numbers as decimals (0.980 stays 0.980, 0.0045 is not 0.00449...)."""
    if name not in _loaded:
        text = (FIGURES / f"{name}.json").read_text(encoding="utf-8")
        _loaded[name] = json.loads(text, parse_float=Decimal)
    return _loaded[name]


def lookup(path: str) -> Any:
    name, *keys = path.split("/")
    value: Any = load(name)
    for key in keys:
        value = value[int(key)] if isinstance(value, list) else value[key]
    return value


def number(value: Any, spec: str) -> str:
    """One figure as a spec prints it (see the module's docstring)."""
    m = SPEC.match(spec)
    if m is None:
        raise ValueError(f"unknown figure spec {spec!r}")
    exact, group, digits = m.groups()
    if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
        raise TypeError(f"not a number: {value!r}")
    if digits is None:
        return f"{value:,}" if group else str(value)
    if exact:
        exponent = value.as_tuple().exponent if isinstance(value, Decimal) else 0
        return f" ({value})" if isinstance(exponent, int) and -exponent > int(digits) else ""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-int(digits)), rounding=ROUND_HALF_UP)
    return f"{rounded:,}" if group else str(rounded)


# the columns at the left of a table that name its row (their words may carry numbers: "10k (80k)",
# "grown from 20k"); every other cell's numbers are placeholders
LABEL_COLUMNS = {"local-index": 2, "index": 2}


def fill(template: str) -> str:
    return PLACEHOLDER.sub(lambda m: number(lookup(m.group(1)), m.group(2) or ""), template)


def render(name: str) -> str:
    """The block's text between its markers: a blank line, the table, a blank line."""
    _, rows = TABLES[name]
    return "\n" + "\n".join(fill(row) for row in rows()) + "\n\n"


def rewritten(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        name = m.group(2)
        if name not in TABLES:
            raise KeyError(f"no figures table {name!r} (benchmarks/figures.py TABLES)")
        return m.group(1) + render(name) + m.group(4)

    return BLOCK.sub(one, text)


def blocks(text: str) -> dict[str, str]:
    return {m.group(2): m.group(3) for m in BLOCK.finditer(text)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--write", action="store_true", help="rewrite the marked tables from docs/figures/*.json")
    a = ap.parse_args(argv)
    stale = 0
    for doc in DOCS:
        path = ROOT / doc
        text = path.read_text(encoding="utf-8")
        new = rewritten(text)
        if new == text:
            continue
        if a.write:
            path.write_text(new, encoding="utf-8")
            print(f"rewrote {doc}")
        else:
            stale += 1
            sys.stdout.writelines(difflib.unified_diff(text.splitlines(True), new.splitlines(True), doc, doc + " (figures)"))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())

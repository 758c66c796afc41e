"""The offline demo: ``PYTHONPATH=demo python -m kyodaku_demo [--out DIR]`` (``make demo``).

It lives outside the product package ``kyodaku`` (``demo/`` at the repository root, not
installed with it), which it drives as a user would.

It draws six artworks of two Japanese rights holders (:mod:`kyodaku_demo.art`), writes
them as a registry in the evaluation-set formats (``holders.jsonl``, ``catalog.jsonl``,
``permits.jsonl``), makes a small "scraped training corpus" of transformed copies plus
art and pictures that are not registered, and then runs the real ``kyodaku`` command
line on it, command by command, as a user would:

    kyodaku init, holders import, catalog import, permits import, works list,
    scan corpus --licensee acme-video-ai --use training, check (two files)

Studio Hoshi permits ``acme-video-ai`` to train on its works; Manga Kumo gives no
permit, so under the prior-permission (JP) model copies of its works must be blocked.

:func:`run` does all of it and returns the verdict of every corpus file; the demo
folder also holds ``truth.jsonl`` (what each corpus file really is, in the
evaluation-set format) and ``results.jsonl`` (the scan's output).
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kyodaku_demo import art

__all__ = ["COPIES", "DemoError", "HOLDERS", "LICENSEE", "NEGATIVES", "WORKS", "Work", "build_inputs", "run"]

LICENSEE = "acme-video-ai"
USE = "training"
PERMIT_FROM, PERMIT_UNTIL = date(2025, 1, 1), date(2030, 12, 31)
#: written into the demo folder; only a folder holding it (or an empty one) is ever wiped
MARKER = ".kyodaku-demo"

HOLDERS = [
    {"holder": "studio-hoshi", "name": "Studio Hoshi (スタジオ星)", "jurisdiction": "JP"},
    {"holder": "manga-kumo", "name": "Manga Kumo (まんが雲)", "jurisdiction": "JP"},
]
PERMITS = [
    {"holder": "studio-hoshi", "licensee": LICENSEE, "use": USE, "works": "*",
     "valid_from": PERMIT_FROM.isoformat(), "valid_until": PERMIT_UNTIL.isoformat()},
]


class DemoError(RuntimeError):
    """A demo step failed (the message holds the command and its output)."""


@dataclass(frozen=True)
class Work:
    work_id: str
    holder: str
    kind: str  # "character" (transparent sprite) or "scene"
    seed: int
    title: str
    aliases: tuple[tuple[str, str], ...]
    theme: str | None = None

    @property
    def ref(self) -> str:
        return f"refs/{self.work_id}.png"

    def draw(self) -> Any:
        return art.character(self.seed) if self.kind == "character" else art.scene(self.seed, self.theme)


WORKS = [
    Work("hoshi-akari", "studio-hoshi", "character", 101, "星野あかり",
         (("Hoshino Akari", "ja-Latn"), ("Akari of the Star Staff", "en"))),
    Work("hoshi-kirara", "studio-hoshi", "character", 102, "見習いキララ",
         (("Minarai Kirara", "ja-Latn"), ("Kirara the Apprentice", "en"))),
    Work("hoshi-minato", "studio-hoshi", "scene", 103, "星降る港",
         (("Hoshifuru Minato", "ja-Latn"), ("Harbour of Falling Stars", "en")), theme="harbour"),
    Work("kumo-rin", "manga-kumo", "character", 201, "雨雲リン",
         (("Amagumo Rin", "ja-Latn"), ("Rin of the Rain Clouds", "en"))),
    Work("kumo-jinja", "manga-kumo", "scene", 202, "雲の上の神社",
         (("Kumo no Ue no Jinja", "ja-Latn"), ("Shrine Above the Clouds", "en")), theme="shrine"),
    Work("kumo-machi", "manga-kumo", "scene", 203, "雨上がりの町",
         (("Ameagari no Machi", "ja-Latn"), ("Town After the Rain", "en")), theme="town"),
]

# unregistered drawings (same generator, other seeds) and pictures that are not art
_UNREG_CHARACTER = 301
_UNREG_TOWN = 302
_UNREG_HARBOUR = 303  # a night scene: backdrop of one composite
_UNREG_SHRINE = 304  # a day scene: backdrop of a composite, collage filler
_UNREG_TOWN2 = 305  # a day scene: backdrop of a composite

#: (corpus file, work id, transform) of every copy of a registered work
COPIES: list[tuple[str, str, str]] = [
    # manga-kumo (no permit): every one of these must be blocked
    ("kumo-jinja_crop.jpg", "kumo-jinja", "crop"),
    ("kumo-rin_crop.jpg", "kumo-rin", "crop"),
    ("kumo-machi_mirror.jpg", "kumo-machi", "hflip"),
    ("kumo-rin_rotate10.jpg", "kumo-rin", "rotate"),
    ("kumo-machi_resize40.png", "kumo-machi", "resize"),
    ("kumo-jinja_jpeg-q25.jpg", "kumo-jinja", "jpeg"),
    ("kumo-rin_caption.jpg", "kumo-rin", "text"),
    ("kumo-rin_composite.jpg", "kumo-rin", "composite"),
    ("kumo-rin_composite-night.jpg", "kumo-rin", "composite"),
    ("kumo-machi_collage.jpg", "kumo-machi", "collage"),
    ("kumo-jinja_screenshot.png", "kumo-jinja", "screenshot"),
    # studio-hoshi (permit for acme-video-ai): cleared, with the permit as the reason
    ("hoshi-minato_crop.jpg", "hoshi-minato", "crop"),
    ("hoshi-akari_mirror.jpg", "hoshi-akari", "hflip"),
    ("hoshi-minato_mirror.jpg", "hoshi-minato", "hflip"),
    ("hoshi-kirara_rotate10.jpg", "hoshi-kirara", "rotate"),
    ("hoshi-minato_resize40.png", "hoshi-minato", "resize"),
    ("hoshi-akari_jpeg-q25.jpg", "hoshi-akari", "jpeg"),
    ("hoshi-minato_caption.jpg", "hoshi-minato", "text"),
    ("hoshi-kirara_composite.jpg", "hoshi-kirara", "composite"),
    ("hoshi-akari_collage.jpg", "hoshi-akari", "collage"),
    ("hoshi-kirara_screenshot.png", "hoshi-kirara", "screenshot"),
]
#: (corpus file, "hard" or "easy", description) of the files that copy no registered work
NEGATIVES: list[tuple[str, str, str]] = [
    ("unregistered-character.jpg", "hard", "unregistered character in the same style"),
    ("unregistered-town_crop.jpg", "hard", "unregistered town painting in the same style, cropped"),
    ("unrelated-photo.jpg", "easy", "a blurry landscape photo"),
    ("unrelated-chart.png", "easy", "a bar chart"),
]
_CAPTIONS = {
    "kumo-rin": "rain or shine, Rin is here",
    "hoshi-minato": "wallpaper of the day #harbour",
}
#: the scene each composite's character is pasted into
_BACKDROPS = {
    "kumo-rin_composite.jpg": "unreg-shrine",
    "kumo-rin_composite-night.jpg": "unreg-harbour",
    "hoshi-kirara_composite.jpg": "unreg-town2",
}
#: descriptions that say more than the transform's
_NOTES = {
    "kumo-rin_composite.jpg": "pasted into an unregistered day scene",
    "kumo-rin_composite-night.jpg": "pasted into an unregistered night scene",
    "hoshi-kirara_composite.jpg": "pasted into an unregistered day scene",
}
#: the two files `kyodaku check` explains
CHECK_BLOCKED = "kumo-jinja_crop.jpg"
CHECK_CLEARED = "hoshi-minato_mirror.jpg"

_DESCRIBE = {
    "crop": "crop (70% of each side)", "hflip": "mirrored", "rotate": "rotated 10°",
    "resize": "resized to 40%", "jpeg": "JPEG quality 25", "text": "caption text",
    "composite": "pasted into another scene", "collage": "one tile of a 2x2 collage",
    "screenshot": "screenshot of an image viewer",
}


# --------------------------------------------------------------------------- the inputs


def _save(img: Any, path: Path, quality: int = 90) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".jpg":
        img.convert("RGB").save(path, quality=quality)
    else:
        img.save(path, optimize=False, compress_level=3)


def _copy_of(work: Work, picture: Any, transform: str, n: int, pictures: dict[str, Any], name: str) -> Any:
    """The transformed copy of one work's picture (sprites are put on a backdrop first)."""
    sprite = work.kind == "character"

    def flat(seed: int) -> Any:
        return art.flatten(picture, art.paper(picture.size, seed)) if sprite else picture

    if transform == "crop":
        # a character is cropped to the upper body; a scene anywhere
        return art.crop(flat(n), 0.7, seed=n, anchor=(0.5, 0.12) if sprite else None)
    if transform == "hflip":
        return art.mirror(flat(n))
    if transform == "rotate":
        return art.rotate(flat(n), 10.0)
    if transform == "resize":
        return art.resize(flat(n), 0.4)
    if transform == "jpeg":
        return flat(n)  # saved at quality 25
    if transform == "text":
        return art.caption(flat(n), _CAPTIONS.get(work.work_id, work.aliases[-1][0]))
    if transform == "composite":
        return art.composite(picture, pictures[_BACKDROPS[name]], 0.85, x_share=0.25 + 0.5 * (n % 2))
    if transform == "collage":
        others = [pictures["unreg-shrine"], pictures["photo"], pictures["unreg-character"]]
        slot = n % 4
        tiles = others[:slot] + [flat(n)] + others[slot:]
        # tiles shaped like the work: landscape for scenes, portrait for characters
        return art.collage(tiles, tile_size=(450, 600) if sprite else (640, 360))
    if transform == "screenshot":
        return art.screenshot(flat(n), seed=n)
    raise ValueError(f"unknown transform {transform!r}")


#: every picture the demo draws: key -> (generator, seed, theme)
_PICTURES: dict[str, tuple[str, int, str | None]] = {
    **{w.work_id: (w.kind, w.seed, w.theme) for w in WORKS},
    "unreg-character": ("character", _UNREG_CHARACTER, None),
    "unreg-town": ("scene", _UNREG_TOWN, "town"),
    "unreg-harbour": ("scene", _UNREG_HARBOUR, "harbour"),
    "unreg-shrine": ("scene", _UNREG_SHRINE, "shrine"),
    "unreg-town2": ("scene", _UNREG_TOWN2, "town"),
    "photo": ("photo", 401, None),
    "chart": ("chart", 402, None),
}


def _draw(key: str) -> Any:
    kind, seed, theme = _PICTURES[key]
    if kind == "character":
        return art.character(seed)
    if kind == "scene":
        return art.scene(seed, theme)
    return art.unrelated_photo(seed) if kind == "photo" else art.unrelated_chart(seed)


def draw_all() -> dict[str, Any]:
    """Every picture of the demo (about half a second each)."""
    return {key: _draw(key) for key in _PICTURES}


def build_inputs(out: Path) -> list[dict[str, Any]]:
    """Draw the works and the corpus under ``out``; write the registry files and
    ``truth.jsonl``.  Returns the truth rows."""
    out = Path(out)
    by_id = {w.work_id: w for w in WORKS}
    pictures = draw_all()

    for w in WORKS:
        _save(pictures[w.work_id], out / w.ref)

    truth: list[dict[str, Any]] = []
    for n, (name, work_id, transform) in enumerate(COPIES):
        work = by_id[work_id]
        img = _copy_of(work, pictures[work_id], transform, n, pictures, name)
        _save(img, out / "corpus" / name, quality=25 if transform == "jpeg" else 90)
        holder_permits = any(p["holder"] == work.holder for p in PERMITS)
        truth.append({"query": f"corpus/{name}", "media": "image", "work_id": work_id, "holder": work.holder,
                      "transform": transform, "description": _NOTES.get(name, _DESCRIBE[transform]),
                      "title": work.title, "expected_verdict": "cleared" if holder_permits else "blocked"})
    negatives = {
        "unregistered-character.jpg": art.flatten(pictures["unreg-character"], art.paper(art.SPRITE_SIZE, 77)),
        "unregistered-town_crop.jpg": art.crop(pictures["unreg-town"], 0.75, seed=78),
        "unrelated-photo.jpg": pictures["photo"],
        "unrelated-chart.png": pictures["chart"],
    }
    for name, level, description in NEGATIVES:
        _save(negatives[name], out / "corpus" / name)
        truth.append({"query": f"corpus/{name}", "media": "image", "work_id": None, "holder": None,
                      "transform": "none", "negative": level, "description": description,
                      "expected_verdict": "cleared"})

    _jsonl(out / "holders.jsonl", HOLDERS)
    _jsonl(out / "catalog.jsonl", [
        {"work_id": w.work_id, "holder": w.holder, "title": w.title, "kind": "image", "media": [w.ref],
         "aliases": [{"text": t, "lang": lang} for t, lang in w.aliases]} for w in WORKS])
    _jsonl(out / "permits.jsonl", PERMITS)
    _jsonl(out / "truth.jsonl", truth)
    return truth


def _jsonl(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")


def _prepare_folder(out: Path) -> None:
    """Wipe and recreate ``out``; refuse a non-empty folder the demo did not make."""
    if out.exists():
        if not out.is_dir():
            raise DemoError(f"{out} exists and is not a folder")
        if any(out.iterdir()) and not (out / MARKER).exists():
            raise DemoError(f"{out} is not empty and was not made by the demo; "
                            "choose another folder with --out (the demo wipes its folder)")
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / MARKER).write_text("made by `python -m kyodaku_demo`; wiped on the next run\n", encoding="utf-8")


# --------------------------------------------------------------------------- running the CLI


@dataclass
class _Runner:
    home: Path
    quiet: bool
    echo: Callable[[str], None]
    log: list[str] = field(default_factory=list)

    def __call__(self, *args: str) -> str:
        argv = [*args, "--home", str(self.home)]
        shown = kyodaku_command() + " " + " ".join(shlex.quote(a) for a in argv)
        self.echo(shown)
        env = {k: v for k, v in os.environ.items() if not k.startswith("KYODAKU_")}
        cmd = [sys.executable, "-m", "kyodaku.cli.main", *argv]
        if self.quiet:
            env.setdefault("COLUMNS", "200")
            proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            output = proc.stdout + proc.stderr
        else:
            proc = subprocess.run(cmd, env=env, check=False)
            output = ""
        self.log.append(f"$ {shown}\n{output}")
        # `kyodaku check` reports its verdict in the exit status (2 blocked, 3 review)
        ok = {0, 2, 3} if args and args[0] == "check" else {0}
        if proc.returncode not in ok:
            raise DemoError(f"`{shown}` failed with exit code {proc.returncode}" + (f":\n{output}" if output else ""))
        return output


def kyodaku_command() -> str:
    """``kyodaku`` as the shell that ran the demo can run it: ``kyodaku`` when the one on
    PATH is this Python's (an active venv), else that script's path (``.venv/bin/kyodaku``
    after ``make demo``), else ``python -m kyodaku.cli.main``."""
    bindir = Path(os.path.abspath(sys.executable)).parent  # not resolved: a venv's python is a link
    script = bindir / "kyodaku"
    on_path = shutil.which("kyodaku")
    if on_path and script.is_file() and os.path.samefile(on_path, script):
        return "kyodaku"
    if script.is_file():
        rel = os.path.relpath(script)
        return shlex.quote(str(script) if rel.startswith("..") else rel)
    return f"{shlex.quote(sys.executable)} -m kyodaku.cli.main"


def _display(path: Path) -> Path:
    """A path as short as possible for the printed commands (relative to the current folder)."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve())
    except ValueError:
        return path.resolve()


def run(out_dir: str | Path = "demo-out", *, quiet: bool = False, on: date | None = None) -> dict[str, str]:
    """Build the demo under ``out_dir`` (wiped first), run the CLI on it and return
    ``{"corpus/<file>": verdict}`` for every corpus file.

    ``quiet`` captures the commands' output instead of printing it.  ``on`` is the date
    the scan decides as of (default today, or a day inside the permit's validity when
    today is outside it).
    """
    from rich.console import Console
    from rich.markup import escape

    console = Console(quiet=quiet, highlight=False)
    out = Path(out_dir)
    shown = _display(out)
    t0 = time.perf_counter()
    _prepare_folder(out)

    console.rule("[bold]kyodaku (許諾) demo[/bold]")
    console.print("Drawing six artworks of two rights holders and a scraped 'training corpus' of copies ...")
    truth = build_inputs(out)
    console.print(f"  {len(WORKS)} registered works in [cyan]{shown}/refs[/], "
                  f"{len(truth)} corpus files in [cyan]{shown}/corpus[/] "
                  f"({time.perf_counter() - t0:.1f} s)\n")

    def echo(cmd: str) -> None:
        console.print(f"\n[bold green]$[/] [bold]{escape(cmd)}[/]", soft_wrap=True)

    console.print("Now the [bold]kyodaku[/] command line, as a user runs it "
                  "(the registry lives in the workspace given by --home):")
    kyodaku = _Runner(_display(out / "kyodaku-data"), quiet, echo)
    kyodaku("init")
    kyodaku("holders", "import", str(shown / "holders.jsonl"))
    kyodaku("catalog", "import", str(shown / "catalog.jsonl"))
    kyodaku("permits", "import", str(shown / "permits.jsonl"))
    kyodaku("works", "list")
    if on is None and not PERMIT_FROM <= date.today() <= PERMIT_UNTIL:
        on = date(2026, 4, 1)  # inside the permit's validity, so the demo tells the same story in any year
    when = ["--on", on.isoformat()] if on is not None else []
    scan_args = ["scan", str(shown / "corpus"), "--licensee", LICENSEE, "--use", USE, *when,
                 "--out", str(shown / "results.jsonl")]
    kyodaku(*scan_args)
    for name in (CHECK_BLOCKED, CHECK_CLEARED):
        kyodaku("check", str(shown / "corpus" / name), "--licensee", LICENSEE, "--use", USE, *when)

    verdicts, lines = _read_results(out)
    _explain(console, out, shown, truth, lines, time.perf_counter() - t0)
    return verdicts


def try_command(shown: Path) -> str:
    """The command the demo ends with, as it is printed (it works as printed from the
    folder the demo ran in)."""
    argv = ["check", str(shown / "corpus" / "kumo-rin_composite.jpg"), "--licensee", LICENSEE,
            "--home", str(shown / "kyodaku-data")]
    return kyodaku_command() + " " + " ".join(shlex.quote(a) for a in argv)


def _read_results(out: Path) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    base = out.resolve()
    verdicts: dict[str, str] = {}
    lines: dict[str, dict[str, Any]] = {}
    with open(out / "results.jsonl", encoding="utf-8") as f:
        for raw in f:
            line = json.loads(raw)
            p = Path(line["path"])
            key = (p if p.is_absolute() else Path.cwd() / p).resolve().relative_to(base).as_posix()
            verdicts[key] = line["verdict"]
            lines[key] = line
    return verdicts, lines


_STYLE = {"blocked": "bold red", "cleared": "green", "review": "yellow", "error": "magenta"}


def _explain(console: Any, out: Path, shown: Path, truth: list[dict[str, Any]],
             lines: dict[str, dict[str, Any]], seconds: float) -> None:
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    table = Table(title="what the scan decided, file by file", title_style="bold")
    table.add_column("corpus file", overflow="fold")
    table.add_column("what it is", overflow="fold")
    table.add_column("verdict")
    table.add_column("expected")
    table.add_column("score", justify="right")
    right = 0
    wrong: list[dict[str, Any]] = []
    for row in truth:
        line = lines.get(row["query"], {})
        verdict = line.get("verdict", "(missing)")
        ok = verdict == row["expected_verdict"]
        right += ok
        if row["work_id"]:
            what = f"{row['work_id']} ({row['holder']}): {row['description']}"
        else:
            what = f"not registered: {row['description']}"
        scores = {m["work_id"]: m["score"] for m in line.get("matches") or []}
        score = scores.get(row["work_id"]) if row["work_id"] else max(scores.values(), default=None)
        if not ok:
            wrong.append(row)
        table.add_row(Path(row["query"]).name, escape(what), f"[{_STYLE.get(verdict, 'bold')}]{verdict}[/]",
                      ("[green]✓[/] " if ok else "[bold red]✗[/] ") + row["expected_verdict"],
                      "-" if score is None else f"{score:.2f}")
    console.print()
    console.print(table)
    console.print(Panel.fit(
        "[bold]What happened[/bold]\n"
        "• Both holders are in Japan, where kyodaku applies [bold]prior permission[/bold]: "
        "no use of a registered work without the holder's permit.\n"
        f"• [bold red]blocked[/]: copies of [bold]manga-kumo[/]'s works. Manga Kumo gave {LICENSEE} no permit, "
        "so even a crop, a mirror image, a caption or a character pasted into another scene stays out of "
        "the training set.\n"
        f"• [green]cleared[/]: copies of [bold]studio-hoshi[/]'s works, because Studio Hoshi granted {LICENSEE} a "
        f"training permit ({PERMIT_FROM}..{PERMIT_UNTIL}); the result line names the permit as the reason.\n"
        "• [green]cleared[/]: art in the same style that nobody registered, and unrelated pictures.\n"
        f"• {right} of {len(truth)} corpus files got the expected verdict "
        f"(the answer key is {escape(str(shown / 'truth.jsonl'))}).\n"
        + "".join(f"  [bold red]✗[/] {escape(Path(r['query']).name)}: {escape(r['description'])}, expected "
                  f"{r['expected_verdict']}, got {lines.get(r['query'], {}).get('verdict', '(missing)')}\n"
                  for r in wrong)
        + "\n"
        "[bold]Where things are[/bold]\n"
        f"• scan results, one JSON line per file: [cyan]{escape(str(shown / 'results.jsonl'))}[/]\n"
        f"• the corpus: [cyan]{escape(str(shown / 'corpus'))}/[/]   registered works: "
        f"[cyan]{escape(str(shown / 'refs'))}/[/]\n"
        f"• registry inputs: [cyan]{escape(str(shown))}/holders.jsonl, catalog.jsonl, permits.jsonl[/]\n"
        f"• the workspace (database, fingerprints, index): [cyan]{escape(str(shown / 'kyodaku-data'))}/[/]\n\n"
        f"Try: [bold]{escape(try_command(shown))}[/]",
        title=f"kyodaku demo finished in {seconds:.0f} s", border_style="cyan"))

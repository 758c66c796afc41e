"""The README's screenshots of the desk and the report, taken from the demo's workspace.

    make demo && PYTHONPATH=src:demo .venv/bin/python demo/screenshots.py [--demo demo-out] [--out docs/img]

(``make screenshots`` does both.)  It adds two desk accounts to the demo's workspace (a
holder for Manga Kumo, signing in in Japanese, and an operator), files a claim on one of
the demo corpus's copies as the holder, writes the scan's HTML report with ``kyodaku
report``, then serves the desk on loopback and photographs with headless Chromium
(Debian's ``chromium``, driven by Playwright, as ``tests/e2e`` does; Japanese text needs a
CJK font, e.g. ``apt-get install fonts-ipafont-gothic``):

- ``catalog.png``: the holder's catalog (``/works``), with thumbnails;
- ``claim.png``: the claim, its evidence side by side with the registered work;
- ``report.png``: the top of the scan's HTML report.

Run it again after ``make demo``: the demo wipes its workspace, so the accounts are new.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "demo-password-for-screenshots"
HOLDER, WORK, COPY = "manga-kumo", "kumo-rin", "corpus/kumo-rin_composite.jpg"
LICENSEE = "acme-video-ai"
VIEWPORT = {"width": 1280, "height": 900}


class Server:
    """uvicorn serving the desk in a thread, on a loopback socket bound beforehand."""

    def __init__(self, app: object) -> None:
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))  # type: ignore[arg-type]
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.sock.close()


def prepare(demo: Path) -> tuple[object, int]:
    """The desk accounts and one claim on the demo's workspace; returns (workspace, claim id)."""
    from kyodaku.desk.service import DeskService
    from kyodaku.workspace import Workspace

    workspace = Workspace.open(demo / "kyodaku-data")
    service = DeskService(workspace, licensee=LICENSEE)
    holder = service.add_account("kumo-staff", "holder", password=PASSWORD, holders=[HOLDER],
                                 display_name="まんが雲 権利窓口", lang="ja")
    service.add_account("desk-operator", "operator", password=PASSWORD, display_name="Desk operator")
    claim = service.file_claim(holder, work_ids=[WORK], upload=demo / COPY, upload_name=Path(COPY).name,
                               description="生成動画の一コマに、登録作品「雨雲リン」がそのまま使われています。")
    return workspace, int(claim.id)


def signed_in(browser: object, url: str, username: str, locale: str):  # noqa: ANN201
    context = browser.new_context(base_url=url, locale=locale, viewport=VIEWPORT)  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto("/login")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    return context, page


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--demo", type=Path, default=ROOT / "demo-out", help="the folder make demo wrote")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img", help="where the PNG files go")
    ap.add_argument("--chromium", default=os.environ.get("KYODAKU_CHROMIUM") or shutil.which("chromium")
                    or "/usr/bin/chromium")
    args = ap.parse_args(argv)
    if not (args.demo / "kyodaku-data").is_dir():
        ap.error(f"{args.demo} holds no demo workspace: run make demo first")
    if not Path(args.chromium).exists():
        ap.error(f"no Chromium at {args.chromium} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    from kyodaku.service.app import create_app
    from kyodaku.settings import Settings

    args.out.mkdir(parents=True, exist_ok=True)
    workspace, claim_id = prepare(args.demo)
    report = args.demo / "report.html"
    subprocess.run([sys.executable, "-m", "kyodaku.cli.main", "report", str(args.demo / "results.jsonl"),
                    "--out", str(report), "--home", str(args.demo / "kyodaku-data")], check=True)
    settings = Settings(home=args.demo / "kyodaku-data", licensee=LICENSEE)
    with Server(create_app(settings, workspace=workspace)) as server, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, headless=True,
                                    args=["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"])
        try:
            context, page = signed_in(browser, server.url, "kumo-staff", "ja-JP")
            page.goto("/works")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(args.out / "catalog.png"))
            page.goto(f"/claims/{claim_id}")
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(args.out / "claim.png"), full_page=True)
            context.close()
            context = browser.new_context(viewport=VIEWPORT, locale="en-US")
            page = context.new_page()
            page.goto(report.resolve().as_uri())
            page.wait_for_load_state("networkidle")
            page.screenshot(path=str(args.out / "report.png"))
            context.close()
        finally:
            browser.close()
    for name in ("catalog.png", "claim.png", "report.png"):
        print(f"wrote {args.out / name} ({(args.out / name).stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""iter_media: order, skipping, explicit paths, links, loops, permissions, streaming."""

from __future__ import annotations

import itertools
import os
import types
from pathlib import Path

import pytest

from kyodaku.media import walk as walk_mod
from kyodaku.media.types import MediaError
from kyodaku.media.walk import WalkItem, iter_media, sniff_kind
from tests.media.hostile import make_all


def _permissions_enforced() -> bool:
    """False when this process reads mode-000 files anyway (root, CAP_DAC_OVERRIDE)."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "probe")
        with open(p, "wb") as f:
            f.write(b"x")
        os.chmod(p, 0)
        try:
            with open(p, "rb"):
                return False
        except PermissionError:
            return True
        finally:
            os.chmod(p, 0o600)


PERMS_ENFORCED = _permissions_enforced()


PNG_HEAD = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24  # what sniffing reads: the signature is enough
MP4_HEAD = b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2"


def touch(p: Path, data: bytes | None = None) -> Path:
    """A file whose first bytes are what its name says (the walker reads them): a PNG
    signature for image names, an MP4 ``ftyp`` box for video names, else ``b"x"``."""
    if data is None:
        kind = walk_mod.kind_for_name(p.name)
        data = PNG_HEAD if kind == "image" else MP4_HEAD if kind == "video" else b"x"
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_bytes(data)
    return p


def rel(items, root: Path) -> list[tuple[str, str | None, str | None]]:
    return [(os.path.relpath(i.path, root), i.kind, i.error) for i in items]


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    r = tmp_path / "tree"
    for name in [
        "b.png", "a.jpg", "Z.PNG", "c.JPEG", "clip.MP4", "movie.webm", "m.mkv", "q.mov", "r.m4v", "s.avi",
        "i.webp", "g.gif", "bm.bmp", "notes.txt", "README", ".hidden.png",
        "sub/x.png", "sub/deeper/y.gif", "sub/.dotdir/z.png", ".git/objects/o.png", "a_dir/k.bmp",
    ]:
        touch(r / name)
    return r


# --------------------------------------------------------------------------- order and selection


def test_order_kinds_and_skips(tree):
    got = rel(iter_media([tree]), tree)
    # hidden entries are walked like any other (a picture renamed .x.png is still scanned)
    assert got == [
        (".git/objects/o.png", "image", None),
        (".hidden.png", "image", None),
        ("Z.PNG", "image", None),
        ("a.jpg", "image", None),
        ("a_dir/k.bmp", "image", None),
        ("b.png", "image", None),
        ("bm.bmp", "image", None),
        ("c.JPEG", "image", None),
        ("clip.MP4", "video", None),
        ("g.gif", "image", None),
        ("i.webp", "image", None),
        ("m.mkv", "video", None),
        ("movie.webm", "video", None),
        ("q.mov", "video", None),
        ("r.m4v", "video", None),
        ("s.avi", "video", None),
        ("sub/.dotdir/z.png", "image", None),
        ("sub/deeper/y.gif", "image", None),
        ("sub/x.png", "image", None),
    ]
    assert all(isinstance(i, WalkItem) and i.ok for i in iter_media([tree]))


def test_deterministic(tree):
    assert list(iter_media([tree])) == list(iter_media([tree]))
    assert list(iter_media([str(tree)])) == list(iter_media([tree]))


def test_explicit_paths_in_given_order(tree):
    got = rel(iter_media([tree / "sub", tree / "b.png", tree / "a.jpg"]), tree)
    assert [g[0] for g in got] == ["sub/.dotdir/z.png", "sub/deeper/y.gif", "sub/x.png", "b.png", "a.jpg"]


def test_explicit_non_media_is_an_error(tree):
    got = rel(iter_media([tree / "notes.txt", tree / "README"]), tree)
    assert got == [
        ("notes.txt", None, "not an image or video: its bytes match no image or video format"),
        ("README", None, "not an image or video: its bytes match no image or video format"),
    ]


def test_explicit_hidden_file_is_walked(tree):
    assert rel(iter_media([tree / ".hidden.png"]), tree) == [(".hidden.png", "image", None)]
    # an explicitly named hidden folder is walked too
    assert rel(iter_media([tree / ".git"]), tree) == [(".git/objects/o.png", "image", None)]


def test_missing_path(tmp_path):
    [item] = iter_media([tmp_path / "nope.png"])
    assert item.error == "no such file or directory" and item.kind is None  # no bytes: kind unknown


def test_single_path_argument(tree):
    assert list(iter_media(tree)) == list(iter_media([tree]))
    assert list(iter_media(str(tree / "b.png"))) == [WalkItem(tree / "b.png", "image", format="PNG")]


def test_content_mismatch_is_an_error(tmp_path):
    p = touch(tmp_path / "x.png", b"just some text")
    [item] = iter_media([p])
    assert item.kind is None and item.error == (
        "not an image or video: its bytes match no image or video format (named like an image)")
    assert sniff_kind(p) is None
    from kyodaku.media.images import load_image

    with pytest.raises(MediaError, match="not a recognised image"):
        load_image(p)


# --------------------------------------------------------------------------- kind from bytes


def test_kind_comes_from_the_bytes_not_the_name(tmp_path):
    """A picture named .mp4, .txt or nothing is an image; a video named .png is a video;
    inside a folder, non-media bytes under non-media names are skipped and counted."""
    from collections import Counter

    d = tmp_path / "d"
    touch(d / "pic.mp4", PNG_HEAD)
    touch(d / "pic.txt", PNG_HEAD)
    touch(d / "pic", PNG_HEAD)
    touch(d / "clip.png", MP4_HEAD)
    touch(d / "notes.txt", b"some notes")
    touch(d / "meta.json", b'{"a": 1}')
    touch(d / "empty")
    (d / "empty").write_bytes(b"")
    touch(d / "empty.mp4", b"")
    touch(d / "text.jpg", b"not a picture")
    touch(d / "photo.heic", b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic")
    touch(d / "art.jxl", b"\xff\x0a\xfa\x7f")
    touch(d / "logo.svg", b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"></svg>')
    touch(d / ".hidden.png")
    stats: Counter = Counter()
    got = [(i.path.name, i.kind, i.format, i.error) for i in iter_media([d], stats=stats)]
    assert got == [
        (".hidden.png", "image", "PNG", None),
        ("art.jxl", "image", "JPEG XL", "unsupported image format JPEG XL: kyodaku cannot decode it"),
        ("clip.png", "video", "ISOBMFF", None),
        ("empty.mp4", None, None, "empty file (0 bytes)"),
        ("logo.svg", "image", "SVG", "unsupported image format SVG: kyodaku cannot decode it"),
        ("photo.heic", "image", "HEIF", "unsupported image format HEIF: kyodaku cannot decode it"),
        ("pic", "image", "PNG", None),
        ("pic.mp4", "image", "PNG", None),
        ("pic.txt", "image", "PNG", None),
        ("text.jpg", None, None, "not an image or video: its bytes match no image or video format "
                                 "(named like an image)"),
    ]
    assert stats == {"not_media": 3}  # notes.txt, meta.json, empty
    # named explicitly, nothing is skipped
    assert [i.error for i in iter_media([d / "notes.txt", d / "empty"])] == [
        "not an image or video: its bytes match no image or video format", "empty file (0 bytes)"]


# --------------------------------------------------------------------------- links and loops


def test_symlink_loop_one_error(tmp_path):
    d = tmp_path / "loop"
    touch(d / "inner.png")
    os.symlink(".", d / "a")
    items = list(iter_media([d]))
    errors = [i for i in items if i.error]
    assert len(errors) == 1
    assert errors[0].path == d / "a" and "symlink loop" in errors[0].error
    assert [i.path for i in items if i.ok] == [d / "inner.png"]


def test_loop_to_grandparent_and_mutual_loop(tmp_path):
    touch(tmp_path / "top/mid/f.png")
    os.symlink("..", tmp_path / "top/mid/up")  # top/mid/.. = top
    touch(tmp_path / "x/a.png")
    touch(tmp_path / "y/b.png")
    os.symlink("../y", tmp_path / "x/to_y")
    os.symlink("../x", tmp_path / "y/to_x")
    items = list(iter_media([tmp_path / "top", tmp_path / "x"]))
    assert rel(items, tmp_path) == [
        ("top/mid/f.png", "image", None),
        ("top/mid/up", None, f"symlink loop: links back to its ancestor folder {tmp_path / 'top'}"),
        ("x/a.png", "image", None),
        ("x/to_y/b.png", "image", None),
        ("x/to_y/to_x", None, f"symlink loop: links back to its ancestor folder {tmp_path / 'x'}"),
    ]


def test_self_symlink_and_broken_symlink(tmp_path):
    d = tmp_path / "d"
    touch(d / "ok.png")
    os.symlink("self.png", d / "self.png")
    os.symlink("missing.jpg", d / "broken.jpg")
    os.symlink("missing", d / "broken_noext")
    os.symlink("missing.txt", d / "notes.txt")  # not media by name: skipped silently
    got = rel(iter_media([d]), d)
    assert got == [
        ("broken.jpg", None, "broken symlink: its target does not exist"),
        ("broken_noext", None, "broken symlink: its target does not exist"),
        ("ok.png", "image", None),
        ("self.png", None, "symlink loop: too many levels of symbolic links"),
    ]
    # the same links named explicitly
    assert [i.error for i in iter_media([d / "broken.jpg", d / "self.png"])] == [
        "broken symlink: its target does not exist",
        "symlink loop: too many levels of symbolic links",
    ]


def test_links_followed_and_deduplicated(tmp_path):
    touch(tmp_path / "real/p.png")
    touch(tmp_path / "outside/q.png")
    touch(tmp_path / "target.jpg")
    w = tmp_path / "w"
    w.mkdir()
    os.symlink("../outside", w / "link_dir")
    os.symlink("../target.jpg", w / "link_file.jpg")
    os.symlink("../real", w / "again")
    items = rel(iter_media([tmp_path / "real", w]), tmp_path)
    assert items == [
        ("real/p.png", "image", None),
        ("w/link_dir/q.png", "image", None),
        ("w/link_file.jpg", "image", None),
        # w/again -> real: already walked, skipped silently (its files were yielded)
    ]
    # the same folder named twice is walked once
    assert len(list(iter_media([tmp_path / "real", tmp_path / "real"]))) == 1


def test_follow_symlinks_false(tmp_path):
    touch(tmp_path / "outside/q.png")
    touch(tmp_path / "w/own.png")
    os.symlink("../outside", tmp_path / "w/link_dir")
    os.symlink("../outside/q.png", tmp_path / "w/link.png")
    os.symlink("nowhere.png", tmp_path / "w/broken.png")
    assert rel(iter_media([tmp_path / "w"], follow_symlinks=False), tmp_path) == [("w/own.png", "image", None)]
    # an explicitly named link is still followed (like find -H)
    assert rel(iter_media([tmp_path / "w/link_dir"], follow_symlinks=False), tmp_path) == [
        ("w/link_dir/q.png", "image", None)
    ]


# --------------------------------------------------------------------------- permissions and odd files


def test_unreadable_folder_is_an_error(tmp_path, monkeypatch):
    touch(tmp_path / "ok/a.png")
    touch(tmp_path / "locked/b.png")
    real_scandir = os.scandir

    def fake_scandir(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(walk_mod.os, "scandir", fake_scandir)
    assert rel(iter_media([tmp_path]), tmp_path) == [
        ("locked", None, "permission denied (cannot list folder)"),
        ("ok/a.png", "image", None),
    ]
    assert rel(iter_media([tmp_path / "locked"]), tmp_path) == [
        ("locked", None, "permission denied (cannot list folder)")
    ]


def test_unreadable_file_is_an_error(tmp_path, monkeypatch):
    touch(tmp_path / "a.png")
    touch(tmp_path / "secret.png")
    real_access = os.access
    monkeypatch.setattr(
        walk_mod.os, "access", lambda p, m: False if Path(p).name == "secret.png" else real_access(p, m)
    )
    assert rel(iter_media([tmp_path]), tmp_path) == [
        ("a.png", "image", None),
        ("secret.png", None, "permission denied"),
    ]
    assert [i.error for i in iter_media([tmp_path / "secret.png"])] == ["permission denied"]


@pytest.mark.skipif(not PERMS_ENFORCED, reason="this process (root) reads and lists mode-000 files and folders")
def test_real_permissions(tmp_path):
    touch(tmp_path / "locked/b.png")
    touch(tmp_path / "secret.png")
    os.chmod(tmp_path / "secret.png", 0)
    os.chmod(tmp_path / "locked", 0)
    try:
        got = rel(iter_media([tmp_path]), tmp_path)
    finally:
        os.chmod(tmp_path / "locked", 0o755)
    assert got == [
        ("locked", None, "permission denied (cannot list folder)"),
        ("secret.png", None, "permission denied"),
    ]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_with_media_name(tmp_path):
    os.mkfifo(tmp_path / "pipe.mp4")
    os.mkfifo(tmp_path / "pipe.other")
    assert rel(iter_media([tmp_path]), tmp_path) == [
        ("pipe.mp4", None, "not a regular file (a device, pipe or socket)")
    ]


# --------------------------------------------------------------------------- streaming


def test_is_a_lazy_generator(tree):
    gen = iter_media([tree])
    assert isinstance(gen, types.GeneratorType)
    # an endless input: the first items come out without reading the whole input
    endless = itertools.repeat(tree / "b.png")
    first = list(itertools.islice(iter_media(endless), 3))
    assert first == [WalkItem(tree / "b.png", "image", format="PNG")] * 3


def test_streams_inside_a_big_tree(tmp_path, monkeypatch):
    """Only the folders on the current path are listed before the first item is yielded."""
    for i in range(30):
        touch(tmp_path / f"d{i:02d}" / "f.png")
    listed: list[str] = []
    real_scandir = os.scandir

    def counting_scandir(path):
        listed.append(os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(walk_mod.os, "scandir", counting_scandir)
    gen = iter_media([tmp_path])
    assert next(gen).path == tmp_path / "d00" / "f.png"
    assert len(listed) == 2  # the root and d00, not all 31 folders
    assert len(list(gen)) == 29


def test_deep_tree_no_recursion_limit(tmp_path):
    p = tmp_path
    for _ in range(60):
        p = p / "d"
    touch(p / "deep.png")
    import sys

    old = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # the walker is iterative: a low limit does not matter
    try:
        assert [i.path for i in iter_media([tmp_path])] == [p / "deep.png"]
    finally:
        sys.setrecursionlimit(old)


# --------------------------------------------------------------------------- the shared hostile set


def test_walk_hostile_folder(tmp_path):
    files = make_all(tmp_path, bombs=False)
    items = list(iter_media([tmp_path]))
    by_name = {i.path.name: i for i in items}
    # the loop folder gives one error and its one image
    loop_errors = [i for i in items if i.error and "symlink loop: links back" in i.error]
    assert [i.path for i in loop_errors] == [files["symlink_loop"] / "a"]
    assert by_name["inner.png"].ok
    assert by_name["self.png"].error == "symlink loop: too many levels of symbolic links"
    assert by_name["broken.png"].error == "broken symlink: its target does not exist"
    assert by_name["text.png"].error.startswith("not an image or video")  # the bytes decide
    if "fifo_png" in files:
        assert by_name["fifo.png"].error.startswith("not a regular file")
    # a folder named folder.png is walked as a folder (empty), not yielded as a file
    assert "folder.png" not in by_name
    # every media-named regular file in the set is yielded exactly once
    assert len(items) == len({i.path for i in items})
    assert by_name["empty.mp4"].error == "empty file (0 bytes)" and by_name["huge_legal.jpg"].kind == "image"
    assert by_name["video.jpg"].kind == "video"  # an MP4 header named .jpg is a video

"""``kyodaku check`` says why, in a person's words (issue 23, item 2): the sentences of
:func:`kyodaku.cli.explain.explain` for real lines from scanning test pictures, videos and
a shard (a copy, a partly redrawn copy, a variant, a mostly covered picture, a picture
shown in a video, an excerpt of a registered video, a permitted copy, a rights signal),
and for hand-made lines with the rarer keys."""

from __future__ import annotations

import re
from datetime import date

import cv2
import numpy as np
import pytest
import webdataset as wds
from typer.testing import CliRunner

from kyodaku.cli.explain import explain
from kyodaku.cli.main import app
from kyodaku.registry.importers import register_work
from kyodaku.scan.pipeline import ScanOptions, check_file
from kyodaku.scan.references import fingerprint_pending
from tests import art
from tests.fingerprint.test_appearance import _recoloured, _shaded
from tests.video import clips

runner = CliRunner()
ON = date(2026, 6, 1)
OPTS = ScanOptions("acme", "training", ON, workers=0)


def _check(workspace, path, *args: str):
    r = runner.invoke(app, ["check", str(path), "--licensee", "acme", "--on", ON.isoformat(), *args,
                            "--home", str(workspace.home)],
                      env={"KYODAKU_DATABASE_URL": workspace.database_url, "COLUMNS": "200"})
    return r.exit_code, " ".join(r.output.split())


def _says(line, **known):
    return explain(line, licensee="acme", use="training", review=0.3, **known)


@pytest.fixture
def shaded(workspace, tmp_path):
    """w46 of kumo (no permit) registered; a copy, a partly redrawn copy, a variant and a
    mostly covered copy of it written."""
    art.register_artwork(workspace, tmp_path, 46, rgb=_shaded(46))
    touched = _shaded(46)
    touched[200:270, 300:370] = _shaded(99)[200:270, 300:370]  # another face: 1.6 % of the picture
    covered = _shaded(46)
    covered[:, : covered.shape[1] * 3 // 5] = (250, 250, 245)
    for name, rgb in (("copy.jpg", art.jpeg(_shaded(46), 60)), ("touched.png", touched),
                      ("variant.png", _recoloured(_shaded(46))), ("covered.png", covered)):
        art.save(rgb, tmp_path / name)
    return tmp_path


def test_check_says_why_a_copy_is_blocked_and_why_edited_ones_go_to_review(workspace, shaded):
    code, out = _check(workspace, shaded / "copy.jpg")
    assert code == 2, out
    assert re.search(r"BLOCKED - the picture matches w46 'work 46' \(holder kumo\) at 1\.00 by local features "
                     r"\(\d+ keypoints agree\); pixel by pixel it is the same picture; "
                     r"blocked: no permit of acme for training covers this work", out), out

    code, out = _check(workspace, shaded / "touched.png")
    assert code == 3, out
    assert re.search(r"REVIEW - the picture matches w46 'work 46' \(holder kumo\) at 0\.4\d by local features "
                     r"\(\d+ keypoints agree\); about \d\.\d % of it is drawn differently \(partly redrawn: an edited "
                     r"copy or the artist's own variant\), so it goes to review \(a person decides\): no permit of "
                     r"acme for training covers this work", out), out

    code, out = _check(workspace, shaded / "variant.png")
    assert code == 3, out
    assert re.search(r"about \d+ % of it is altered: a variant drawn over the same lines \(recoloured or redrawn\), "
                     r"not a plain copy, so it goes to review", out), out

    code, out = _check(workspace, shaded / "covered.png")
    assert code == 3, out
    assert re.search(r"about \d+ % of the registered picture is covered or blank here: the file shows too little "
                     r"of it to block on, so it goes to review", out), out
    assert "policy: possible copy" in out  # the policy's own reason follows the sentences


def test_a_permit_and_an_unrelated_picture_say_so(workspace, shaded):
    workspace.registry.grant_permit("kumo", "acme", "training", valid_from=date(2025, 1, 1))
    code, out = _check(workspace, shaded / "copy.jpg")
    assert code == 0, out
    assert re.search(r"CLEARED - the picture matches w46 .* pixel by pixel it is the same picture; cleared: "
                     r"permit \d+ \(kumo -> acme, training, valid 2025-01-01\.\.open\) covers it", out), out
    art.save(art.artwork(202), shaded / "other.png")
    code, out = _check(workspace, shaded / "other.png")
    assert code == 0 and "CLEARED - no registered picture or video looks like this file" in out, out


@pytest.fixture
def videos(workspace, tmp_path):
    """kv1, a picture of hoshi, and ep1, an episode of kumo, registered (no permits)."""
    reg = workspace.registry
    reg.add_holder("kumo", "Kumo", "JP")
    reg.add_holder("hoshi", "Hoshi", "JP")
    refs = tmp_path / "refs"
    refs.mkdir()
    episode = clips.episode([11, 12, 13], 2.0)
    clips.write(refs / "ep.mp4", episode)
    register_work(reg, workspace, "kumo", "Episode 1", [refs / "ep.mp4"], work_id="ep1")
    art.save(art.artwork(21, size=(360, 480)), refs / "pic.png")
    register_work(reg, workspace, "hoshi", "Key visual", [refs / "pic.png"], work_id="kv1")
    fingerprint_pending(workspace, progress=False, workers=0)
    return episode


def test_a_video_says_which_seconds_show_which_work(workspace, videos, tmp_path):
    pic = art.artwork(21, size=(360, 480))
    small = art.resized(pic, 180 / pic.shape[0])
    frame = np.full((180, 320, 3), 90, np.uint8)
    x = (320 - small.shape[1]) // 2
    frame[:, x:x + small.shape[1]] = small[:180, :320]
    frames = clips.shot(40, 1.0, size=(320, 180)) + clips.shot(41, 1.0, size=(320, 180)) + [frame] * 36 \
        + clips.shot(50, 2.0, size=(320, 180))
    generated = clips.write(tmp_path / "gen.mp4", frames)
    line = check_file(workspace, generated, OPTS)
    said = _says(line, titles={"kv1": "Key visual"})
    m = re.fullmatch(r"seconds (\d+\.\d)-(\d+\.\d) of this video show the registered picture kv1 'Key visual' "
                     r"\(holder hoshi\) at (?:0\.9\d|1\.00) by local features \(\d+ keypoints agree\) in \d+ keyframe\(s\) "
                     r"\(\d+ sampled frame\(s\), the strongest at \d+\.\d s\); pixel by pixel it is the same picture"
                     r".*; blocked: no permit of acme for training covers this work", said[0])
    assert m, said
    assert 1.5 <= float(m[1]) <= 2.5 and 4.5 <= float(m[2]) <= 5.5

    excerpt = clips.write(tmp_path / "excerpt.mp4", clips.episode([77], 2.0) + clips.mirrored(videos[24:60])
                          + clips.episode([78], 2.0))
    code, out = _check(workspace, excerpt)
    assert code == 2, out
    assert re.search(r"BLOCKED - seconds \d\.\d-\d\.\d of this video match seconds \d\.\d-\d\.\d of the registered "
                     r"video ep1 'Episode 1' \(holder kumo\) at 0\.9\d frame by frame \(\d+ sampled frames aligned "
                     r"in time, mirrored\); blocked: no permit of acme for training covers this work", out), out


def test_a_rights_signal_and_a_caption_lead_when_they_decided(workspace, tmp_path):
    reg = workspace.registry
    reg.add_holder("kumo", "Manga Kumo", "JP")
    reg.add_work("kumo", "Hoshizora Tantei", "image", work_id="w1")
    shard = tmp_path / "one.tar"
    png = cv2.imencode(".png", art.artwork(5)[:, :, ::-1].copy())[1].tobytes()
    with wds.TarWriter(str(shard)) as sink:
        sink.write({"__key__": "k1", "png": png, "json": {"x-robots-tag": "noai"}})
    code, out = _check(workspace, shard)
    assert code == 2, out
    assert ("BLOCKED - the file's X-Robots-Tag reserves AI training (X-Robots-Tag: noai), which covers training: "
            "the file is blocked whatever the registry says") in out, out
    assert "- no registered picture or video looks like this file" in out

    with wds.TarWriter(str(shard)) as sink:
        sink.write({"__key__": "k1", "png": png, "txt": "fan art of Hoshizora Tantei"})
    code, out = _check(workspace, shard)
    assert code == 3, out
    assert ("REVIEW - its caption names w1 'Hoshizora Tantei' (holder kumo), so it goes to review: no permit of "
            "acme for training covers this work - no registered picture or video looks like this file") in out, out


def test_rarer_keys_in_words():
    """Hand-made lines: an explained match, a single video frame, a PDQ match in one
    quarter, an opt-out reservation, an unreadable and an allowing signal, a weak match,
    a look-alike pair, a caption for a permitted work, an error."""
    line = {"path": "x.png", "media": "image", "verdict": "review", "reason": "possible copy", "matches": [
        {"work_id": "w2", "holder": "kumo", "score": 0.45, "method": "orb", "verdict": "review",
         "reason": "possible copy (score 0.45) and no permit: acme has no training permit from kumo for w2",
         "evidence": {"inliers": 80, "mirrored": True, "rotation_deg": 12.0, "explained_by": "w1",
                      "capped_as_explained": True}},
        {"work_id": "w7", "holder": "sora", "score": 0.4, "method": "pdq", "verdict": "review",
         "reason": "possible copy (score 0.40); reserved: sora reserved training of w7 (reservation 4) and acme has "
                   "no training permit from sora for w7",
         "evidence": {"pdq_distance": 30, "variant": 3, "trimmed": False, "region": "quadrant"}},
        {"work_id": "w9", "holder": "umi", "score": 0.9, "method": "orb", "verdict": "cleared",
         "reason": "opt-out (EU): umi has not reserved training of w9", "evidence": {"inliers": 300}},
        {"work_id": "w3", "holder": "kumo", "score": 0.12, "method": "orb", "verdict": "cleared",
         "reason": "score 0.12 for w3 is below the review threshold 0.30", "evidence": {"inliers": 9}}],
        "signals": [{"source": "c2pa", "use": "training", "status": "unreadable", "detail": "bad manifest"},
                    {"source": "iptc", "use": "inference", "status": "allowed", "detail": ""}],
        "captions": [{"work_id": "w9", "holder": "umi", "alias": "Umi", "text": "umi", "kind": "names_work",
                      "score": 1.0, "verdict": "cleared", "field": "title", "permit_id": 5,
                      "reason": "the caption names w9 ('umi' ~ 'Umi'); permit 5 (umi -> acme, training, valid "
                                "2025-01-01..open)"}]}
    pairs = [{"work_id": "w1", "other_work_id": "w2", "holder": "kumo", "other_holder": "kumo", "distance": 6}]
    said = _says(line, titles={"w1": "Night sky", "w2": "Night sky (variant)"}, lookalikes=pairs)
    assert said[0] == ("the picture matches w2 'Night sky (variant)' (holder kumo) at 0.45 by local features "
                       "(80 keypoints agree, mirrored, rotated 12°); what matched is better explained by w1 "
                       "'Night sky' (a registered work sharing this art), so it is scored below that one, so it "
                       "goes to review (a person decides): no permit of acme for training covers this work")
    assert said[1] == ("the picture matches w7 (holder sora) at 0.40 by its perceptual hash (PDQ, 30 of 256 bits "
                       "differ), in one quarter of the file (a collage or grid), so it goes to review (a person "
                       "decides): sora reserved training of it and no permit of acme for training covers this work")
    assert "variant drawn" not in said[1]  # PDQ's "variant" is a hash number, not the appearance finding
    assert said[2].endswith("cleared: the holder's law is opt-out (EU) and umi has not reserved training of it")
    assert said[3] == ("1 weaker match(es) below the review threshold 0.30 change nothing (the best: w3 (holder kumo) "
                       "at 0.12)")
    assert said[4] == ("its title names w9 (holder umi) ('umi' read as 'Umi'); permit 5 (umi -> acme, training, "
                       "valid 2025-01-01..open) covers it, so it changes nothing")
    assert said[5] == ("the file's C2PA manifest could not be read (bad manifest): a file otherwise cleared goes to "
                       "review")
    assert said[6].startswith("the file's IPTC metadata allows AI inference")
    assert said[7] == ("w1 and w2 are near-identical registered pictures (PDQ distance 6/256): a copy of either "
                       "matches both")

    frame = {"path": "c.mp4", "media": "video", "verdict": "review", "reason": "possible copy", "matches": [
        {"work_id": "kv1", "holder": "hoshi", "score": 0.3, "method": "orb", "verdict": "review", "reason": "",
         "query_segment": [4.0, 4.5], "evidence": {"inliers": 40, "picture_in_video": True, "keyframe_t": 4.0,
                                                   "matched_keyframes": 1, "matched_frames": 1,
                                                   "single_frame": True}}]}
    assert "only one sampled frame shows it (no evidence over time), so it is review at most" in _says(frame)[0]
    assert _says({"path": "b.png", "verdict": "error", "reason": "corrupt image header", "matches": []}) == [
        "the file could not be read (corrupt image header): nothing was matched, so it is not cleared; fix or "
        "remove it and scan again"]

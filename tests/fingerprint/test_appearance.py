"""The appearance check: the conformance contract, and what it is for: a copy under
shapes, a caption or a colour change stays a copy; a variant drawn over the same lines
(part of it recoloured or redrawn) is told apart, and a scan sends it to review."""

from __future__ import annotations

from datetime import date

import cv2
import numpy as np
import pytest
from PIL import Image, ImageEnhance

from kyodaku.fingerprint.appearance import ALTERED_INTACT, ALTERED_MAX, OCCLUDED_MAX, AppearanceMethod
from kyodaku.fingerprint.local import OrbMethod
from kyodaku.scan.pipeline import ScanOptions, check_file
from kyodaku.scan.references import fingerprint_pending
from tests import art
from tests.fingerprint.conformance import MethodConformance

APP = AppearanceMethod()
IDENTITY = np.eye(3)
OPTS = ScanOptions("acme", "training", date(2026, 6, 1), workers=0)


class TestAppearance(MethodConformance):
    method = APP

    def test_not_indexed(self):
        assert self.method.search == "none"

    def test_thumbnail_round_trips_with_alpha(self):
        rgb = art.artwork(31)
        alpha = np.zeros(rgb.shape[:2], np.uint8)
        alpha[100:300, 100:500] = 255
        fp = self.method.reference(art.LoadedImage.from_array(rgb, alpha))
        thumb, a = self.method.decode(fp)
        assert max(thumb.shape[:2]) == self.method.side
        assert a.min() == 0 and a.max() == 255
        assert fp.vectors.nbytes < 100_000  # WebP, not raw pixels


def _check(query_rgb: np.ndarray, ref_rgb: np.ndarray, method: AppearanceMethod = APP):
    """The check with the alignment a copy of the whole picture has (a pure rescale)."""
    qh, qw = query_rgb.shape[:2]
    rh, rw = ref_rgb.shape[:2]
    to_ref = np.diag([rw / qw, rh / qh, 1.0])
    return method.check(art.loaded(query_rgb), method.reference(art.loaded(ref_rgb)), to_ref)


def _caption(rgb: np.ndarray, text: str = "LEAKED EPIC") -> np.ndarray:
    out = rgb.copy()
    h = out.shape[0]
    cv2.putText(out, text, (20, h // 8), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (0, 0, 0), 7, cv2.LINE_AA)
    cv2.putText(out, text, (20, h // 8), cv2.FONT_HERSHEY_SIMPLEX, 1.6, (255, 255, 255), 3, cv2.LINE_AA)
    return out


def _shapes(rgb: np.ndarray) -> np.ndarray:
    out = rgb.copy()
    cv2.circle(out, (150, 200), 45, (220, 40, 200), -1)
    cv2.rectangle(out, (400, 300), (480, 380), (30, 200, 60), -1)
    cv2.circle(out, (520, 90), 35, (240, 200, 150), -1)
    return out


def _shaded(seed: int) -> np.ndarray:
    """Test art with brushwork everywhere, as painted art has (the plain test art is flat
    fills, which look like shapes laid over a picture): fine colour texture, each
    channel its own."""
    rgb = art.artwork(seed).astype(np.float32)
    texture = np.random.default_rng(seed).normal(0.0, 240.0, rgb.shape).astype(np.float32)
    return np.clip(rgb + cv2.GaussianBlur(texture, (0, 0), 2.5), 0, 255).astype(np.uint8)


def _recoloured(rgb: np.ndarray) -> np.ndarray:
    """Another version of the picture: its right half painted in other colours (a palette
    swap), the lines the same."""
    out = rgb.copy()
    w = out.shape[1]
    out[:, w // 2:] = out[:, w // 2:, ::-1]
    return out


def _redrawn(rgb: np.ndarray, seed: int = 77) -> np.ndarray:
    """Another version: a quarter of the picture drawn differently."""
    out = rgb.copy()
    other = _shaded(seed)
    out[120:360, 160:480] = other[120:360, 160:480]
    return out


@pytest.mark.parametrize("copy", [
    lambda a: art.jpeg(art.resized(a, 0.5), 25),
    lambda a: np.clip(a.astype(np.float32) * 1.3 - 20, 0, 255).astype(np.uint8),
    lambda a: np.repeat(cv2.cvtColor(a, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2),
    lambda a: cv2.GaussianBlur(a, (0, 0), 2.5),
    _shapes,
    _caption,
], ids=["jpeg", "brightness", "grayscale", "blur", "shapes", "caption"])
def test_copies_are_not_altered(copy):
    found = _check(copy(_shaded(41)), _shaded(41))
    assert found is not None and found.altered <= ALTERED_MAX, found


def test_shapes_laid_over_a_copy_count_as_occluded():
    found = _check(_shapes(_shaded(42)), _shaded(42))
    assert found.occluded > 0.02 and found.altered <= ALTERED_MAX, found


def _gray(rgb: np.ndarray) -> np.ndarray:
    return np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[:, :, None], 3, axis=2)


@pytest.mark.parametrize("variant", [_recoloured, _redrawn, lambda a: _gray(_redrawn(a))],
                         ids=["recoloured", "redrawn", "redrawn-grayscale"])
def test_variants_are_altered(variant):
    found = _check(variant(_shaded(43)), _shaded(43))
    assert found is not None and found.altered > 2 * ALTERED_MAX, found


def _banner(rgb: np.ndarray, seed: int = 78) -> np.ndarray:
    """Another version: a band across the top drawn differently (another face), where a
    caption goes."""
    out = rgb.copy()
    out[20:110, 40:600] = _shaded(seed)[20:110, 40:600]
    return out


def test_a_caption_over_gray_art_is_laid_over_it():
    """In a grayscale copy the colours of the art and of a caption all lie on the gray
    axis, so only the test at the query's own resolution tells them apart: the caption's
    differing pixels there are its fill and its outline."""
    ref = _shaded(44)
    query = _caption(_gray(ref), "LOL BOSS LEVEL")
    found = _check(query, ref)
    assert found is not None and found.occluded > 0.01 and found.altered <= 0.01, found
    thumb_only = AppearanceMethod()
    thumb_only.overlay_share = 1.01  # the test switched off: the caption reads as altered
    old = _check(query, ref, thumb_only)
    assert old.altered > found.altered + 0.01, (old, found)


def test_a_caption_over_redrawn_art_does_not_hide_it():
    """A caption laid across a part drawn differently: the differing pixels there are the
    caption's two colours and the other drawing's many, so the region stays altered."""
    found = _check(_caption(_banner(_shaded(45))), _shaded(45))
    assert found is not None and found.altered > ALTERED_MAX, found


def _chained_colour(rgb: np.ndarray) -> np.ndarray:
    """Brightened (clipping the highlights), then its contrast lowered and its colours
    saturated: each step is affine in RGB, the chain is not."""
    im = ImageEnhance.Brightness(Image.fromarray(rgb)).enhance(1.4)
    im = ImageEnhance.Contrast(im).enhance(0.6)
    return np.asarray(ImageEnhance.Color(im).enhance(1.6))


def test_a_chain_of_colour_edits_is_fitted_away():
    """The colour map bends each channel (squared terms): the clipped highlights of a
    brightened copy whose contrast was lowered afterwards leave no differing pixels (an
    affine map left ~3% of this picture differing)."""
    found = _check(_chained_colour(_shaded(46)), _shaded(46))
    assert found is not None and found.altered + found.occluded <= 0.002, found


def test_orb_pixel_map_aligns_a_crop_and_a_mirror():
    orb = OrbMethod()
    rgb = art.artwork(44)
    ref = orb.reference(art.loaded(rgb))
    for query_rgb, origin in ((art.crop(rgb), (128, 48)), (np.ascontiguousarray(rgb[:, ::-1]), None)):
        q = orb.query(art.loaded(query_rgb))
        c = orb.compare(q, ref)
        to_ref = orb.pixel_map(q, ref, c)
        x, y, _ = to_ref @ np.array([10.0, 20.0, 1.0])
        if origin is not None:  # the crop's (10, 20) is the original's origin + (10, 20)
            assert abs(x - (origin[0] + 10)) < 3 and abs(y - (origin[1] + 20)) < 3
        else:  # mirrored: x runs the other way
            assert abs(x - (rgb.shape[1] - 1 - 10)) < 3 and abs(y - 20) < 3
        found = APP.check(art.loaded(query_rgb), APP.reference(art.loaded(rgb)), to_ref)
        assert found.altered <= ALTERED_MAX, found


def test_orb_pixel_map_is_sub_pixel_on_a_downscaled_mirror():
    """Both pictures are resized for ORB (here by 640/1280): the map follows OpenCV's
    pixel-centre convention, so a mirror lands within a fraction of a pixel (a plain
    diag(1/s) is ~1 px off here, enough to alter a sharp sprite's edges)."""
    orb = OrbMethod()
    rgb = art.artwork(48, size=(960, 1280))
    ref = orb.reference(art.loaded(rgb))
    mirrored = np.ascontiguousarray(rgb[:, ::-1])
    q = orb.query(art.loaded(mirrored))
    to_ref = orb.pixel_map(q, ref, orb.compare(q, ref))
    pts = np.array([[100.0, 100.0, 1.0], [640.0, 480.0, 1.0], [1100.0, 800.0, 1.0]])
    got = pts @ to_ref.T
    want_x = rgb.shape[1] - 1 - pts[:, 0]
    assert np.abs(got[:, 0] - want_x).max() < 0.5, got
    assert np.abs(got[:, 1] - pts[:, 1]).max() < 0.5, got


def test_scan_sends_a_variant_to_review_and_blocks_the_copy(workspace, tmp_path):
    art.register_artwork(workspace, tmp_path, 45, rgb=_shaded(45))
    copy, variant = tmp_path / "copy.jpg", tmp_path / "variant.png"
    art.save(art.jpeg(art.resized(_shaded(45), 0.7), 40), copy)
    art.save(_recoloured(_shaded(45)), variant)
    blocked = check_file(workspace, copy, OPTS)
    assert blocked["verdict"] == "blocked"
    assert blocked["matches"][0]["evidence"]["appearance"]["altered"] <= ALTERED_MAX
    review = check_file(workspace, variant, OPTS)
    assert review["verdict"] == "review", review
    best = review["matches"][0]
    assert best["work_id"] == "w45" and best["evidence"]["variant"] is True
    assert 0.3 <= best["score"] < 0.5


def test_a_copy_with_a_detail_redrawn_goes_to_review_above_a_variant(workspace, tmp_path):
    """A copy with a part drawn differently (another face: 1.6% of the picture) is the work
    by its lines and not by that part's pixels: an edited copy or the artist's own variant,
    which a person decides.  It goes to review, ranked below the intact copy and above a
    variant of the same work; a copy that only went through a JPEG stays blocked."""
    art.register_artwork(workspace, tmp_path, 46, rgb=_shaded(46))
    touched = _shaded(46)
    touched[200:270, 300:370] = _shaded(99)[200:270, 300:370]  # 1.6% of the picture
    art.save(_shaded(46), tmp_path / "intact.png")
    art.save(art.jpeg(_shaded(46), 60), tmp_path / "recompressed.jpg")
    art.save(touched, tmp_path / "touched.png")
    art.save(_recoloured(_shaded(46)), tmp_path / "variant.png")
    intact = check_file(workspace, tmp_path / "intact.png", OPTS)
    assert intact["verdict"] == "blocked"
    recompressed = check_file(workspace, tmp_path / "recompressed.jpg", OPTS)
    assert recompressed["verdict"] == "blocked", recompressed
    assert recompressed["matches"][0]["evidence"]["appearance"]["altered"] <= ALTERED_INTACT
    result = check_file(workspace, tmp_path / "touched.png", OPTS)
    assert result["verdict"] == "review", result
    best = result["matches"][0]
    altered = best["evidence"]["appearance"]["altered"]
    assert ALTERED_INTACT < altered <= ALTERED_MAX and best["evidence"]["partly_redrawn"] is True
    assert "variant" not in best["evidence"]
    assert intact["matches"][0]["evidence"]["appearance"]["altered"] < 0.002
    variant = check_file(workspace, tmp_path / "variant.png", OPTS)["matches"][0]
    assert variant["evidence"]["variant"] is True
    assert 0.3 <= variant["score"] < best["score"] < 0.5 <= intact["matches"][0]["score"]


def test_a_reference_mostly_covered_goes_to_review(workspace, tmp_path):
    """A query showing under half of a registered picture (the rest plain: a different
    figure that shares one prop with it, or a copy mostly painted over) is not blocked on
    the part it shares; a person looks at it."""
    art.register_artwork(workspace, tmp_path, 47, rgb=_shaded(47))
    covered = _shaded(47)
    covered[:, : covered.shape[1] * 3 // 5] = (250, 250, 245)
    art.save(covered, tmp_path / "covered.png")
    result = check_file(workspace, tmp_path / "covered.png", OPTS)
    assert result["verdict"] == "review", result
    best = result["matches"][0]
    assert best["work_id"] == "w47" and best["evidence"]["mostly_covered"] is True
    assert best["evidence"]["appearance"]["occluded"] > OCCLUDED_MAX
    assert 0.3 <= best["score"] < 0.5


def test_registered_look_alikes_are_told_apart_by_their_pixels(workspace, tmp_path):
    """The same picture registered twice, once with a detail drawn differently (and, here,
    at a higher resolution, so it has more keypoints): a copy of the plain one shares
    nearly every keypoint with both, and the look-alike, with more of them, used to
    explain the registered original away.  The pixels decide: each copy blocks on its own
    work, and the look-alike is capped as explained by it."""
    plain = _shaded(50)
    other = plain.copy()
    other[180:260, 260:340] = _shaded(98)[180:260, 260:340]  # 2% drawn differently
    art.register_artwork(workspace, tmp_path, 50, rgb=art.resized(plain, 0.5))
    art.register_artwork(workspace, tmp_path, 50, rgb=other, work_id="w50b")
    for work_id, rgb, look_alike in (("w50", plain, "w50b"), ("w50b", other, "w50")):
        art.save(art.jpeg(rgb, 85), tmp_path / f"copy-{work_id}.jpg")
        result = check_file(workspace, tmp_path / f"copy-{work_id}.jpg", OPTS)
        assert result["verdict"] == "blocked"
        best, *rest = result["matches"]
        assert best["work_id"] == work_id and best["score"] > 0.9, result["matches"]
        alike = next((m for m in rest if m["work_id"] == look_alike), None)  # or too weak to list
        assert alike is None or (alike["score"] < 0.5 and alike["evidence"]["explained_by"] == work_id)


def test_an_older_workspace_gets_thumbnails_of_its_references(workspace, tmp_path):
    import shutil

    art.register_artwork(workspace, tmp_path, 46)
    shutil.rmtree(workspace.fingerprints_dir / "appearance")  # as made before the method existed
    summary = fingerprint_pending(workspace, progress=False, workers=0)
    assert summary.done == 1
    assert (workspace.fingerprints_dir / "appearance" / "refs.json").exists()
    assert (workspace.fingerprints_dir / "orb" / "refs.json").exists()


def test_the_footprint_is_where_the_reference_lies_in_the_query():
    """A picture pasted into a larger query: the comparison's footprint is the pasted
    rectangle in the query's pixels, and a smaller paste inside it lies inside it."""
    ref = _shaded(44)
    rh, rw = ref.shape[:2]
    query = np.full((rh * 2, rw * 2, 3), 128, np.uint8)
    query[100:100 + rh, 200:200 + rw] = ref
    to_ref = np.array([[1.0, 0.0, -200.0], [0.0, 1.0, -100.0], [0.0, 0.0, 1.0]])
    found = APP.check(art.loaded(query), APP.reference(art.loaded(ref)), to_ref)
    x0, y0 = found.footprint.min(axis=0)
    x1, y1 = found.footprint.max(axis=0)
    # the compared mask is eroded by a pixel or so of the working scale
    assert abs(x0 - 200) < 8 and abs(y0 - 100) < 8 and abs(x1 - (200 + rw)) < 8 and abs(y1 - (100 + rh)) < 8
    part = APP.check(art.loaded(query), APP.reference(art.loaded(ref[: rh // 2, : rw // 2])), to_ref)
    assert part.inside(found) > 0.95
    assert 0.2 < found.inside(part) < 0.3


def test_an_alignment_a_pixel_off_is_refined_before_comparing():
    """Keypoints put a copy within a pixel or so of its place; at sharp edges that is
    enough to read a few percent of an intact copy as drawn differently.  The check lays
    the reference on the query to a fraction of a pixel first (ECC, translation)."""
    ref = _shaded(41)
    h, w = ref.shape[:2]
    query = cv2.warpAffine(ref, np.float32([[1, 0, 1.2], [0, 1, -0.7]]), (w, h), borderMode=cv2.BORDER_REFLECT)
    found = APP.check(art.loaded(query), APP.reference(art.loaded(ref)), IDENTITY)
    assert found.altered < 0.002, found
    unrefined = AppearanceMethod()
    unrefined.max_shift = 0.0  # the refinement switched off: the edges differ
    assert unrefined.check(art.loaded(query), unrefined.reference(art.loaded(ref)), IDENTITY).altered > 0.01


def test_a_copy_of_a_plain_picture_is_not_read_as_covered():
    """A faint sky gradient in dark blue, copied in gray: the copy is plain, but so is
    the reference; it is not a blank query hiding a picture.  (Its spread was measured
    over all three channels at once, which a blue counts as varied.)"""
    ramp = np.linspace(0, 1, 480, dtype=np.float32)[:, None, None]
    sky = np.broadcast_to(np.float32([20, 30, 90]) + ramp * np.float32([5, 8, 15]), (480, 640, 3)).astype(np.uint8)
    found = _check(_gray(sky), sky)
    assert found.occluded < 0.01 and found.altered < 0.01, found
    blank = _check(np.full_like(sky, 128), _shaded(42))  # a blank query over a varied picture
    assert blank.occluded == 1.0


def _night_sky() -> np.ndarray:
    """Black with a glowing moon and a small one: ~95% of the pixels one colour."""
    sky = np.zeros((512, 1024, 3), np.uint8)
    glow = np.zeros((512, 1024), np.float32)
    cv2.circle(glow, (520, 180), 130, 1.0, 12)
    cv2.circle(glow, (820, 280), 40, 1.0, 5)
    glow = np.clip(cv2.GaussianBlur(glow, (0, 0), 9) * 2.5, 0, 1)
    sky[:] = (glow[:, :, None] * 230).astype(np.uint8)
    cv2.ellipse(sky, (520, 180), (110, 110), 0, 100, 260, (250, 250, 245), 28)
    cv2.ellipse(sky, (820, 280), (30, 30), 0, -80, 80, (250, 250, 245), 8)
    return sky


def test_a_copy_of_a_picture_nearly_all_one_colour_is_not_altered():
    """A night sky with moons, re-encoded: the colour fit's best 70% of pixels were all
    black, and the map fitted to them alone predicted black for the moons, which read as
    drawn differently.  Each of the reference's tones now keeps its best quarter too."""
    sky = _night_sky()
    for copy in (art.jpeg(sky, 80), np.clip(sky.astype(np.float32) * 0.9 + 12, 0, 255).astype(np.uint8)):
        found = _check(copy, sky)
        assert found.altered < 0.005 and found.occluded < 0.005, found
    overall = AppearanceMethod()
    overall.fit_tone_keep = 0.0  # trimmed over all pixels alone
    assert _check(art.jpeg(sky, 80), sky, overall).altered > 0.02


def _thin_caption(rgb: np.ndarray) -> np.ndarray:
    """Three lines of white text with a bold black outline, anti-aliased: most of the
    caption's pixels are its outline and the blends between outline and fill."""
    out = rgb.copy()
    h = out.shape[0]
    for y in (h // 6, h // 2, h - 20):
        cv2.putText(out, "LEAKED EPIC FAN ART", (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (0, 0, 0), 5, cv2.LINE_AA)
        cv2.putText(out, "LEAKED EPIC FAN ART", (10, y), cv2.FONT_HERSHEY_SIMPLEX, 0.9, (255, 255, 255), 1, cv2.LINE_AA)
    return out


@pytest.mark.parametrize("picture", [
    lambda: _shaded(41),
    lambda: np.clip(_shaded(41) * np.float32([0.3, 1.0, 0.3]), 0, 255).astype(np.uint8),
    lambda: art.artwork(41),
], ids=["painted", "green", "flat"])
def test_a_captions_blends_count_as_laid_over_the_art(picture):
    """A thin caption's fill, outline and the blends between them: under three quarters of
    its differing pixels are within reach of one of its two colours, so it read as drawn
    into the art (a variant).  Its colours are foreign to the art there, so the blends
    between them count as the caption's too."""
    ref = picture()
    found = _check(_thin_caption(ref), ref)
    assert found.altered < 0.005 and found.occluded > 0.03, found
    two_colours_only = AppearanceMethod()
    two_colours_only.blend_art_max = -1.0  # the blends never count
    assert _check(_thin_caption(ref), ref, two_colours_only).altered > ALTERED_MAX


def test_every_strong_match_gets_the_pixel_check(workspace, tmp_path):
    """A query that matches many registered works strongly (a collage of them; in the
    field, a sprite's animation frames registered one by one) has each of them checked,
    not only the best three: a variant among them would otherwise keep its geometric
    score and block as a copy, ranked above real copies."""
    seeds = (61, 62, 63, 64, 65)
    for seed in seeds:
        art.register_artwork(workspace, tmp_path, seed, rgb=_shaded(seed))
    tiles = [art.resized(_shaded(seed), 0.5) for seed in seeds[:4]]
    tiles.append(art.resized(_recoloured(_shaded(seeds[4])), 0.5))  # w65 as another version
    h, w = tiles[0].shape[:2]
    collage = np.full((2 * h, 3 * w, 3), 255, np.uint8)
    for i, tile in enumerate(tiles):
        collage[(i // 3) * h:(i // 3 + 1) * h, (i % 3) * w:(i % 3 + 1) * w] = tile
    art.save(collage, tmp_path / "collage.png")
    result = check_file(workspace, tmp_path / "collage.png", OPTS)
    by_work = {m["work_id"]: m for m in result["matches"]}
    assert set(by_work) >= {f"w{s}" for s in seeds}, result["matches"]
    for seed in seeds[:4]:
        m = by_work[f"w{seed}"]
        assert m["score"] > 0.9 and m["evidence"]["appearance"]["altered"] < 0.01, m
    variant = by_work["w65"]
    assert variant["evidence"].get("variant") is True and variant["score"] < 0.5, variant


def test_a_raised_policy_moves_the_variant_band_and_a_variant_still_goes_to_review(workspace, tmp_path):
    """The matcher places a variant in the loaded policy's variant band: with the review
    threshold raised to 0.5 (block 0.7) and the bands moved with it, a variant scores in
    [0.5, 0.55] and goes to review, and an intact copy is still blocked.  (Before, the band
    was the matcher's own [0.3, 0.375]: such a policy cleared every variant.)"""
    from dataclasses import replace

    from kyodaku.policy import Policy

    raised = Policy.from_dict({**Policy.packaged_data(), "thresholds": {"review": 0.5, "block": 0.7},
                               "matching": {"variant_band": [0.5, 0.55], "partly_redrawn_band": [0.55, 0.65],
                                            "explained_cap": 0.65, "single_frame_cap": 0.5}})
    opts = replace(OPTS, policy=raised)
    art.register_artwork(workspace, tmp_path, 48, rgb=_shaded(48))
    art.save(_recoloured(_shaded(48)), tmp_path / "variant.png")
    art.save(_shaded(48), tmp_path / "intact.png")
    default = check_file(workspace, tmp_path / "variant.png", OPTS)["matches"][0]
    result = check_file(workspace, tmp_path / "variant.png", opts)
    assert result["verdict"] == "review", result
    best = result["matches"][0]
    assert best["work_id"] == "w48" and best["evidence"]["variant"] is True
    assert 0.3 <= default["score"] <= 0.375 and 0.5 <= best["score"] <= 0.55
    # the band is placed by the same strength: moved by 0.2, narrowed from 0.075 to 0.05
    assert abs((best["score"] - 0.5) / 0.05 - (default["score"] - 0.3) / 0.075) < 1e-3
    assert check_file(workspace, tmp_path / "intact.png", opts)["verdict"] == "blocked"

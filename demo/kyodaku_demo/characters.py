"""The demo's character sprites: textured figures on a transparent background."""
from __future__ import annotations

import math

import cv2
import numpy as np
from PIL import Image, ImageChops

from kyodaku_demo.paint import (
    RGB,
    SPRITE_SIZE,
    Canvas,
    Point,
    bezier,
    blob,
    crescent,
    ellipse_pts,
    glyph,
    hsv,
    shade,
    thick_path,
)

# --------------------------------------------------------------------------- characters


PATTERNS = ("stripes", "dots", "checks", "hatch", "glyphs", "scales")


def character(seed: int) -> Image.Image:
    """A 900x1200 RGBA character sprite on a transparent background."""
    rng = np.random.default_rng(seed)
    w, h = SPRITE_SIZE
    cv = Canvas(SPRITE_SIZE, rng)
    ink = hsv(rng.random(), 0.5, 0.16)
    hair_h = rng.random()
    hair = hsv(hair_h, rng.uniform(0.45, 0.9), rng.uniform(0.55, 0.95))
    cloth_h = (hair_h + rng.uniform(0.3, 0.7)) % 1.0
    cloth = hsv(cloth_h, rng.uniform(0.5, 0.85), rng.uniform(0.5, 0.85))
    cloth2 = hsv(cloth_h + rng.uniform(0.08, 0.2), rng.uniform(0.3, 0.7), rng.uniform(0.75, 0.98))
    accent = hsv(cloth_h + 0.5, 0.85, 0.95)
    skin = hsv(rng.uniform(0.03, 0.08), rng.uniform(0.15, 0.3), rng.uniform(0.9, 1.0))
    eye = hsv(rng.random(), 0.8, 0.8)

    cx = w / 2 + rng.uniform(-40, 40)
    head_y = rng.uniform(270, 320)
    hr_x, hr_y = rng.uniform(125, 150), rng.uniform(140, 165)
    tilt = rng.uniform(-0.12, 0.12)
    long_hair = rng.random() < 0.6

    # aura behind the figure: a ring of sparkles and rune arcs (part of the art, on alpha)
    for _ in range(int(rng.integers(10, 18))):
        a = rng.uniform(0, 2 * math.pi)
        rr = rng.uniform(300, 420)
        cv.sparkle(cx + rr * math.cos(a), 560 + rr * 1.2 * math.sin(a), rng.uniform(12, 30), shade(accent, 1.3))

    # hair behind the head
    back_len = rng.uniform(650, 900) if long_hair else rng.uniform(430, 520)
    locks = []
    for _ in range(int(rng.integers(7, 12))):
        x0 = cx + rng.uniform(-hr_x * 1.1, hr_x * 1.1)
        pts = bezier((x0, head_y - hr_y * 0.6), (x0 + rng.uniform(-120, 120), head_y + 100),
                     (x0 + rng.uniform(-160, 160), back_len - 120), (x0 + rng.uniform(-200, 200), back_len))
        widths = np.linspace(rng.uniform(90, 150), 6, len(pts))
        locks.append(thick_path(pts, widths))
    cv.paint(blob(rng, cx, head_y, hr_x * 1.35, hr_y * 1.3, 11, 0.18), hair, shade(hair, 0.6), texture=0.4,
             outline=ink, width=5)
    for lk in locks:
        cv.paint(lk, shade(hair, rng.uniform(0.8, 1.1)), shade(hair, 0.55), angle=math.pi / 2, texture=0.35,
                 outline=ink, width=4)

    # a cape behind the body (some characters)
    sh_y = head_y + hr_y + rng.uniform(40, 70)
    sw = rng.uniform(105, 145)
    if rng.random() < 0.5:
        cape_c = hsv(cloth_h + rng.uniform(0.4, 0.6), rng.uniform(0.5, 0.8), rng.uniform(0.35, 0.7))
        low = rng.uniform(880, 1080)
        left = bezier((cx - sw, sh_y), (cx - sw * 1.5, sh_y + 200), (cx - sw * rng.uniform(1.5, 2.3), low - 150),
                      (cx - sw * rng.uniform(1.5, 2.3), low), 16)
        right = bezier((cx + sw, sh_y), (cx + sw * 1.5, sh_y + 200), (cx + sw * rng.uniform(1.5, 2.3), low - 150),
                       (cx + sw * rng.uniform(1.5, 2.3), low + rng.uniform(-60, 60)), 16)
        cape = left + right[::-1]
        cv.paint(cape, cape_c, shade(cape_c, 0.5), texture=0.4, outline=ink, width=5)
        cv.pattern(cape, PATTERNS[int(rng.integers(0, len(PATTERNS)))], shade(cape_c, 1.4),
                   rng.uniform(20, 44), rng.uniform(0, math.pi), 120)
        for _ in range(int(rng.integers(3, 7))):  # folds
            fx = cx + rng.uniform(-sw * 1.8, sw * 1.8)
            cv.line(bezier((fx * 0.3 + cx * 0.7, sh_y + 60), (fx, sh_y + 200), (fx, low - 200), (fx, low - 20), 10),
                    shade(cape_c, 0.4), 4)

    # legs and footwear
    hip_y = rng.uniform(740, 830)
    foot_y = rng.uniform(1120, 1160)
    boot_top = foot_y - rng.uniform(80, 190)
    spread = rng.uniform(40, 130)
    lace_kind = int(rng.integers(0, 3))
    n_laces = int(rng.integers(2, 6))
    toe = rng.uniform(50, 95)
    for side in (-1, 1):
        foot_x = cx + side * spread + rng.uniform(-30, 30)
        knee_y = (hip_y + foot_y) / 2 + rng.uniform(-30, 30)
        leg = thick_path([(cx + side * 45, hip_y), ((cx + side * 45 + foot_x) / 2, knee_y), (foot_x, foot_y - 20)],
                         [80, 64, 58])
        cv.paint(leg, skin, shade(skin, 0.85), texture=0.15, outline=ink, width=4)
        if rng.random() < 0.5:  # stockings
            sock = thick_path([((cx + side * 45 + foot_x) / 2, knee_y + 20), (foot_x, foot_y - 20)], [64, 58])
            cv.paint(sock, shade(cloth2, 0.9), shade(cloth2, 0.6), texture=0.2, outline=ink, width=3)
            cv.pattern(sock, "stripes", shade(cloth, 0.8), rng.uniform(14, 26), 0.0, 200)
        bw = rng.uniform(38, 48)
        boot = [(foot_x - bw, boot_top), (foot_x + bw, boot_top), (foot_x + bw + 4, foot_y),
                (foot_x + side * toe, foot_y), (foot_x + side * (toe + 4), foot_y + 36), (foot_x - bw - 8, foot_y + 36)]
        boot_c = shade(cloth, rng.uniform(0.35, 0.7))
        cv.paint(boot, boot_c, shade(boot_c, 0.5), texture=0.3, outline=ink, width=4)
        cv.draw.rectangle([foot_x - bw - 6, boot_top - 4, foot_x + bw + 6, boot_top + 14], fill=shade(boot_c, 1.4),
                          outline=ink, width=3)
        gap = (foot_y - boot_top - 30) / max(n_laces, 1)
        for k in range(n_laces):
            yy = boot_top + 24 + k * gap
            if lace_kind == 0:  # criss-cross laces
                cv.line([(foot_x - 28, yy), (foot_x + 28, yy + gap * 0.45)], accent, 4)
                cv.line([(foot_x - 28, yy + gap * 0.45), (foot_x + 28, yy)], accent, 4)
            elif lace_kind == 1:  # straps with buckles
                cv.draw.rectangle([foot_x - bw, yy, foot_x + bw, yy + 12], fill=shade(accent, 0.7), outline=ink,
                                  width=2)
                cv.draw.rectangle([foot_x + side * 10 - 7, yy - 3, foot_x + side * 10 + 7, yy + 15],
                                  outline=(235, 205, 90), width=3)
            else:  # studs
                cv.circle(foot_x + side * 18, yy + 6, 6, fill=(235, 205, 90), outline=ink, width=2)

    # skirt / coat
    flare = rng.uniform(180, 320)
    skirt_top = rng.uniform(620, 700)
    hem_y = min(skirt_top + rng.uniform(230, 360), boot_top - 10)
    hem = bezier((cx - flare, hem_y), (cx - flare / 3, hem_y + rng.uniform(-40, 60)),
                 (cx + flare / 3, hem_y + rng.uniform(-40, 60)), (cx + flare, hem_y), 20)
    waist = rng.uniform(90, 115)
    skirt = [(cx - waist, skirt_top), (cx + waist, skirt_top)] + hem[::-1]
    kind = PATTERNS[int(rng.integers(0, len(PATTERNS)))]
    cv.paint(skirt, cloth, shade(cloth, 0.6), texture=0.35, outline=ink, width=5)
    cv.pattern(skirt, kind, shade(cloth2, 1.1), rng.uniform(26, 48), rng.uniform(0, math.pi), 170)
    n_pleats = int(rng.integers(3, 9))
    for k in range(n_pleats):
        t = (k + 1) / (n_pleats + 1) + rng.uniform(-0.03, 0.03)
        x_top = cx - waist + 2 * waist * t
        x_bot = cx - flare + 2 * flare * t
        cv.line([(x_top, skirt_top + 10), (x_bot, hem_y - 4)], shade(cloth, 0.45), 4)
    wave, amp = rng.uniform(0.8, 2.0), rng.uniform(6, 16)
    frill = [(x, y + 10 + amp * math.sin(i * wave)) for i, (x, y) in enumerate(hem)]
    cv.line(frill, cloth2, int(rng.integers(6, 14)))

    # torso
    torso = [(cx - sw, sh_y), (cx + sw, sh_y), (cx + waist - 5, skirt_top + 20), (cx - waist + 5, skirt_top + 20)]
    cv.paint(torso, cloth2, shade(cloth2, 0.7), texture=0.3, outline=ink, width=5)
    jacket_kind = PATTERNS[int(rng.integers(0, len(PATTERNS)))]
    lapel = rng.uniform(15, 45)
    for side in (-1, 1):  # jacket panels
        panel = [(cx + side * sw, sh_y), (cx + side * lapel, sh_y + rng.uniform(20, 90)),
                 (cx + side * (lapel + 5), skirt_top + 20), (cx + side * (waist - 5), skirt_top + 20)]
        cv.paint(panel, cloth, shade(cloth, 0.55), texture=0.35, outline=ink, width=4)
        cv.pattern(panel, jacket_kind, shade(cloth, 1.35), rng.uniform(18, 30), rng.uniform(0, math.pi), 150)
    n_buttons = int(rng.integers(0, 6))
    bx = cx + rng.uniform(-8, 8)
    if n_buttons < 2:  # a zip and a tie instead
        cv.line([(bx, sh_y + 30), (bx, skirt_top)], (200, 200, 210), 6)
        for k in range(int((skirt_top - sh_y) / 14)):
            cv.line([(bx - 5, sh_y + 34 + k * 14), (bx + 5, sh_y + 34 + k * 14)], ink, 2)
        cv.paint([(bx - 30, sh_y), (bx + 30, sh_y), (bx + 8, sh_y + 40), (bx + 24, sh_y + 150), (bx, sh_y + 175),
                  (bx - 24, sh_y + 150), (bx - 8, sh_y + 40)], accent, shade(accent, 0.5), texture=0.2, outline=ink,
                 width=3)
    else:
        br = rng.uniform(8, 14)
        for k in range(n_buttons):
            by = sh_y + 50 + k * (skirt_top - sh_y - 60) / n_buttons
            cv.circle(bx, by, br, fill=accent, outline=ink, width=3)
            cv.circle(bx - br / 3, by - br / 3, br / 4, fill=(255, 255, 255))
    belt_h = rng.uniform(18, 40)
    belt = [(cx - waist - 5, skirt_top - belt_h / 2), (cx + waist + 5, skirt_top - belt_h / 2),
            (cx + waist + 5, skirt_top + belt_h / 2), (cx - waist - 5, skirt_top + belt_h / 2)]
    cv.paint(belt, shade(accent, 0.6), shade(accent, 0.35), texture=0.2, outline=ink, width=3)
    buckle = int(rng.integers(0, 3))
    bs = belt_h * 0.8 + 6
    if buckle == 0:
        cv.draw.rectangle([bx - bs, skirt_top - bs * 0.8, bx + bs, skirt_top + bs * 0.8], outline=(235, 205, 90),
                          width=6)
    elif buckle == 1:
        cv.circle(bx, skirt_top, bs, outline=(235, 205, 90), width=6)
    else:
        cv.draw.polygon([(bx - bs, skirt_top), (bx, skirt_top - bs), (bx + bs, skirt_top), (bx, skirt_top + bs)],
                        fill=(235, 205, 90), outline=ink)
    # emblem with a glyph
    er = rng.uniform(28, 46)
    ex, ey = cx + rng.choice([-1, 1]) * rng.uniform(45, 80), sh_y + rng.uniform(60, 130)
    cv.paint(ellipse_pts(ex, ey, er, er, 24), accent, shade(accent, 0.5), texture=0.2, outline=ink, width=4,
             radial_fill=True)
    glyph(cv.draw, rng, ex - er * 0.55, ey - er * 0.55, er * 1.1, ink, 5)

    # arms; one holds a staff
    staff_side = rng.choice([-1, 1])
    hands = []
    for side in (-1, 1):
        shoulder = (cx + side * (sw - 15), sh_y + 25)
        if side == staff_side:
            elbow = (shoulder[0] + side * rng.uniform(60, 110), shoulder[1] + rng.uniform(110, 160))
            hand = (elbow[0] + side * rng.uniform(-20, 40), elbow[1] - rng.uniform(20, 90))
        else:
            elbow = (shoulder[0] + side * rng.uniform(30, 80), shoulder[1] + rng.uniform(140, 190))
            hand = (elbow[0] + side * rng.uniform(-60, 20), elbow[1] + rng.uniform(100, 150))
        sleeve = thick_path([shoulder, elbow, hand], [86, 74, 60])
        cv.paint(sleeve, cloth, shade(cloth, 0.55), texture=0.35, outline=ink, width=4)
        cuff = thick_path([elbow, ((elbow[0] + hand[0]) / 2, (elbow[1] + hand[1]) / 2)], [80, 72])
        cv.paint(cuff, cloth2, shade(cloth2, 0.8), texture=0.2, outline=ink, width=3)
        cv.paint(ellipse_pts(hand[0], hand[1], 30, 34, 20), skin, shade(skin, 0.85), texture=0.1, outline=ink,
                 width=4)
        hands.append(hand)
    hand = hands[0] if staff_side == -1 else hands[1]
    top = (hand[0] + staff_side * rng.uniform(20, 80), hand[1] - rng.uniform(380, 470))
    bottom = (hand[0] - staff_side * rng.uniform(10, 40), min(hand[1] + rng.uniform(280, 420), 1190))
    staff = thick_path([top, bottom], [22, 22])
    cv.paint(staff, (150, 100, 60), (80, 50, 30), texture=0.5, outline=ink, width=3)
    for k in range(6):  # runes along the staff
        t = 0.12 + k * 0.11
        gx = top[0] + (bottom[0] - top[0]) * t
        gy = top[1] + (bottom[1] - top[1]) * t
        glyph(cv.draw, rng, gx - 9, gy - 9, 18, (250, 230, 150), 3)
    _staff_head(cv, rng, top, accent, ink)

    # neck, face
    cv.paint([(cx - 30, head_y + hr_y * 0.7), (cx + 30, head_y + hr_y * 0.7), (cx + 34, sh_y + 10),
              (cx - 34, sh_y + 10)], shade(skin, 0.9), shade(skin, 0.75), texture=0.1)
    face = ellipse_pts(cx, head_y, hr_x, hr_y, 60, tilt)
    face = [(x, y + max(0.0, y - head_y) * 0.12) for x, y in face]  # a pointier chin
    cv.paint(face, skin, shade(skin, 0.9), texture=0.08, grain=4, outline=ink, width=5)
    eye_y = head_y + hr_y * rng.uniform(0.05, 0.2)
    eye_dx = hr_x * rng.uniform(0.38, 0.48)
    ew, eh = rng.uniform(30, 42), rng.uniform(40, 56)
    # the eye style of this character: streaks, highlights, lid and brow shapes
    n_streaks, streak_rot = int(rng.integers(0, 9)), rng.uniform(0, math.pi)
    hi1 = (rng.uniform(-0.5, 0.1), rng.uniform(-0.5, -0.1), rng.uniform(0.15, 0.32))
    hi2 = (rng.uniform(0.0, 0.45), rng.uniform(0.1, 0.5), rng.uniform(0.06, 0.16))
    lid_lift, lid_w, flick = rng.uniform(0.9, 1.4), rng.uniform(5, 11), rng.uniform(8, 24)
    brow_h, brow_arch = rng.uniform(1.5, 2.0), rng.uniform(0.1, 0.45)
    for side in (-1, 1):
        ex = cx + side * eye_dx + tilt * -30
        ey = eye_y + side * tilt * eye_dx
        cv.paint(ellipse_pts(ex, ey, ew, eh, 30, tilt), (250, 250, 255), (215, 220, 235), texture=0.0, grain=2)
        cv.paint(ellipse_pts(ex, ey + 6, ew * 0.78, eh * 0.82, 30, tilt), shade(eye, 1.3), shade(eye, 0.35),
                 angle=math.pi / 2, texture=0.3)
        cv.circle(ex, ey + 8, ew * 0.38, fill=shade(eye, 0.2))
        for k in range(n_streaks):  # iris streaks
            a = k * 2 * math.pi / n_streaks + streak_rot
            cv.line([(ex + ew * 0.42 * math.cos(a), ey + 8 + eh * 0.42 * math.sin(a)),
                     (ex + ew * 0.7 * math.cos(a), ey + 8 + eh * 0.7 * math.sin(a))], shade(eye, 1.5), 3)
        cv.circle(ex + ew * hi1[0], ey + eh * hi1[1], ew * hi1[2], fill=(255, 255, 255))
        cv.circle(ex + ew * hi2[0], ey + eh * hi2[1], ew * hi2[2], fill=(255, 255, 255))
        lid = bezier((ex - ew * 1.15, ey - eh * 0.55), (ex - ew * 0.4, ey - eh * lid_lift),
                     (ex + ew * 0.5, ey - eh * lid_lift), (ex + ew * 1.2, ey - eh * 0.45), 14)
        cv.line(lid, ink, int(lid_w))
        cv.line([lid[-1], (lid[-1][0] + side * flick, lid[-1][1] - flick * 0.6)], ink, 6)  # lash flick
        brow = bezier((ex - ew, ey - eh * brow_h), (ex - ew * 0.3, ey - eh * (brow_h + brow_arch)),
                      (ex + ew * 0.3, ey - eh * (brow_h + brow_arch)), (ex + ew, ey - eh * (brow_h - 0.05)), 10)
        cv.line(brow, shade(hair, 0.4), 6)
        for k in range(3):  # blush hatching
            bx = ex + side * 10 + k * 12 - 12
            cv.line([(bx, ey + eh * 1.25), (bx - 8, ey + eh * 1.45)], (235, 120, 130), 4)
    mouth_y = head_y + hr_y * 0.62
    if rng.random() < 0.5:
        cv.paint([(cx - 22, mouth_y), (cx + 22, mouth_y), (cx, mouth_y + 24)], (170, 60, 70), (120, 30, 40),
                 texture=0.0, outline=ink, width=3)
    else:
        cv.line(bezier((cx - 24, mouth_y), (cx - 8, mouth_y + 14), (cx + 8, mouth_y + 14), (cx + 24, mouth_y), 8),
                ink, 5)

    # fringe and top locks over the face
    fringe_y = head_y - hr_y * rng.uniform(0.05, 0.3)
    for i in range(int(rng.integers(6, 10))):
        x0 = cx - hr_x * 1.1 + i * (2.2 * hr_x) / 8 + rng.uniform(-10, 10)
        tip = (x0 + rng.uniform(-40, 40), fringe_y + rng.uniform(0, 70))
        pts = bezier((x0 + rng.uniform(-30, 30), head_y - hr_y * 1.15), (x0, head_y - hr_y * 0.8),
                     (tip[0], tip[1] - 60), tip, 12)
        lock = thick_path(pts, np.linspace(rng.uniform(70, 110), 4, len(pts)))
        cv.paint(lock, shade(hair, 1.15), shade(hair, 0.7), angle=math.pi / 2, texture=0.3, outline=ink, width=4)
        cv.line(pts[2:-3], shade(hair, 1.45), 3)  # shine
    cap = blob(rng, cx, head_y - hr_y * 0.85, hr_x * 1.05, hr_y * 0.45, 9, 0.15)
    cv.paint(cap, hair, shade(hair, 0.75), angle=-math.pi / 2, texture=0.35)
    for k in range(int(rng.integers(3, 7))):  # highlight band
        a = -math.pi * 0.85 + k * 0.25
        hx, hy = cx + hr_x * 0.8 * math.cos(a), head_y - hr_y * 0.6 + hr_y * 0.5 * math.sin(a)
        cv.paint([(hx - 16, hy), (hx + 16, hy), (hx, hy + 40)], shade(hair, 1.6), shade(hair, 1.3), texture=0.0)
    if rng.random() < 0.7:  # a cowlick of its own shape
        d = rng.choice([-1, 1])
        ahoge = bezier((cx + rng.uniform(-40, 40), head_y - hr_y * 1.2),
                       (cx + d * rng.uniform(0, 60), head_y - hr_y * rng.uniform(1.5, 1.9)),
                       (cx + d * rng.uniform(60, 140), head_y - hr_y * rng.uniform(1.4, 1.8)),
                       (cx + d * rng.uniform(30, 100), head_y - hr_y * rng.uniform(1.25, 1.5)), 14)
        cv.paint(thick_path(ahoge, np.linspace(rng.uniform(18, 34), 3, len(ahoge))), hair, shade(hair, 0.6),
                 texture=0.2, outline=ink, width=3)
    # ribbon
    rx, ry = cx + rng.choice([-1, 1]) * hr_x * rng.uniform(0.5, 0.95), head_y - hr_y * rng.uniform(0.75, 1.05)
    rw, rh = rng.uniform(45, 90), rng.uniform(30, 55)
    ribbon_kind = ("dots", "stripes", "checks", "hatch")[int(rng.integers(0, 4))]
    ribbon_scale, ribbon_angle = rng.uniform(12, 22), rng.uniform(0, math.pi)
    for side in (-1, 1):
        wing = [(rx, ry), (rx + side * rw, ry - rh), (rx + side * rw * 1.1, ry + rh * 0.8)]
        cv.paint(wing, accent, shade(accent, 0.55), texture=0.25, outline=ink, width=4)
        cv.pattern(wing, ribbon_kind, (255, 255, 255), ribbon_scale, ribbon_angle, 220)
    cv.circle(rx, ry, 16, fill=shade(accent, 0.8), outline=ink, width=3)

    # dark line art around the silhouette
    alpha = cv.img.getchannel("A")
    grown = cv2.dilate(np.asarray(alpha), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    edge = ImageChops.subtract(Image.fromarray(grown, "L"), alpha)
    line = Image.new("RGBA", SPRITE_SIZE, (*ink, 255))
    line.putalpha(edge)
    out = Image.alpha_composite(line, cv.img)
    return out


def _staff_head(cv: Canvas, rng: np.random.Generator, top: Point, accent: RGB, ink: RGB) -> None:
    """The ornament on a staff: every character gets its own (orb, crystal, crescent or star)."""
    x, y = top
    r = rng.uniform(40, 62)
    gold = hsv(rng.uniform(0.1, 0.15), rng.uniform(0.5, 0.8), 0.92)
    kind = int(rng.integers(0, 4))
    if kind == 0:  # orb in a cage of rays
        cv.paint(ellipse_pts(x, y, r, r, 32), shade(accent, 1.5), shade(accent, 0.5), texture=0.2, outline=ink,
                 width=5, radial_fill=True)
        cv.sparkle(x + rng.uniform(-0.4, 0.2) * r, y + rng.uniform(-0.4, 0.2) * r, r * rng.uniform(0.3, 0.6),
                   (255, 255, 255))
        n, twist = int(rng.integers(3, 9)), rng.uniform(-0.5, 0.5)
        for k in range(n):
            a = k * 2 * math.pi / n + rng.uniform(0, 0.4)
            cv.line([(x + r * 1.1 * math.cos(a), y + r * 1.1 * math.sin(a)),
                     (x + r * rng.uniform(1.4, 1.9) * math.cos(a + twist), y + r * 1.7 * math.sin(a + twist))],
                    gold, int(rng.integers(4, 8)))
    elif kind == 1:  # a faceted crystal
        hgt = r * rng.uniform(1.6, 2.2)
        pts = [(x, y - hgt), (x + r * 0.7, y - hgt * 0.3), (x + r * 0.45, y + hgt * 0.4), (x, y + hgt * 0.55),
               (x - r * 0.45, y + hgt * 0.4), (x - r * 0.7, y - hgt * 0.3)]
        cv.paint(pts, shade(accent, 1.6), shade(accent, 0.45), texture=0.15, outline=ink, width=4)
        for p in pts[1:]:
            cv.line([(x, y - hgt * 0.1), p], shade(accent, 1.8), 2)
        cv.paint(thick_path([(x - r * 0.9, y + hgt * 0.5), (x + r * 0.9, y + hgt * 0.5)], [18, 18]), gold,
                 shade(gold, 0.6), texture=0.2, outline=ink, width=3)
    elif kind == 2:  # a crescent with a dangling star
        cv.paint(crescent(x, y, r * 1.1, x + r * 0.45, y - r * 0.25, r * 0.85), gold, shade(gold, 0.55),
                 texture=0.25, outline=ink, width=4, radial_fill=True)
        cv.line([(x - r * 0.1, y + r * 0.3), (x - r * 0.1, y + r * 0.9)], gold, 3)
        cv.sparkle(x - r * 0.1, y + r * 1.05, r * 0.35, shade(accent, 1.4))
    else:  # a star on a ring
        cv.circle(x, y, r * 1.05, outline=gold, width=8)
        pts = []
        for k in range(10):
            a = -math.pi / 2 + k * math.pi / 5
            rr = r * (0.95 if k % 2 == 0 else rng.uniform(0.38, 0.5))
            pts.append((x + rr * math.cos(a), y + rr * math.sin(a)))
        cv.paint(pts, shade(accent, 1.5), shade(accent, 0.6), texture=0.2, outline=ink, width=4)
        glyph(cv.draw, rng, x - r * 0.22, y - r * 0.2, r * 0.44, ink, 3)


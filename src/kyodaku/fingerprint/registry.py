"""The one place where fingerprint methods are registered.

Image methods run on every image (reference and query); video methods on every video.
A method's ``key`` (name@version) is stored with its fingerprints, so a changed method
never compares against fingerprints made by an older version.
"""

from __future__ import annotations

from functools import cache

from kyodaku.fingerprint.appearance import AppearanceMethod
from kyodaku.fingerprint.base import FingerprintMethod, VideoMethod
from kyodaku.fingerprint.local import OrbMethod
from kyodaku.fingerprint.pdq import PdqMethod


def _video_methods() -> list[type[FingerprintMethod]]:
    try:
        from kyodaku.video.method import VideoFrames
    except ImportError:  # pragma: no cover - the video package is part of kyodaku
        return []
    return [VideoFrames]


@cache
def all_methods() -> dict[str, FingerprintMethod]:
    methods: list[type[FingerprintMethod]] = [PdqMethod, OrbMethod, AppearanceMethod, *_video_methods()]
    return {cls.name: cls() for cls in methods}


def image_methods() -> list[FingerprintMethod]:
    return [m for m in all_methods().values() if not isinstance(m, VideoMethod)]


def video_methods() -> list[VideoMethod]:
    return [m for m in all_methods().values() if isinstance(m, VideoMethod)]


def get_method(name: str) -> FingerprintMethod:
    try:
        return all_methods()[name]
    except KeyError:
        raise KeyError(f"unknown fingerprint method {name!r}; known: {', '.join(sorted(all_methods()))}") from None

"""The one registry of fingerprint methods feeds the conformance suite: every registered
method has a conformance class (a subclass of ``MethodConformance`` somewhere in tests/),
and what a method can do is declared, so the matcher never guesses."""

from __future__ import annotations

import importlib
from pathlib import Path

from kyodaku.fingerprint.base import MapsPixels, VerifiesVotes, VideoMethod
from kyodaku.fingerprint.registry import all_methods, image_methods, video_methods
from tests.fingerprint.conformance import MethodConformance

TESTS = Path(__file__).resolve().parents[1]


def _conformance_classes() -> list[type[MethodConformance]]:
    for path in sorted(TESTS.rglob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        if "(MethodConformance)" in text:
            importlib.import_module(".".join(path.relative_to(TESTS.parent).with_suffix("").parts))
    out, todo = [], list(MethodConformance.__subclasses__())
    while todo:
        cls = todo.pop()
        out.append(cls)
        todo.extend(cls.__subclasses__())
    return out


def test_every_registered_method_has_a_conformance_class():
    covered = {cls.method.name for cls in _conformance_classes() if hasattr(cls, "method")}
    missing = sorted(set(all_methods()) - covered)
    assert not missing, f"registered methods without a MethodConformance subclass: {missing}"


def test_media_follow_the_declared_interfaces():
    assert {m.name for m in video_methods()} == {m.name for m in all_methods().values() if m.media == "video"}
    assert all(isinstance(m, VideoMethod) for m in video_methods())
    assert not any(isinstance(m, VideoMethod) for m in image_methods())


def test_local_features_declare_verification_and_geometry():
    orb = all_methods()["orb"]
    assert isinstance(orb, VerifiesVotes) and isinstance(orb, MapsPixels) and orb.min_votes > 1
    assert not isinstance(all_methods()["pdq"], MapsPixels)  # a global hash has no geometry

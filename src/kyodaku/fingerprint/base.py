"""The shared interface of fingerprint methods.

A method is a small stateless class: it turns a decoded image (or video) into a
:class:`Fingerprint` (a stack of vectors, with optional per-vector geometry) and compares
a query fingerprint with a reference fingerprint.  Finding candidate references among
millions is not its job: the matcher puts every reference vector of a method in a
:class:`~kyodaku.index.base.VectorIndex`, votes with the query's vectors, and asks the
method to ``compare`` only the few candidates that got votes.

Methods are registered in one place, :mod:`kyodaku.fingerprint.registry`.

What a method can do beyond ``reference`` / ``query`` / ``compare`` it declares by
inheriting a capability (as python-threatexchange's signal types inherit ``FileHasher``,
``BytesHasher``...); the matcher asks ``isinstance``, never ``getattr``:

* :class:`VerifiesVotes`: checks the index's votes itself (geometric verification of
  the voting rows) instead of comparing whole fingerprints;
* :class:`MapsPixels`: maps query pixels onto reference pixels for a comparison (what
  the appearance check needs: a method without it leaves its matches unchecked);
* :class:`ResolvesLookAlikes`: explains away look-alikes among its own candidates;
* :class:`ScoresUnderRules`: caps its scores by the loaded policy;
* :class:`ChecksAppearance`: compares a query with a reference pixel by pixel under a map;
* :class:`VideoMethod`: fingerprints whole video files.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from os import PathLike
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

import numpy as np

from kyodaku.media.types import LoadedImage

if TYPE_CHECKING:  # pragma: no cover
    from kyodaku.fingerprint.appearance import Appearance
    from kyodaku.policy import MatchRules
    from kyodaku.video.decode import FrameView


@dataclass
class Fingerprint:
    """What a method extracts from one medium.

    ``vectors``: (n, dim // 8) uint8 for binary methods, (n, dim) float32 for float ones.
    ``points``: (n, p) float32 per-vector data the method needs to compare (keypoint
    geometry, a variant id, a frame time in seconds), or an empty (n, 0) array.
    ``info``: JSON-able facts (image size, duration, ...).
    """

    method: str
    vectors: np.ndarray
    points: np.ndarray
    info: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.vectors.shape[0])


@dataclass
class Comparison:
    """The result of comparing a query with one reference.

    ``score`` is in 0..1, calibrated so that scores of different methods can be compared:
    0.5 means "as likely a copy as not", >= 0.8 a confident match.  ``evidence`` is JSON-able
    (inlier counts, distances, segments) and goes into the scan result.
    """

    score: float
    evidence: dict[str, Any] = field(default_factory=dict)
    query_segment: tuple[float, float] | None = None
    ref_segment: tuple[float, float] | None = None
    #: rows of the query fingerprint that support the match (e.g. RANSAC inliers); the
    #: matcher uses them to tell a near-duplicate reference explained by the same evidence
    support: np.ndarray | None = field(default=None, repr=False)
    #: for geometric methods, the 2x3 affine map from query points to reference points
    transform: np.ndarray | None = field(default=None, repr=False)
    #: what explains this comparison's evidence better (a key of the comparisons a
    #: :class:`ResolvesLookAlikes` method resolved, then the matcher's work id); the
    #: matcher decides on this field, ``evidence`` only reports it
    explained_by: Any = field(default=None, repr=False)
    #: a temporal method's run, frame by frame: (query t, reference t, weight); what
    #: :meth:`ResolvesLookAlikes.resolve` weighs (not part of the evidence: it is large)
    frame_weights: list[list[float]] | None = field(default=None, repr=False)


def evidence_score(evidence: float, mid: float, rise: float, tail: float) -> float:
    """Calibrated score of an amount of evidence (inliers, matching frames, agreeing bits).

    0.5 at ``mid``; below it falls off exponentially (scale ``rise``); above it approaches 1
    with a power-law tail (scale ``tail``) so that stronger evidence always ranks higher
    and scores never saturate (tied scores would hide the ranking).
    """
    if evidence <= mid:
        return float(0.5 * np.exp((evidence - mid) / rise))
    return float(1.0 - 0.5 / (1.0 + (evidence - mid) / tail) ** 2)


def resize_map(s: float, sy: float | None = None) -> np.ndarray:
    """The 3x3 map from a picture's pixel coordinates to those of the picture resized by
    ``s`` (by ``s`` across and ``sy`` down when given) in OpenCV's convention: pixel
    centres, x -> (x + 0.5) s - 0.5.  A plain ``diag(s, s)`` is half a pixel off at each
    resize; under a mirror the offsets add up instead of cancelling."""
    sy = s if sy is None else sy
    return np.array([[s, 0.0, 0.5 * s - 0.5], [0.0, sy, 0.5 * sy - 0.5], [0.0, 0.0, 1.0]])


class FingerprintMethod(ABC):
    """One fingerprint method.  Subclasses set the class attributes and implement
    :meth:`reference` and :meth:`compare`; :meth:`query` defaults to :meth:`reference`."""

    name: ClassVar[str]
    version: ClassVar[int] = 1
    media: ClassVar[str] = "image"  # "image" or "video"
    vector_kind: ClassVar[str]  # "binary" or "float"
    dim: ClassVar[int]  # bits for binary, floats for float
    #: neighbours farther than this (Hamming bits or L2) do not vote for a reference
    vote_radius: ClassVar[float]
    #: neighbours asked of the index per query vector
    vote_k: ClassVar[int] = 4
    #: "radius": near-duplicate codes within a small Hamming radius (global hashes);
    #: "knn": nearest neighbours in a dense descriptor space (local features, frames);
    #: "none": not indexed, only consulted to verify what other methods found (appearance)
    search: ClassVar[str] = "radius"
    #: distinct query vectors that must vote for a reference before it is compared
    min_votes: ClassVar[int] = 1
    #: a reference whose fingerprint has fewer vectors than this gives this method
    #: nothing to find it by (None: the method does not find references, it checks them)
    findable_from: ClassVar[int | None] = 1

    @abstractmethod
    def reference(self, image: LoadedImage) -> Fingerprint:
        """Fingerprint of a registered work's reference medium."""

    def query(self, image: LoadedImage) -> Fingerprint:
        """Fingerprint of a file being scanned (may add variants the reference lacks)."""
        return self.reference(image)

    @abstractmethod
    def compare(self, query: Fingerprint, ref: Fingerprint) -> Comparison:
        """Score how likely ``query`` contains a copy of ``ref`` (0..1)."""

    def rescore(self, comparison: Comparison, support: int) -> float:
        """The score ``comparison`` would have with only ``support`` of its supporting query
        rows (used when a stronger match already explains the rest)."""
        total = len(comparison.support) if comparison.support is not None else 0
        return comparison.score * (support / total) if total else 0.0

    # ------------------------------------------------------------------ helpers
    def empty(self, **info: Any) -> Fingerprint:
        width = self.dim // 8 if self.vector_kind == "binary" else self.dim
        dtype = np.uint8 if self.vector_kind == "binary" else np.float32
        return Fingerprint(self.name, np.zeros((0, width), dtype), np.zeros((0, 0), np.float32), dict(info))

    @property
    def key(self) -> str:
        """Name and version: fingerprints of another version are not comparable."""
        return f"{self.name}@{self.version}"


_K = TypeVar("_K")
_M = TypeVar("_M", bound="FingerprintMethod")


class VerifiesVotes(ABC):
    """A method that verifies the votes an index found (query row, reference row,
    distance) itself, e.g. by RANSAC over those correspondences; the matcher calls
    :meth:`verify` instead of ``compare`` for an indexed candidate."""

    @abstractmethod
    def verify(self, query: Fingerprint, ref: Fingerprint, q_idx: np.ndarray, r_idx: np.ndarray,
               distances: np.ndarray) -> Comparison: ...


class MapsPixels(ABC):
    """A method whose comparisons locate the reference in the query: the 3x3 map from
    the query image's pixels to the reference image's (None when a comparison has no
    geometry).  The appearance check runs on the matches of these methods."""

    @abstractmethod
    def pixel_map(self, query: Fingerprint, ref: Fingerprint, comparison: Comparison) -> np.ndarray | None: ...


class ResolvesLookAlikes(ABC):
    """A method that explains away look-alikes among one query's comparisons with several
    references (same keys in, same keys out; an explained one names its explainer's key
    in :attr:`Comparison.explained_by`, and in its evidence)."""

    @abstractmethod
    def resolve(self, comparisons: Mapping[_K, Comparison]) -> dict[_K, Comparison]: ...


class ScoresUnderRules(ABC):
    """A method that caps its own scores by the loaded policy's matching rules; the
    matcher uses :meth:`under_rules`'s copy."""

    @abstractmethod
    def under_rules(self: _M, rules: MatchRules) -> _M: ...


class ChecksAppearance(ABC):
    """The pixel-by-pixel check of a query against a reference under a pixel map."""

    @abstractmethod
    def check(self, image: LoadedImage, ref: Fingerprint, to_ref: np.ndarray) -> Appearance | None: ...


class SharesDecoding(ABC):
    """A video method that hands every frame it samples, converted once more from the
    same decoded frame, to another consumer (:class:`~kyodaku.video.decode.FrameView`):
    one decoding pass of a video query for the method and the query's keyframes."""

    @abstractmethod
    def query_video_sharing(self, path: str | PathLike[str], view: FrameView, fps: float,
                            max_seconds: float) -> Fingerprint | None:
        """:meth:`VideoMethod.query_video`, feeding ``view`` the frames sampled at ``fps``
        up to ``max_seconds``; None (nothing decoded) when this method samples otherwise."""


class VideoMethod(FingerprintMethod):
    """A method of video files (``media = "video"``): fingerprints decoded from a path."""

    media: ClassVar[str] = "video"

    @abstractmethod
    def reference_video(self, path: str | PathLike[str]) -> Fingerprint: ...

    @abstractmethod
    def query_video(self, path: str | PathLike[str]) -> Fingerprint: ...

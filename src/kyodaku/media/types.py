"""Decoded media as the fingerprint methods see it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class MediaError(Exception):
    """A file that cannot be read safely: unreadable, truncated, hostile or unsupported.

    The scanner turns it into a result line with verdict ``error``; it never clears the file.
    """


@dataclass
class LoadedImage:
    """An RGB image (H, W, 3, uint8) with its alpha channel (H, W, uint8) when it has one.

    Fingerprint methods are stateless and read only this.  ``rgb`` of an image with
    transparency is already flattened on white, the way a transparent sprite looks
    when it is pasted on a page; ``alpha`` keeps the mask for methods that want it.
    """

    rgb: np.ndarray
    alpha: np.ndarray | None = None
    source: str = ""
    _gray: np.ndarray | None = field(default=None, repr=False)

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def gray(self) -> np.ndarray:
        if self._gray is None:
            import cv2

            self._gray = cv2.cvtColor(self.rgb, cv2.COLOR_RGB2GRAY)
        return self._gray

    @classmethod
    def from_array(cls, rgb: np.ndarray, alpha: np.ndarray | None = None, source: str = "") -> "LoadedImage":
        rgb = np.ascontiguousarray(rgb, dtype=np.uint8)
        if rgb.ndim == 2:
            rgb = np.repeat(rgb[:, :, None], 3, axis=2)
        return cls(rgb=rgb, alpha=alpha, source=source)

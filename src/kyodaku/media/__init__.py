"""Reading media safely: images, videos, and walking folders."""

from kyodaku.media.types import LoadedImage, MediaError

__all__ = ["LoadedImage", "MediaError"]

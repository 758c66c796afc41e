"""Video copy detection: sparse decoding, per-frame local features, temporal alignment."""

from .align import explain_away
from .decode import FrameSampler, sample_frames
from .method import VideoFrames

__all__ = ["FrameSampler", "VideoFrames", "explain_away", "sample_frames"]

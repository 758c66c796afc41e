"""Sparse, bounded video decoding: a few small RGB frames per second, nothing more.

``sample_frames(path)`` yields ``(t_seconds, rgb)`` pairs, about ``fps`` per second of
video, each downscaled (by swscale, in C) so that its longer side is at most ``max_side``.
It decodes only what it must:

* the codec runs with threads (``thread_type="AUTO"``; ``threads=1`` for per-core figures);
* non-reference frames are skipped by the decoder (``skip_frame="NONREF"``): nothing
  depends on them, so the remaining frames decode exactly, and at 2 samples per second
  the sparser frame grid (every 2nd-4th frame with x264's default B-frames) costs at most
  a few hundredths of a second of timing accuracy;
* the H.264/HEVC deblocking filter is skipped (``skip_loop_filter="all"``): reference
  frames then drift slightly from the encoder's within a GOP, which is invisible after
  downscaling to 256 px, and saves 15-30 % of decoding time;
* only the sampled frames are converted to RGB (``to_ndarray(width=, height=)``).

Timestamps are ``pts * time_base`` relative to the stream's start, so ``t`` of the first
frame is 0 for an ordinary file, whatever its container's start offset.

Everything a hostile or broken file can do ends in :class:`~kyodaku.media.types.MediaError`
with a short reason: an empty, missing or non-regular file, no demuxable container, no video
stream, absurd dimensions, no decodable frame.  Bounds: ``max_seconds`` of video time,
``max_frames`` decoded frames and ``max_packets`` demuxed packets (a stream whose timestamps
never advance cannot run forever); hitting one stops the decoding, keeps what was sampled and
sets ``info["partial"] = True`` with ``info["stopped"]`` saying why.  A decoding error after
some frames were sampled does the same (``info["error"]``); before any frame, it raises.
"""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from kyodaku.media.types import MediaError

#: frames larger than this (pixels) are refused: 16k x 16k would need 768 MB as RGB
MAX_PIXELS = 8192 * 8192
MAX_SIDE_PX = 16384
#: container formats that open other files or URLs (playlists, concat lists, network
#: descriptions): a file being scanned must be one self-contained medium
_REFUSED_FORMATS = {"hls", "applehttp", "concat", "ffconcat", "dash", "sdp", "rtsp", "rtp", "tee",
                    "image2", "image2pipe", "lavfi", "mpjpeg", "subviewer", "ffmetadata"}


#: a GOP longer than this is decoded whole, without waiting for its end
_GOP_BUFFER_BYTES = 64 << 20
_GOP_BUFFER_PACKETS = 2000


@dataclass(frozen=True)
class FrameView:
    """A second array of every sampled frame, converted from the same decoded frame (one
    decoding pass for two consumers: the video method's gray frames and the keyframes'
    RGB pictures): longer side at most ``max_side``, in ``pix_format``, handed to ``sink``
    with its time before the sampler yields the frame's first array."""

    max_side: int
    pix_format: str
    sink: Callable[[float, np.ndarray], None]


def _short(exc: BaseException, limit: int = 120) -> str:
    text = str(exc).strip() or type(exc).__name__
    # PyAV messages often end with the file name: keep the reason, drop the path
    text = text.split("; last error log:")[0]
    return text[:limit]


class FrameSampler(Iterator[tuple[float, np.ndarray]]):
    """Iterator of ``(t_seconds, frame)``; ``info`` fills in as it runs (size, fps,
    duration, frames decoded, and ``partial``/``stopped``/``error`` when it stopped early).

    Open errors (missing, empty, no video stream, absurd size) are raised by the
    constructor, so ``sample_frames(path)`` fails at once on a file that is not a video.
    """

    #: set before anything can raise: ``__del__`` closes it even after a failed constructor
    _container: Any = None

    def __init__(self, path: str | os.PathLike, fps: float = 2.0, max_side: int = 256,
                 max_seconds: float = 4 * 3600, *, threads: int = 0, skip_nonref: bool = True,
                 skip_loop_filter: bool = True, pix_format: str = "rgb24",
                 max_frames: int | None = None, max_packets: int | None = None,
                 skip_gop_tails: bool = True, also: FrameView | None = None) -> None:
        if fps <= 0 or max_side < 8 or max_seconds <= 0:
            raise ValueError("fps, max_side and max_seconds must be positive")
        self.path = os.fspath(path)
        self.fps = float(fps)
        self.max_side = int(max_side)
        self.max_seconds = float(max_seconds)
        self.pix_format = pix_format
        self.skip_gop_tails = bool(skip_gop_tails)
        self.also = also
        if also is not None and also.max_side < 8:
            raise ValueError("a frame view's max_side must be at least 8")
        # a frame rate above 300/s is not a video anyone watches; allow 2x slack
        self.max_frames = int(max_frames if max_frames is not None else max_seconds * 300 + 1000)
        self.max_packets = int(max_packets if max_packets is not None else 2 * self.max_frames + 10000)
        self.info: dict[str, Any] = {"partial": False}
        self._container = None
        self._gen: Iterator[tuple[float, np.ndarray]] | None = None
        self._open(threads, skip_nonref, skip_loop_filter)

    # ------------------------------------------------------------------ open
    def _open(self, threads: int, skip_nonref: bool, skip_loop_filter: bool) -> None:
        try:
            st = os.stat(self.path)
        except OSError as exc:
            raise MediaError(f"cannot read file: {exc.strerror or exc}") from None
        if not stat.S_ISREG(st.st_mode):
            raise MediaError("not a regular file")
        if st.st_size == 0:
            raise MediaError("empty file")
        import av

        try:
            container = av.open(self.path, mode="r", metadata_errors="replace",
                                options={"protocol_whitelist": "file"})
        except Exception as exc:  # noqa: BLE001 - FFmpegError, OSError, UnicodeError...: all "not readable"
            raise MediaError(f"not a readable video container: {_short(exc)}") from None
        self._container = container
        try:
            fmt = (container.format.name or "") if container.format else ""
            if set(fmt.split(",")) & _REFUSED_FORMATS:
                raise MediaError(f"refused container format {fmt!r} (refers to other files)")
            if not container.streams.video:
                raise MediaError("no video stream")
            stream = container.streams.video[0]
            cc = stream.codec_context
            w, h = int(cc.width or 0), int(cc.height or 0)
            if w <= 0 or h <= 0:
                raise MediaError("video stream has no frame size")
            self._check_size(w, h)
            if threads == 1:
                stream.thread_type = "SLICE"
                cc.thread_count = 1
            else:
                stream.thread_type = "AUTO"
                cc.thread_count = max(0, int(threads))
            if skip_loop_filter:
                try:
                    cc.options = {**dict(cc.options or {}), "skip_loop_filter": "all"}
                except Exception:  # noqa: BLE001, S110 - a codec without the option decodes fully
                    pass
            if skip_nonref:
                cc.skip_frame = "NONREF"
            rate = stream.average_rate or stream.guessed_rate
            tb = stream.time_base
            self._stream = stream
            sar = stream.sample_aspect_ratio or cc.sample_aspect_ratio
            self._sar = float(sar) if sar else 1.0
            self._tb = float(tb) if tb else None
            self._origin = stream.start_time
            self._rate = float(rate) if rate else None
            duration = None
            if stream.duration is not None and tb:
                duration = float(stream.duration * tb)
            elif container.duration:
                duration = container.duration / 1_000_000
            self.info.update({"width": w, "height": h, "codec": cc.name, "container": fmt,
                              "frame_rate": round(self._rate, 3) if self._rate else None,
                              "duration": round(duration, 3) if duration is not None else None,
                              "sample_fps": self.fps})
        except MediaError:
            self.close()
            raise
        except Exception as exc:  # noqa: BLE001 - whatever a broken stream raises is "unsupported"
            self.close()
            raise MediaError(f"unsupported video stream: {_short(exc)}") from None

    @staticmethod
    def _check_size(w: int, h: int) -> None:
        if w > MAX_SIDE_PX or h > MAX_SIDE_PX or w * h > MAX_PIXELS:
            raise MediaError(f"frame size {w}x{h} is too large")

    def _out_size(self, w: int, h: int, sar: float, max_side: int | None = None) -> tuple[int, int]:
        dw = w * sar if 0.1 < sar < 10 else float(w)
        s = min(1.0, (max_side or self.max_side) / max(dw, h))
        return max(2, round(dw * s)), max(2, round(h * s))

    # ------------------------------------------------------------------ iterate
    def __iter__(self) -> FrameSampler:
        return self

    def __next__(self) -> tuple[float, np.ndarray]:
        if self._gen is None:
            self._gen = self._run()
        return next(self._gen)

    def _stop(self, why: str, error: str | None = None) -> None:
        self.info["partial"] = True
        self.info["stopped"] = why
        if error:
            self.info["error"] = error

    def _gops(self) -> Iterator[tuple[list[Any], Any]]:
        """Demuxed packets one GOP at a time, with the pts of the keyframe that ends it
        (None at the end, or when the GOP grows past ``_GOP_BUFFER`` without a keyframe:
        then nothing in it is skipped)."""
        buf: list[Any] = []
        size = 0
        packets = 0
        for packet in self._container.demux(self._stream):
            if packet.size == 0:
                continue  # the flush packet at the end; the decoder is flushed in _decoded
            packets += 1
            if packets > self.max_packets:
                self._stop("too many packets")
                break
            if packet.is_keyframe and buf:
                yield buf, packet.pts
                buf, size = [], 0
            buf.append(packet)
            size += packet.size
            if size > _GOP_BUFFER_BYTES or len(buf) > _GOP_BUFFER_PACKETS:
                yield buf, None
                buf, size = [], 0
        if buf:
            yield buf, None

    def _decoded(self) -> Iterator[Any]:
        """Decoded frames, in display order; enforces the frame bound.

        GOP tails are not decoded: once the frames for every sample slot that starts
        before the next keyframe are out, the rest of the GOP's packets are dropped (the
        keyframe restarts decoding from scratch).  With a 2 s GOP and 2 samples a second
        that skips about a third of the frames; with intra-only video, all but the sampled
        ones."""
        cc = self._stream.codec_context
        step = 1.0 / self.fps
        for gop, next_key in self._gops():
            t_end = None
            if self.skip_gop_tails and next_key is not None and self._tb:
                origin = self._origin if self._origin is not None else gop[0].pts
                if origin is not None:
                    t_end = (next_key - origin) * self._tb
            for packet in gop:
                if t_end is not None and (self._last_slot + 1 - 0.25) * step >= t_end - 1e-6:
                    self.info["gop_tails_skipped"] = self.info.get("gop_tails_skipped", 0) + 1
                    break
                for frame in cc.decode(packet):
                    self._n_decoded += 1
                    if self._n_decoded > self.max_frames:
                        self._stop("too many frames")
                        return
                    yield frame
            if self.info.get("stopped"):
                return
        for frame in cc.decode(None):  # flush the decoder
            self._n_decoded += 1
            yield frame

    def _run(self) -> Iterator[tuple[float, np.ndarray]]:
        import av

        step = 1.0 / self.fps
        last_slot = -1
        last_t = -math.inf
        taken = 0
        self._n_decoded = 0
        self._last_slot = -1
        first_pts = self._origin
        size_key = None
        out_w = out_h = also_w = also_h = 0
        also = self.also
        try:
            try:
                for frame in self._decoded():
                    # time relative to the stream start
                    if frame.pts is not None and self._tb:
                        if first_pts is None:
                            first_pts = self._origin = frame.pts
                        t = float((frame.pts - first_pts) * self._tb)
                    else:
                        t = (self._n_decoded - 1) / (self._rate or 25.0)
                    if t > self.max_seconds:
                        self._stop("max_seconds")
                        return
                    if t < -0.5 * step:
                        continue  # pre-roll before the start (negative pts)
                    t = max(0.0, t)
                    slot = math.floor(t * self.fps + 0.25)
                    if slot <= last_slot or t <= last_t:
                        continue
                    key = (frame.width, frame.height)
                    if key != size_key:
                        self._check_size(*key)
                        out_w, out_h = self._out_size(key[0], key[1], self._sar)
                        if also is not None:
                            also_w, also_h = self._out_size(key[0], key[1], self._sar, also.max_side)
                        size_key = key
                    arr = frame.to_ndarray(width=out_w, height=out_h, format=self.pix_format)
                    if also is not None:
                        also.sink(t, frame.to_ndarray(width=also_w, height=also_h, format=also.pix_format))
                    last_slot, last_t = slot, t
                    self._last_slot = slot
                    taken += 1
                    yield t, arr
            except MediaError as exc:
                if taken == 0:
                    raise
                self._stop("frame size changed", str(exc))
                return
            except (av.error.FFmpegError, ValueError, OSError, MemoryError, RuntimeError) as exc:
                if taken == 0:
                    raise MediaError(f"cannot decode video: {_short(exc)}") from None
                self._stop("decode error", _short(exc))
                return
            if taken == 0:
                raise MediaError("no decodable video frame")
        finally:
            self.info["frames_decoded"] = self._n_decoded
            self.info["frames_sampled"] = taken
            self.info["last_t"] = round(last_t, 3) if taken else None
            self.close()

    def close(self) -> None:
        if self._container is not None:
            try:
                self._container.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken container must not raise
                pass
            self._container = None

    def __del__(self) -> None:  # pragma: no cover - best effort
        self.close()


def container_seconds(path: str | os.PathLike) -> float | None:
    """A video's length in seconds as its container (or else its video stream) declares
    it, read from the headers without decoding; None when it declares none or the file
    cannot be opened as a container (the decoder says why, when it is decoded)."""
    import av

    try:
        with av.open(str(path), mode="r", metadata_errors="replace") as container:
            if container.duration:
                return container.duration / 1_000_000
            stream = container.streams.video[0] if container.streams.video else None
            if stream is not None and stream.duration is not None and stream.time_base:
                return float(stream.duration * stream.time_base)
    except Exception:  # noqa: BLE001 - a header that cannot be read declares no length
        return None
    return None


def probe(path: str | os.PathLike, **bounds: Any) -> None:
    """Decode until the first frame, to prove a video decodable; raises MediaError when
    it is not (``bounds``: ``max_seconds``, ``max_frames``... as for :func:`sample_frames`)."""
    sampler = sample_frames(path, fps=1.0, max_side=64, **bounds)
    try:
        for _frame in sampler:
            return
    finally:
        sampler.close()
    raise MediaError("no decodable video frame")


def sample_frames(path: str | os.PathLike, fps: float = 2.0, max_side: int = 256,
                  max_seconds: float = 4 * 3600, **kwargs: Any) -> FrameSampler:
    """``(t_seconds, RGB uint8 array)`` at about ``fps`` per second; see :class:`FrameSampler`
    for the keyword options (``threads``, ``skip_nonref``, ``skip_loop_filter``,
    ``pix_format`` e.g. ``"gray"``, ``max_frames``, ``max_packets``, ``also``: a
    :class:`FrameView`)."""
    return FrameSampler(path, fps, max_side, max_seconds, **kwargs)

"""Additive dither: noise added before the quantizer, sized in its LSBs.

Responsible for the dither noise (``none``, ``rpdf``, ``tpdf``) and its seeding;
not for quantizing or for noise shaping (``adcsim.stages._shaping``).
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.quantizers._base import check_bits
from adcsim.stages._chain import StreamInfo

DitherKind = Literal["none", "rpdf", "tpdf"]
DITHER_KINDS: tuple[str, ...] = ("none", "rpdf", "tpdf")


def check_dither(kind: object) -> str:
    """Return ``kind`` if it is a known dither kind, else raise `AdcsimError`."""
    if kind not in DITHER_KINDS:
        raise AdcsimError(f"dither={kind!r} is not one of: {', '.join(DITHER_KINDS)}")
    return str(kind)


def check_seed(seed: object) -> int:
    """Return ``seed`` if it is an integer >= 0, else raise `AdcsimError`."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise AdcsimError(f"seed={seed!r} must be an integer >= 0")
    return int(seed)


def channel_generators(seed: int, channels: int) -> list[np.random.Generator]:
    """One independent generator per channel, spawned from one user seed.

    Examples
    --------
    >>> a, b = channel_generators(1, 2)
    >>> bool(a.random() != b.random())
    True
    """
    children = np.random.SeedSequence(seed).spawn(channels)
    return [np.random.Generator(np.random.PCG64(child)) for child in children]


def make_noise(
    kind: str, rng: np.random.Generator, frames: int, step: float
) -> NDArray[np.float64]:
    """``frames`` samples of dither noise for one channel.

    Notes
    -----
    RPDF is uniform on [-D/2, D/2) (one LSB peak to peak); TPDF is the sum of two
    independent RPDF values, triangular on (-D, D), whose first two error moments
    are then independent of the signal (Lipshitz, Wannamaker and Vanderkooy,
    "Quantization and dither: a theoretical survey", JAES 1992).
    """
    if kind == "rpdf":
        return (rng.random(frames) - 0.5) * step
    if kind == "tpdf":
        pair = rng.random((frames, 2))
        return (pair[:, 0] - pair[:, 1]) * step
    return np.zeros(frames)


class DitherStage:
    """Chain stage adding RPDF or TPDF dither sized for an N-bit quantizer.

    Parameters
    ----------
    kind : {"none", "rpdf", "tpdf"}
        ``rpdf``: +-1/2 LSB uniform; ``tpdf``: +-1 LSB triangular.
    bits : int in [1, 24]
        Depth of the quantizer that follows; the LSB is D = 2 / 2**bits.
    seed : int >= 0
        One seed; each channel gets its own generator spawned from it.

    Notes
    -----
    The stage turns itself off (``active = False``) when there is nothing to
    do: kind ``none``, or a PCM source whose depth is already at most ``bits``
    (its samples sit on the target grid, so dither would only add noise).

    Examples
    --------
    >>> stage = DitherStage(kind="tpdf", bits=8, seed=0)
    >>> _ = stage.start(StreamInfo(rate=8000, channels=1))
    >>> y = stage.process(np.zeros((4, 1)))
    >>> bool(np.all(np.abs(y) < 2 / 256))
    True
    """

    def __init__(self, *, kind: str = "none", bits: int = 8, seed: int = 0) -> None:
        self.kind = check_dither(kind)
        self.bits = check_bits(bits)
        self.seed = check_seed(seed)
        self.step = 2.0 / (1 << self.bits)
        self.active = self.kind != "none"
        self.counters: dict[str, int] = {}
        self._generators: list[np.random.Generator] = []
        self._channels = 0

    def start(self, info: StreamInfo) -> StreamInfo:
        """Spawn the per-channel generators; bypass when dither is pointless."""
        source_on_grid = info.bits is not None and info.bits <= self.bits
        self.active = self.kind != "none" and not source_on_grid
        self._channels = info.channels
        self.reset()
        return info

    def process(self, block: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Return ``block`` plus fresh noise (a new array)."""
        noise = np.empty(block.shape)
        for channel, rng in enumerate(self._generators):
            noise[:, channel] = make_noise(self.kind, rng, block.shape[0], self.step)
        return block + noise

    def flush(self) -> NDArray[np.float64]:
        """Nothing is buffered: an empty block."""
        return np.zeros((0, self._channels))

    def reset(self) -> None:
        """Restart every channel's noise sequence from the seed."""
        # (numpy.random takes a few milliseconds to import: only when needed)
        self._generators = (
            channel_generators(self.seed, self._channels) if self.active else []
        )


def dither(
    x: ArrayLike, *, bits: int = 8, kind: str = "tpdf", seed: int = 0
) -> NDArray[np.float64]:
    """Add dither for an N-bit quantizer to ``x`` (frames, or frames x channels).

    The function form of `DitherStage` (same noise for the same seed).

    Examples
    --------
    >>> y = dither(np.zeros(8), bits=4, kind="rpdf", seed=3)
    >>> y.shape, bool(np.all(np.abs(y) <= 1 / 16))
    ((8,), True)
    """
    x = np.asarray(x, dtype=np.float64)
    block = x.reshape(x.shape[0], -1) if x.ndim else x.reshape(1, 1)
    stage = DitherStage(kind=kind, bits=bits, seed=seed)
    stage.start(StreamInfo(rate=1, channels=block.shape[1]))
    if not stage.active:
        return x.copy()
    return stage.process(block).reshape(x.shape)

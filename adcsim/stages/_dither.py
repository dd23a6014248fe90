"""Additive dither: noise added before the quantizer, sized in its LSBs.

Responsible for the dither noise (``none``, ``rpdf``, ``tpdf``) and its seeding;
not for quantizing or for noise shaping (``adcsim.stages._shaping``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim._background import InOrder, Pending
from adcsim.errors import AdcsimError
from adcsim.quantizers._base import check_bits
from adcsim.stages._chain import StreamInfo, as_float

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
        # the draws of ``rng.random((frames, 2))``, in one flat buffer
        pair = rng.random(2 * frames)
        noise = np.subtract(pair[0::2], pair[1::2])
        noise *= step
        return noise
    if kind == "gaussian":  # (the converter's input noise: step is the RMS)
        gauss = rng.standard_normal(frames)
        gauss *= step
        return gauss
    return np.zeros(frames)


#: Frames from which the channels' noise is drawn on threads at once (numpy's
#: generators release the GIL); below, starting the draws costs more.
PARALLEL_FRAMES = 8192


class NoiseSource:
    """The dither noise of every channel, drawn from one generator each.

    Drawing is most of a dithered run's work (two PCG64 doubles a sample,
    about 2.6 ns each here). So after each block of at least
    `PARALLEL_FRAMES` frames, the next block's noise (as many frames again)
    is drawn ahead on worker threads, one per channel (numpy's generators
    release the GIL), while the chain quantizes and writes this block. The
    values do not depend on it: each channel's draws come from its own
    generator in order, and a shorter next block takes the start of what was
    drawn ahead and leaves the rest for the one after.

    Examples
    --------
    >>> source = NoiseSource("tpdf", step=0.5)
    >>> source.restart(channel_generators(0, 2))
    >>> [n.shape for n in source.draw(3)]
    [(3,), (3,)]
    """

    def __init__(self, kind: str, *, step: float) -> None:
        self.kind, self.step = kind, step
        self._generators: list[np.random.Generator] = []
        self._workers: list[InOrder] = []  # one thread per channel, once needed
        self._ahead: list[Pending[NDArray[np.float64]]] = []  # one per channel
        self._left: list[NDArray[np.float64]] = []

    def restart(self, generators: list[np.random.Generator]) -> None:
        """Draw from ``generators`` (one per channel) from now on."""
        self.close()
        self._generators = generators
        self._left = [np.zeros(0) for _ in generators]

    def draw(self, frames: int) -> list[NDArray[np.float64]]:
        """``frames`` samples of noise for each channel, in channel order."""
        if self.kind == "none":
            return [np.zeros(frames) for _ in self._generators]
        have = self._left
        if self._ahead:
            ahead, self._ahead = self._ahead, []
            have = [_joined(h, f.result()) for h, f in zip(have, ahead)]
        out: list[NDArray[np.float64]] = []
        self._left = []
        for rng, h in zip(self._generators, have):
            if h.shape[0] < frames:
                missing = frames - h.shape[0]
                h = _joined(h, make_noise(self.kind, rng, missing, self.step))
            out.append(h[:frames])
            self._left.append(h[frames:])
        if frames >= PARALLEL_FRAMES:
            self._draw_ahead(frames)
        return out

    def _draw_ahead(self, frames: int) -> None:
        if not self._workers:
            # The package's one thread helper (adcsim._background), one
            # worker a channel: each generator's draws stay in order.
            self._workers = [
                InOrder(depth=1, name="adcsim-dither") for _ in self._generators
            ]
        self._ahead = [
            worker.submit(make_noise, self.kind, rng, frames, self.step)
            for worker, rng in zip(self._workers, self._generators)
        ]

    def close(self) -> None:
        """Wait for the draws ahead (their values are dropped); end the threads."""
        for pending in self._ahead:
            pending.wait()  # an error there no longer matters
        self._ahead = []
        for worker in self._workers:
            worker.close()
        self._workers = []


def _joined(
    head: NDArray[np.float64], tail: NDArray[np.float64]
) -> NDArray[np.float64]:
    """``head`` then ``tail``, without a copy when ``head`` is empty."""
    return np.concatenate([head, tail]) if head.shape[0] else tail


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

    #: Native integer blocks are welcome (see `process`).
    takes_integers = True

    def __init__(self, *, kind: str = "none", bits: int = 8, seed: int = 0) -> None:
        self.kind = check_dither(kind)
        self.bits = check_bits(bits)
        self.seed = check_seed(seed)
        self.step = 2.0 / (1 << self.bits)
        self.active = self.kind != "none"
        self.counters: dict[str, int] = {}
        self._noise = NoiseSource(self.kind, step=self.step)
        self._channels = 0

    def start(self, info: StreamInfo) -> StreamInfo:
        """Spawn the per-channel generators; bypass when dither is pointless.

        The output is float64 samples, whatever the input's dtype.
        """
        if info.codes:
            raise AdcsimError("DitherStage cannot follow codes")
        source_on_grid = info.bits is not None and info.bits <= self.bits
        self.active = self.kind != "none" and not source_on_grid
        self._channels = info.channels
        self.reset()
        return replace(info, dtype="float64")

    def process(self, block: NDArray[Any]) -> NDArray[np.float64]:
        """Return ``block`` plus fresh noise (a new float64 array).

        Takes native integer PCM as it comes (``takes_integers``): its float
        samples are made once, into the array returned, and each channel's
        noise is added in place (the chain's conversion, a noise array and
        their sum were three passes more over every block).
        """
        if block.dtype.kind == "f":
            out = np.array(block, dtype=np.float64)
        else:
            out = as_float(block)
        for channel, noise in enumerate(self._noise.draw(block.shape[0])):
            out[:, channel] += noise
        return out

    def flush(self) -> NDArray[np.float64]:
        """Nothing is buffered: an empty block (the noise drawn ahead is dropped)."""
        self._noise.close()
        return np.zeros((0, self._channels))

    def reset(self) -> None:
        """Restart every channel's noise sequence from the seed."""
        # (numpy.random takes a few milliseconds to import: only when needed)
        self._noise.restart(
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
    out = stage.process(block)
    stage.flush()
    return out.reshape(x.shape)

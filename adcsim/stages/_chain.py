"""The stream description, the chain that pushes blocks through stages, taps.

A stage is one step of the converter (resampler, dither, quantizer). Blocks are
``(frames, channels)`` arrays of the dtype `StreamInfo.dtype` names: native
integer PCM from the reader (int16 for ``x / 2**15``, int32 for ``x / 2**31``),
float samples, or a quantizer's integer codes. A stage that declares
``takes_integers`` gets blocks as they come; any other gets float64, converted
by the chain (`as_float`), so a fast integer path lives inside the stage that
has one and nowhere else. `Tap` is a pass-through stage that hands each block
to a meter at its position in the chain. This module knows nothing of files,
metrics or plots.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError

Block = NDArray[Any]


@dataclass(frozen=True)
class StreamInfo:
    """What flows between two stages.

    Attributes
    ----------
    rate : int
        Sample rate, Hz.
    channels : int
        Channel count.
    bits : int or None
        Precision of the samples, None for float.
    frames : int or None
        Length in frames when known.
    dtype : str
        The numpy dtype of the blocks: ``int16`` (samples ``x / 2**15``),
        ``int32`` (``x / 2**31``, or codes), ``float32`` or ``float64``.
    codes : bool
        The blocks hold the integer codes of a quantizer of ``bits`` bits,
        not samples (what `adcsim.quantizers._stage.QuantizeStage` hands on).
    """

    rate: int
    channels: int
    bits: int | None = None
    frames: int | None = None
    dtype: str = "float64"
    codes: bool = False

    @property
    def is_float(self) -> bool:
        """Whether the blocks are float samples."""
        return self.dtype.startswith("float")


class Stage(Protocol):
    """The stage contract (see ``STYLE.md``: start, process, flush, reset)."""

    active: bool
    counters: dict[str, int]

    def start(self, info: StreamInfo) -> StreamInfo:
        """Check the stream, allocate state, return the output info."""

    def process(self, block: Block) -> Block:
        """Transform one ``(frames, channels)`` block; may return 0..n frames."""

    def flush(self) -> Block:
        """Emit what is buffered after the last input."""

    def reset(self) -> None:
        """Return to the state just after `start`."""


def as_float(block: NDArray[Any]) -> NDArray[np.float64]:
    """Samples of a native block as float64 full scale (no copy for float64).

    int16 is ``x / 2**15`` and int32 ``x / 2**31``, exactly as libsndfile
    converts integer PCM when asked for floats, so that a stage sees the same
    values whichever dtype the reader yielded.

    Examples
    --------
    >>> as_float(np.array([[-32768], [16384]], dtype=np.int16)).ravel().tolist()
    [-1.0, 0.5]
    >>> as_float(np.array([[1 << 30]], dtype=np.int32)).ravel().tolist()
    [0.5]
    """
    if block.dtype == np.float64:
        return block
    if block.dtype.kind == "f":
        return block.astype(np.float64)
    scale = 1.0 / float(1 << (8 * block.dtype.itemsize - 1))
    return np.multiply(block, scale, dtype=np.float64)


class Tap:
    """A pass-through stage that keeps the blocks going by, for a meter.

    Meters sit at named chain positions (the reference after resampling):
    the chain hands each block on unchanged and `pop` returns them in order.
    A chain after the tap that keeps block lengths (dither, quantizer) leaves
    each block aligned with the one popped; one that delays (the sigma-delta's
    filters) takes ``pop(frames)``: the next ``frames`` frames that went by,
    across block boundaries.

    Examples
    --------
    >>> tap = Tap("reference")
    >>> block = np.zeros((2, 1), dtype=np.int16)
    >>> tap.process(block) is block, tap.pop() is block
    (True, True)
    >>> for first, stop in ((0, 3), (3, 5)):
    ...     _ = tap.process(np.arange(first, stop, dtype=float)[:, None])
    >>> tap.pop(2).ravel().tolist(), tap.pop(3).ravel().tolist()
    ([0.0, 1.0], [2.0, 3.0, 4.0])
    """

    active = True
    takes_integers = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.counters: dict[str, int] = {}
        self._blocks: deque[NDArray[Any]] = deque()

    def start(self, info: StreamInfo) -> StreamInfo:
        """Nothing to check: the stream passes unchanged."""
        self.reset()
        return info

    def process(self, block: NDArray[Any]) -> NDArray[Any]:
        """Keep ``block`` for `pop` and hand it on (not copied: never modified)."""
        self._blocks.append(block)
        return block

    def pop(self, frames: int | None = None) -> NDArray[Any]:
        """The oldest block that went by, or its next ``frames`` frames."""
        if frames is None:
            return self._blocks.popleft()
        pieces = []
        while frames > 0:
            block = self._blocks[0]
            if block.shape[0] <= frames:
                pieces.append(self._blocks.popleft())
                frames -= block.shape[0]
            else:
                pieces.append(block[:frames])
                self._blocks[0] = block[frames:]
                frames = 0
        if len(pieces) == 1:
            return pieces[0]
        if not pieces:
            first = self._blocks[0] if self._blocks else np.zeros((0, 0))
            return first[:0]
        return np.concatenate(pieces)

    def flush(self) -> NDArray[Any]:
        """Nothing is buffered (an empty block)."""
        return np.zeros((0, 0))

    def reset(self) -> None:
        """Forget the blocks not popped."""
        self._blocks.clear()


def as_block(x: ArrayLike, *, name: str = "x", owner: str = "") -> NDArray[np.float64]:
    """``x`` as a float64 ``(frames, channels)`` block; 1-D is one channel.

    Raises
    ------
    AdcsimError
        ``x`` has more than two dimensions (``owner`` prefixes the message).

    Examples
    --------
    >>> as_block([0.5, -0.5]).shape
    (2, 1)
    """
    block: NDArray[np.float64] = np.asarray(x, dtype=np.float64)
    if block.ndim == 1:
        block = block[:, None]
    if block.ndim != 2:
        prefix = f"{owner}: " if owner else ""
        raise AdcsimError(
            f"{prefix}{name} has shape {block.shape}, must be (frames, channels)"
        )
    return block


class Chain:
    """Stages run in order over a stream of blocks.

    Inactive stages (``active`` False after `start`) are bypassed.

    Examples
    --------
    >>> from adcsim.quantizers._stage import QuantizeStage
    >>> from adcsim.quantizers._uniform import UniformQuantizer
    >>> chain = Chain([QuantizeStage(UniformQuantizer(bits=2))])
    >>> chain.start(StreamInfo(rate=8000, channels=1, dtype="int16")).dtype
    'int32'
    >>> pcm = np.array([[9830], [19661]], dtype=np.int16)  # 0.3, 0.6
    >>> [b.ravel().tolist() for b in chain.run([pcm])]  # the codes of 0.5
    [[1, 1]]
    """

    #: A chain is itself a stage (`process`, `flush`): a `Tee` runs two.
    active = True
    takes_integers = True

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)
        self.counters: dict[str, int] = {}
        self.info: StreamInfo | None = None
        #: The active stages, each with whether its input is made float first.
        self._plan: list[tuple[Stage, bool]] = []

    @property
    def active_stages(self) -> list[Stage]:
        """The stages that do something for this stream."""
        return [s for s in self.stages if s.active]

    def start(self, info: StreamInfo) -> StreamInfo:
        """Start every stage in order, passing each output info on.

        A stage without ``takes_integers`` is started on (and later given)
        float64 samples when the stream before it holds integers; a stage
        that turns out inactive leaves the stream as it was.
        """
        self._plan = []
        for stage in self.stages:
            convert = not info.is_float and not getattr(stage, "takes_integers", False)
            if convert and info.codes:
                raise AdcsimError(f"{type(stage).__name__} cannot follow codes")
            out = stage.start(replace(info, dtype="float64") if convert else info)
            if stage.active:
                self._plan.append((stage, convert))
                info = out
        self.info = info
        return info

    def _push(self, block: Block, plan: Sequence[tuple[Stage, bool]]) -> Block:
        for stage, convert in plan:
            if block.shape[0] == 0:
                break
            block = stage.process(as_float(block) if convert else block)
        return block

    def process(self, block: Block) -> Block:
        """One block through every active stage (0..n frames come out)."""
        return self._push(block, self._plan)

    def flush(self) -> Block:
        """Every stage's tail, each sent through the stages after it, joined."""
        tails = [
            self._push(stage.flush(), self._plan[i + 1 :])
            for i, (stage, _) in enumerate(self._plan)
        ]
        tails = [t for t in tails if t.shape[0]]
        if not tails:
            assert self.info is not None, "Chain.start() first"
            return np.zeros((0, self.info.channels))
        return tails[0] if len(tails) == 1 else np.concatenate(tails)

    def run(self, blocks: Iterable[Block]) -> Iterator[Block]:
        """Yield the processed non-empty blocks, then the flushed tails.

        `start` must have been called.
        """
        assert self.info is not None, "Chain.start() first"
        plan = self._plan
        for block in blocks:
            out = self._push(block, plan)
            if out.shape[0]:
                yield out
        for i, (stage, _) in enumerate(plan):
            tail = self._push(stage.flush(), plan[i + 1 :])
            if tail.shape[0]:
                yield tail

    def reset(self) -> None:
        """Reset every stage for another stream with the same info."""
        for stage in self.stages:
            stage.reset()


class _Fifo:
    """Frames waiting for their partner in a `Tee`."""

    def __init__(self) -> None:
        self.blocks: deque[NDArray[Any]] = deque()
        self.frames = 0

    def push(self, block: NDArray[Any]) -> None:
        if block.shape[0]:
            self.blocks.append(block)
            self.frames += block.shape[0]

    def pop(self, frames: int) -> NDArray[Any]:
        """The first ``frames`` frames (there must be as many)."""
        parts = []
        while frames:
            head = self.blocks[0]
            if head.shape[0] <= frames:
                parts.append(self.blocks.popleft())
            else:
                parts.append(head[:frames])
                self.blocks[0] = head[frames:]
            frames -= parts[-1].shape[0]
            self.frames -= parts[-1].shape[0]
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


class Tee:
    """Two branches fed from one stream: the reference to a tap, the signal on.

    A converter's impairments act on the analog input, while the error is
    measured against the ideal signal: ``reference`` (a `Chain`, e.g. the
    ideal resampler, or empty) makes the signal the report compares with and
    hands it to ``tap``; ``signal`` (a `Chain`: the sampler without
    anti-alias filter, the jittered sampler) makes what the converter goes
    on with, which the tee returns. Each branch may buffer (filters with
    look-ahead): the tee passes on only frames both branches have produced,
    so that every block it returns is aligned with the block it gave the tap,
    and the stages after it may keep block lengths as the tap requires. If
    the branches end with different lengths, the longer one's extra frames
    are dropped (counted in ``counters["unmatched_frames"]``).

    Examples
    --------
    >>> tap = Tap("reference")
    >>> tee = Tee(Chain([]), Chain([_Lookahead(2)]), tap)
    >>> _ = tee.start(StreamInfo(rate=8000, channels=1))
    >>> out = tee.process(np.arange(5.0)[:, None])
    >>> out.ravel().tolist(), tap.pop().ravel().tolist()
    ([0.0, 1.0, 2.0], [0.0, 1.0, 2.0])
    >>> tee.flush().ravel().tolist(), tap.pop().ravel().tolist()
    ([3.0, 4.0], [3.0, 4.0])
    """

    active = True
    takes_integers = True

    def __init__(self, reference: Chain, signal: Chain, tap: Tap) -> None:
        self.reference, self.signal, self.tap = reference, signal, tap
        self.counters: dict[str, int] = {}
        self._ref, self._sig = _Fifo(), _Fifo()
        self._channels = 0

    def start(self, info: StreamInfo) -> StreamInfo:
        """Start both branches; they must agree on rate and channels."""
        ref = self.reference.start(info)
        out = self.signal.start(info)
        if (ref.rate, ref.channels) != (out.rate, out.channels):
            raise AdcsimError(
                f"tee: reference at {ref.rate} Hz x {ref.channels}, signal at "
                f"{out.rate} Hz x {out.channels}: they must agree"
            )
        self._channels = out.channels
        self.tap.start(ref)
        self.reset()
        return out

    def _emit(self) -> NDArray[Any]:
        frames = min(self._ref.frames, self._sig.frames)
        if not frames:
            return np.zeros((0, self._channels))
        self.tap.process(self._ref.pop(frames))
        return self._sig.pop(frames)

    def process(self, block: NDArray[Any]) -> NDArray[Any]:
        """Feed both branches; return the signal frames the reference matches."""
        self._ref.push(self.reference.process(block))
        self._sig.push(self.signal.process(block))
        return self._emit()

    def flush(self) -> NDArray[Any]:
        """Both branches' tails, matched; unmatched frames are dropped."""
        self._ref.push(self.reference.flush())
        self._sig.push(self.signal.flush())
        out = self._emit()
        unmatched = self._ref.frames + self._sig.frames
        if unmatched:
            self.counters["unmatched_frames"] = unmatched
            self._ref, self._sig = _Fifo(), _Fifo()
        return out

    def reset(self) -> None:
        """Both branches and the waiting frames back to the start."""
        self.reference.reset()
        self.signal.reset()
        self.tap.reset()
        self._ref, self._sig = _Fifo(), _Fifo()
        self.counters = {}


class _Lookahead:
    """A stage holding back its last ``frames`` frames until more come (tests).

    What a filter with look-ahead does; the values pass unchanged.
    """

    active = True

    def __init__(self, frames: int) -> None:
        self.frames = frames
        self.counters: dict[str, int] = {}
        self._channels = 0
        self._held: NDArray[Any] = np.zeros((0, 0))

    def start(self, info: StreamInfo) -> StreamInfo:
        self._channels = info.channels
        self.reset()
        return info

    def process(self, block: NDArray[Any]) -> NDArray[Any]:
        data = np.concatenate([self._held, block])
        cut = max(0, data.shape[0] - self.frames)
        self._held = data[cut:]
        return data[:cut]

    def flush(self) -> NDArray[Any]:
        held, self._held = self._held, np.zeros((0, self._channels))
        return held

    def reset(self) -> None:
        self._held = np.zeros((0, self._channels))

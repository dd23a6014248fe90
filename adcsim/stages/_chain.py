"""The stream description and the chain that pushes blocks through stages.

A stage is one step of the converter (resampler, dither, quantizer). It sees
float ``(frames, channels)`` blocks and may hold state between them. This module
knows nothing of files, metrics or plots.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError

Block = NDArray[np.floating[Any]]


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
    """

    rate: int
    channels: int
    bits: int | None = None
    frames: int | None = None


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
    >>> chain.start(StreamInfo(rate=8000, channels=1))
    StreamInfo(rate=8000, channels=1, bits=2, frames=None)
    >>> [b.ravel().tolist() for b in chain.run([np.array([[0.3], [0.6]])])]
    [[0.5, 0.5]]
    """

    def __init__(self, stages: Sequence[Stage]) -> None:
        self.stages = list(stages)
        self.info: StreamInfo | None = None

    @property
    def active_stages(self) -> list[Stage]:
        """The stages that do something for this stream."""
        return [s for s in self.stages if s.active]

    def start(self, info: StreamInfo) -> StreamInfo:
        """Start every stage in order, passing each output info on."""
        for stage in self.stages:
            info = stage.start(info)
        self.info = info
        return info

    def _push(self, block: Block, stages: Sequence[Stage]) -> Block:
        for stage in stages:
            if block.shape[0] == 0:
                break
            block = stage.process(block)
        return block

    def process(self, block: Block) -> Block:
        """Push one block through the active stages (for length-preserving chains)."""
        return self._push(block, self.active_stages)

    def run(self, blocks: Iterable[Block]) -> Iterator[Block]:
        """Yield the processed non-empty blocks, then the flushed tails.

        `start` must have been called.
        """
        assert self.info is not None, "Chain.start() first"
        stages = self.active_stages
        for block in blocks:
            out = self._push(block, stages)
            if out.shape[0]:
                yield out
        for i, stage in enumerate(stages):
            tail = self._push(stage.flush(), stages[i + 1 :])
            if tail.shape[0]:
                yield tail

    def reset(self) -> None:
        """Reset every stage for another stream with the same info."""
        for stage in self.stages:
            stage.reset()

"""Whole files for the commands that hold them in memory, within a stated size.

Responsible for reading a file whole for ``sweep`` and ``listen`` (which
rescale or render all of it at once) only when its
header says it fits: at most `MAX_RECORD_SAMPLES` samples (frames x
channels), checked before a sample is read, with a message saying what to do
instead; and for refusing samples no measurement can use
(`adcsim.metrics._samples.check_samples`). Not responsible for decoding
(`adcsim.io._reader`) or for ``quantize``, ``analyze`` and ``compare``,
which stream.

Notes
-----
These commands peak at about 50 bytes a sample (float64 copies for
alignment, scaling, each rendered condition): ``compare`` took 9.5 GB on a
6-hour 8 kHz mono file and ``sweep`` and ``listen`` ended in MemoryError.
2**25 samples (6.3 minutes of 44.1 kHz stereo, 70 minutes of 8 kHz mono)
keeps them under about 2 GB.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.metrics._samples import check_samples

#: Most samples (frames x channels) a whole-file command reads.
MAX_RECORD_SAMPLES = 1 << 25


def read_record(
    path: str, *, command: str, advice: str
) -> tuple[NDArray[np.float64], Any]:
    """Read ``path`` whole as float64 ``(frames, channels)`` if it is small enough.

    Parameters
    ----------
    path : str
        The file.
    command : str
        Names the command in the message (``"sweep"``).
    advice : str
        What to do instead, for the message (``"cut an excerpt with --excerpt"``).

    Returns
    -------
    data : ndarray
    info : adcsim.io._reader.AudioInfo

    Raises
    ------
    AdcsimError
        Unreadable file, more than `MAX_RECORD_SAMPLES` samples (before
        reading any), non-finite or absurd samples.
    """
    from adcsim.io._reader import AudioReader

    with AudioReader(path) as reader:
        info = reader.info
        frames = info.frames
        if frames is not None and frames * info.channels > MAX_RECORD_SAMPLES:
            raise AdcsimError(
                f"{command}: {path!r} has {frames} frames x {info.channels} "
                f"channels, more than the {MAX_RECORD_SAMPLES} samples it holds in "
                f"memory: {advice}"
            )
        data = np.concatenate(list(reader.blocks()))
    check_samples(data, repr(path))
    return data, info

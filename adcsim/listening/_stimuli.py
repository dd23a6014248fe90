"""The stimulus files of a listening session: blinded names, padded, base64.

Responsible for what a listener can see of a stimulus without listening:
its random name, the bytes of ``stimuli/NAME.js`` (a base64 WAV the page
decodes) and the order and times at which those files are written. Not
responsible for what the stimuli hold (`adcsim.listening._session`) or the
page (`adcsim.listening._page`).

Notes
-----
X and the hidden reference carry the same samples as one of the files beside
them (that is what they are). So that their files do not give them away:

- every name is drawn at random from the blinding generator, which is seeded
  by a hash of the seed, the options and the references' samples, so that the
  page's structure and the seed alone do not rebuild the names;
- every WAV gets a RIFF ``JUNK`` chunk (the padding chunk every WAV reader
  skips) of a random even length in [16, 4110] bytes with random contents,
  unique per file: no two files are byte-identical and, as every stimulus of
  a trial has the same number of frames, a file's size says nothing of its
  role;
- the files are written in the order of their random names, so modification
  times and inode numbers follow the names, not the roles.

What stays: decoding the samples and comparing them shows which file equals
which (X equals A or B, the hidden reference equals the open one). That is
inherent to a test played from files on the listener's computer.
"""

from __future__ import annotations

import base64
import struct
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError

_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: JUNK payload lengths: 16 + 2 * k bytes, k in [0, 2048).
_PAD_MIN, _PAD_STEPS = 16, 2048
_PREFIX = "data:audio/wav;base64,"


class NameSource:
    """Unique random 8-character names from the session's blinding generator.

    Examples
    --------
    >>> names = NameSource(np.random.default_rng(0))
    >>> a, b = names.new(), names.new()
    >>> len(a), a != b
    (8, True)
    """

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def new(self) -> str:
        """Return a name not returned before."""
        while True:
            idx = self._rng.integers(0, len(_ALPHABET), 8)
            name = "".join(_ALPHABET[i] for i in idx)
            if name not in self._used:
                self._used.add(name)
                return name


def pad_wav(wav: bytes, payload: bytes) -> bytes:
    r"""Insert a RIFF ``JUNK`` chunk holding ``payload`` after the WAV header.

    Parameters
    ----------
    wav : bytes
        A RIFF/WAVE file.
    payload : bytes
        The chunk's contents; an even number of bytes (RIFF chunks are
        word-aligned).

    Raises
    ------
    AdcsimError
        ``wav`` is not a RIFF/WAVE file.

    Examples
    --------
    >>> wav = b"RIFF" + struct.pack("<I", 4) + b"WAVE"
    >>> padded = pad_wav(wav, b"ab")
    >>> padded[12:], struct.unpack("<I", padded[4:8])[0]
    (b'JUNK\x02\x00\x00\x00ab', 14)
    """
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise AdcsimError("stimulus is not a RIFF/WAVE file")
    assert len(payload) % 2 == 0
    size = struct.unpack("<I", wav[4:8])[0] + 8 + len(payload)
    chunk = b"JUNK" + struct.pack("<I", len(payload)) + payload
    return b"RIFF" + struct.pack("<I", size) + wav[8:12] + chunk + wav[12:]


class PadSource:
    """Random ``JUNK`` payloads, no two alike, from the blinding generator."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._used: set[bytes] = set()

    def new(self) -> bytes:
        """Return a payload of random even length and contents, never repeated."""
        while True:
            n = _PAD_MIN + 2 * int(self._rng.integers(0, _PAD_STEPS))
            payload = self._rng.bytes(n)
            if payload not in self._used:
                self._used.add(payload)
                return payload


def write_stimuli(
    stage: Path,
    jobs: dict[str, tuple[NDArray[np.float64], int]],
    *,
    subtype: str,
    rng: np.random.Generator,
    wav_names: set[str],
) -> dict[str, NDArray[np.float64]]:
    """Write ``stimuli/NAME.js`` for every job, in name order; return the samples.

    Parameters
    ----------
    stage : Path
        The session's staging directory.
    jobs : dict
        Name -> (samples, rate).
    subtype : {"PCM_16", "PCM_24"}
    rng : numpy.random.Generator
        The blinding generator (padding lengths and contents).
    wav_names : set of str
        Names also written as plain ``audio/NAME.wav`` (for the exports; the
        page does not read them).

    Returns
    -------
    dict
        Name -> the samples as stored (read back from the WAV).
    """
    from adcsim.io._reader import read as read_audio
    from adcsim.io._writer import write as write_audio

    js_dir = stage / "stimuli"
    js_dir.mkdir()
    if wav_names:
        (stage / "audio").mkdir()
    pads = PadSource(rng)
    written: dict[str, NDArray[np.float64]] = {}
    for name in sorted(jobs):
        y, rate = jobs[name]
        keep = name in wav_names
        # The WAV itself goes only where an export reads it; otherwise it is
        # a scratch file beside its base64 copy, removed once encoded.
        target = (stage / "audio" if keep else js_dir) / f"{name}.wav"
        write_audio(str(target), y, rate, subtype=subtype)
        written[name] = read_audio(str(target))[0]
        data = base64.b64encode(pad_wav(target.read_bytes(), pads.new()))
        if not keep:
            target.unlink()
        (js_dir / f"{name}.js").write_text(
            f'adcsimStimulus("{name}", "{_PREFIX}{data.decode("ascii")}");\n',
            encoding="utf-8",
        )
    return written


def stimulus_wav(session: Path, name: str) -> bytes:
    """The WAV bytes the page plays for stimulus ``name`` of a session directory.

    Raises
    ------
    AdcsimError
        No such stimulus, or its file is not one adcsim wrote.
    """
    path = session / "stimuli" / f"{name}.js"
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AdcsimError(f"cannot read stimulus {str(path)!r}: {exc}") from exc
    start = text.find(_PREFIX)
    end = text.find('"', start + len(_PREFIX))
    if start < 0 or end < 0:
        raise AdcsimError(f"{str(path)!r} is not an adcsim stimulus")
    return base64.b64decode(text[start + len(_PREFIX) : end])

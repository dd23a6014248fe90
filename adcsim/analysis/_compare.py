"""The error report of one signal against another: `compare`, `analyze`.

Responsible for putting two recordings of the same signal side by side
(optionally trimming them to a common length, removing a constant delay found
by cross-correlation and a constant gain found by least squares) and reporting
the error figures of `adcsim.metrics._meters.measure` plus the tone figures of
`adcsim.metrics._tone`, for signals in memory; and ``analyze`` of a file in
blocks. Not responsible for printing or plotting (`adcsim.cli._analysis`,
`adcsim.figures._compare`) or for comparing files
(`adcsim.analysis._compare_files`, in blocks).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.metrics._meters import measure
from adcsim.metrics._samples import check_samples, checked_blocks
from adcsim.metrics._tone import tone_metrics_channels
from adcsim.stages._chain import as_block


def _as_block(x: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = as_block(x, name=name, owner="compare")
    if arr.shape[0] == 0:
        raise AdcsimError(f"compare: {name} has no frames")
    check_samples(arr, f"compare: {name}")
    return arr


def _as_pair(
    ref: ArrayLike, test: ArrayLike
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both signals as checked blocks of the same channel count."""
    r = _as_block(ref, "ref")
    t = _as_block(test, "test")
    if r.shape[1] != t.shape[1]:
        raise AdcsimError(
            f"compare: ref has {r.shape[1]} channels, test has {t.shape[1]}"
        )
    return r, t


def find_delay(
    ref: ArrayLike, test: ArrayLike, *, max_delay_frames: int | None = None
) -> int:
    """The delay of ``test`` behind ``ref``, frames, by cross-correlation.

    Parameters
    ----------
    ref, test : array_like, (frames, channels)
        The two signals, same channel count, any lengths.
    max_delay_frames : int >= 0, optional
        Largest delay looked for, either way [default: the shorter length - 1].

    Returns
    -------
    int
        ``d`` maximizing ``c[d] = sum_c sum_n ref[n, c] test[n + d, c]``: positive
        when ``test`` lags (``test[n + d] ~ ref[n]``), negative when it leads.

    Notes
    -----
    The correlation of all lags is one FFT product, ``irfft(conj(R) T)``,
    zero-padded to at least ``len(ref) + len(test) - 1`` so it is linear, not
    circular; channels are summed, so every channel votes for one delay.

    Examples
    --------
    >>> x = np.sin(np.arange(64) * 0.7) * np.hanning(64)
    >>> find_delay(x[:, None], np.roll(x, 5)[:, None])
    5
    >>> find_delay(x[:, None], np.roll(x, -3)[:, None])
    -3
    """
    r, t = _as_pair(ref, test)
    nr, nt = r.shape[0], t.shape[0]
    limit = min(nr, nt) - 1
    if max_delay_frames is not None:
        if isinstance(max_delay_frames, bool) or not (
            isinstance(max_delay_frames, (int, np.integer)) and max_delay_frames >= 0
        ):
            raise AdcsimError(
                f"max_delay_frames={max_delay_frames!r} must be an integer >= 0"
            )
        limit = min(limit, int(max_delay_frames))
    size = 1 << math.ceil(math.log2(nr + nt - 1)) if nr + nt > 2 else 1
    spectrum = np.conj(np.fft.rfft(r, size, axis=0)) * np.fft.rfft(t, size, axis=0)
    corr = np.fft.irfft(spectrum.sum(axis=1), size)
    # corr[k] is lag k for k >= 0 and lag k - size for the negative lags.
    lags = np.concatenate((np.arange(0, limit + 1), np.arange(-limit, 0)))
    values = np.concatenate((corr[: limit + 1], corr[size - limit :]))
    return int(lags[int(np.argmax(values))])


def _overlap(
    r: NDArray[np.float64], t: NDArray[np.float64], delay: int
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    r = r[max(0, -delay) :]
    t = t[max(0, delay) :]
    n = min(r.shape[0], t.shape[0])
    return r[:n], t[:n]


def align_pair(
    ref: ArrayLike,
    test: ArrayLike,
    *,
    trim: bool = False,
    align: bool = False,
    gain_match: bool = False,
    max_delay_frames: int | None = None,
) -> tuple[NDArray[np.float64], NDArray[np.float64], dict[str, Any]]:
    """The pair `compare` measures: trimmed, delay-aligned, gain-matched.

    Parameters are those of `compare`.

    Returns
    -------
    ref, test : ndarray of float64, (frames, channels)
        The compared frames; ``test`` divided by the matched gain.
    found : dict
        ``delay_frames`` (with ``align``), ``gain`` and ``gain_db`` (with
        ``gain_match``).

    Raises
    ------
    AdcsimError
        As `compare`.

    Examples
    --------
    >>> r, t, found = align_pair(np.arange(1.0, 9.0), 2 * np.arange(1.0, 9.0),
    ...                          gain_match=True)
    >>> found["gain"], bool(np.array_equal(r, t))
    (2.0, True)
    """
    r, t = _as_pair(ref, test)
    if r.shape[0] != t.shape[0]:
        if not trim:
            raise AdcsimError(
                f"compare: ref has {r.shape[0]} frames, test has {t.shape[0]} "
                "(use trim to compare the common length)"
            )
        n = min(r.shape[0], t.shape[0])
        r, t = r[:n], t[:n]
    extra: dict[str, Any] = {}
    if align:
        delay = find_delay(r, t, max_delay_frames=max_delay_frames)
        r, t = _overlap(r, t, delay)
        if r.shape[0] == 0:
            raise AdcsimError(f"compare: no overlap left after delay_frames={delay}")
        extra["delay_frames"] = delay
    if gain_match:
        power = float(np.einsum("ij,ij->", r, r))
        gain = float(np.einsum("ij,ij->", r, t)) / power if power > 0 else math.nan
        if not gain > 0:
            raise AdcsimError(
                f"compare: gain={gain:.6g} is not positive; cannot match the gain "
                "(silent or uncorrelated reference)"
            )
        t = t / gain
        extra["gain"] = gain
        extra["gain_db"] = 20.0 * math.log10(gain)
    return r, t, extra


def compare(
    ref: ArrayLike,
    test: ArrayLike,
    *,
    rate: int,
    trim: bool = False,
    align: bool = False,
    gain_match: bool = False,
    max_delay_frames: int | None = None,
) -> dict[str, Any]:
    """Error and tone figures of ``test`` against the reference ``ref``.

    Parameters
    ----------
    ref, test : array_like, frames or (frames, channels)
        The reference and the signal under test, full scale, same channels.
    rate : int > 0
        Their sample rate, Hz (for the tone figures).
    trim : bool, default False
        Compare the first ``min(len(ref), len(test))`` frames; without it
        different lengths are an error.
    align : bool, default False
        Find the constant delay of ``test`` (`find_delay`), remove it and
        compare the overlapping frames only.
    gain_match : bool, default False
        Find the least-squares gain ``g = <ref, test> / <ref, ref>`` (the ``g``
        minimizing ``|test - g ref|^2``) and compare ``test / g`` with ``ref``.
    max_delay_frames : int >= 0, optional
        Largest delay ``align`` looks for [default: any].

    Returns
    -------
    dict
        The error keys of `adcsim.metrics._meters.measure` (``mse``, ``rmse``,
        ``max_abs_error``, ``mean_error``, ``signal_rms_dbfs``, ``snr_db``,
        ``psnr_db``), the tone keys of `adcsim.metrics._tone.TONE_KEYS` measured on
        ``test`` with ``ref`` as the detection reference (None unless ``ref`` is
        tonal), ``frames`` (compared), ``delay_frames`` (int, positive when
        ``test`` lags; with ``align``), ``gain`` and ``gain_db`` (``20 log10|g|``;
        with ``gain_match``), and ``channels``: the error and tone keys per
        channel.

    Raises
    ------
    AdcsimError
        Different channel counts, different lengths without ``trim``, empty or
        non-finite input, no overlap left after alignment, or a gain that is
        not positive (``ref`` silent or uncorrelated with ``test``).

    See Also
    --------
    adcsim.analysis._compare_files.compare_files : the same for two files.

    Examples
    --------
    >>> n = np.arange(2000)
    >>> ref = 0.5 * np.sin(2 * np.pi * 0.0123 * n)
    >>> test = np.concatenate((np.zeros(7), 0.25 * ref))[:2000]
    >>> m = compare(ref, test, rate=48000, align=True, gain_match=True)
    >>> m["delay_frames"], m["frames"], round(m["gain_db"], 2)
    (7, 1993, -12.04)
    >>> m["max_abs_error"] < 1e-12
    True
    """
    r, t, extra = align_pair(
        ref,
        test,
        trim=trim,
        align=align,
        gain_match=gain_match,
        max_delay_frames=max_delay_frames,
    )
    errors = measure(r, t)
    per_channel_errors = errors.pop("channels")
    pooled, per_channel_tone = tone_metrics_channels(t, rate, reference=r)
    channels = [
        {**e, **tm} for e, tm in zip(per_channel_errors, per_channel_tone, strict=True)
    ]
    return {
        **errors,
        **pooled,
        "frames": int(r.shape[0]),
        **extra,
        "channels": channels,
    }


def info_block(path: str, info: Any) -> dict[str, Any]:
    """The report block describing a file read by `adcsim.io._reader.AudioReader`."""
    return {
        "path": path,
        "sample_rate": info.rate,
        "channels": info.channels,
        "frames": info.frames,
        "format": info.format,
        "subtype": info.subtype,
    }


def analyze(x: ArrayLike, rate: int) -> dict[str, Any]:
    """Level and tone figures of a signal on its own.

    Parameters
    ----------
    x : array_like, frames or (frames, channels)
        The signal, full scale, finite.
    rate : int > 0
        Sample rate, Hz.

    Returns
    -------
    dict
        ``signal_rms_dbfs`` (``10 log10(mean(x^2))``: 0 dBFS is an RMS of 1,
        a full-scale sine -3.01 dBFS; None for silence), ``peak_dbfs``
        (``20 log10(max|x|)``), the tone keys of `adcsim.metrics._tone.TONE_KEYS`
        (`adcsim.metrics._tone.tone_metrics_channels`, pooled; None unless tonal) and
        ``channels``: the same keys per channel.

    Raises
    ------
    AdcsimError
        Empty or non-finite input, a bad rate.

    Examples
    --------
    >>> n = np.arange(4096)
    >>> m = analyze(np.round(0.5 * np.sin(2 * np.pi * 0.021 * n) * 2048) / 2048, 48000)
    >>> round(m["signal_rms_dbfs"], 2), round(m["enob_bits"], 1)
    (-9.03, 12.0)
    """
    block = _as_block(x, "x")
    pooled, per_channel = tone_metrics_channels(block, rate)

    def level(a: NDArray[np.float64]) -> dict[str, float | None]:
        return _level(float(np.mean(a**2)), float(np.max(np.abs(a))))

    channels = [{**level(block[:, c]), **tm} for c, tm in enumerate(per_channel)]
    return {**level(block), **pooled, "channels": channels}


def _level(power: float, peak: float) -> dict[str, float | None]:
    return {
        "signal_rms_dbfs": 10.0 * math.log10(power) if power > 0 else None,
        "peak_dbfs": 20.0 * math.log10(peak) if peak > 0 else None,
    }


#: Frames ``analyze_file`` measures the tone figures on: the first 2**18, as
#: quantize's report does (about 6 s at 44.1 kHz).
TONE_FRAMES = 1 << 18


def _analyze_stream(path: str) -> tuple[dict[str, Any], Any]:
    """`analyze` of a file read in blocks: memory does not grow with its length.

    Levels cover the whole file; the tone figures its first `TONE_FRAMES`
    frames (reading it whole took 8.1 GB for a 6-hour 8 kHz mono file).
    """
    from adcsim.io._reader import AudioReader

    with AudioReader(path) as reader:
        info = reader.info
        squares = np.zeros(info.channels)
        peaks = np.zeros(info.channels)
        frames = 0
        head = []
        for block in checked_blocks(reader.blocks(), repr(path)):
            squares += np.einsum("ij,ij->j", block, block)
            peaks = np.maximum(peaks, np.abs(block).max(axis=0))
            if frames < TONE_FRAMES:
                head.append(block[: TONE_FRAMES - frames])
            frames += block.shape[0]
    pooled, per_channel = tone_metrics_channels(np.concatenate(head), info.rate)
    channels = [
        {**_level(float(squares[c]) / frames, float(peaks[c])), **tm}
        for c, tm in enumerate(per_channel)
    ]
    whole = _level(float(squares.sum()) / (frames * info.channels), float(peaks.max()))
    return {**whole, **pooled, "channels": channels}, info


def analyze_file(path: str) -> dict[str, Any]:
    """Read ``path`` in blocks and `analyze` it.

    Returns
    -------
    dict
        JSON-ready: ``schema_version``, ``input`` (path, sample_rate, channels,
        frames, format, subtype), ``metrics`` and ``channels``.

    Raises
    ------
    AdcsimError
        The file cannot be read.

    Notes
    -----
    Read in blocks: the levels cover the whole file, the tone figures its
    first `TONE_FRAMES` frames, as in quantize's report.
    """
    from adcsim.run._report import SCHEMA_VERSION, plain

    result, info = _analyze_stream(path)
    channels = result.pop("channels")
    report: dict[str, Any] = plain(
        {
            "schema_version": SCHEMA_VERSION,
            "input": info_block(path, info),
            "metrics": result,
            "channels": channels,
        }
    )
    return report


__all__ = [
    "analyze",
    "analyze_file",
    "align_pair",
    "compare",
    "find_delay",
    "info_block",
]

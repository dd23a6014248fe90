"""ITU-R BS.1770-4 integrated loudness (LUFS) of a block of samples.

Responsible for the K-weighting filter (designed for any sample rate), the
400 ms gating blocks with 75 % overlap, the absolute (-70 LUFS) and relative
(-10 LU) gates, and channel weighting. Not responsible for true-peak metering,
loudness range (EBU Tech 3342) or momentary/short-term meters, nor for
changing levels (`adcsim.listening._session` applies the gains).

Notes
-----
ITU-R BS.1770-4 (10/2015), Annex 1: the K-weighting is a high shelf (about
+4 dB above 2 kHz, modelling the head) followed by the RLB high-pass. The
standard tabulates both biquads at 48 kHz only. Here they are designed for any
rate from their analog prototypes (centre frequency, gain and Q) with the
bilinear transform, the approach of libebur128 (``ebur128.c``); at 48 kHz the
coefficients equal the published ones to about 1e-8 (a test checks this).
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim._rate import check_rate
from adcsim.errors import AdcsimError
from adcsim.metrics._samples import check_samples
from adcsim.stages._chain import as_block

#: Analog prototype of the shelving stage: centre (Hz), gain (dB), Q.
SHELF_F0_HZ = 1681.974450955533
SHELF_GAIN_DB = 3.999843853973347
SHELF_Q = 0.7071752369554196
#: Analog prototype of the RLB high-pass: corner (Hz), Q.
HIGHPASS_F0_HZ = 38.13547087602444
HIGHPASS_Q = 0.5003270373238773

ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0
BLOCK_S = 0.4
STEP_S = 0.1
#: BS.1770-4 eq. (2): cancels the K-filter's +0.691 dB at 997 Hz, so a sine on
#: two channels reads its peak level in dBFS.
OFFSET_DB = -0.691


def k_weighting(rate: int) -> NDArray[np.float64]:
    """Design the two K-weighting biquads for ``rate`` (second-order sections).

    Parameters
    ----------
    rate : int >= 8000
        Sample rate, Hz.

    Returns
    -------
    ndarray, shape (2, 6)
        ``[b0, b1, b2, 1, a1, a2]`` per row: the shelf, then the RLB high-pass
        (the layout of `scipy.signal.sosfilt`).

    Raises
    ------
    AdcsimError
        ``rate`` is not an integer of at least 8000 Hz.

    Examples
    --------
    >>> sos = k_weighting(48000)
    >>> sos[0, :3].round(8)
    array([ 1.53512486, -2.69169619,  1.19839281])
    >>> sos[1, 4:].round(8)
    array([-1.99004745,  0.99007225])
    """
    rate = check_rate(rate, low=8000, prefix="loudness: ")
    k = math.tan(math.pi * SHELF_F0_HZ / rate)
    vh = 10.0 ** (SHELF_GAIN_DB / 20.0)
    # The shelf's mid-band gain exponent of the published design (libebur128).
    vb = vh**0.4996667741545416
    a0 = 1.0 + k / SHELF_Q + k * k
    shelf = [
        (vh + vb * k / SHELF_Q + k * k) / a0,
        2.0 * (k * k - vh) / a0,
        (vh - vb * k / SHELF_Q + k * k) / a0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / SHELF_Q + k * k) / a0,
    ]
    k = math.tan(math.pi * HIGHPASS_F0_HZ / rate)
    a0 = 1.0 + k / HIGHPASS_Q + k * k
    # BS.1770-4 Table 2 gives the RLB numerator as exactly (1, -2, 1).
    highpass = [
        1.0,
        -2.0,
        1.0,
        1.0,
        2.0 * (k * k - 1.0) / a0,
        (1.0 - k / HIGHPASS_Q + k * k) / a0,
    ]
    return np.array([shelf, highpass])


def channel_weights(channels: int) -> NDArray[np.float64]:
    """BS.1770-4 channel weights G_i for the usual layouts.

    Notes
    -----
    Front channels weigh 1.0 and surrounds 1.41 (+1.5 dB). Five channels are
    taken as L, R, C, Ls, Rs; six as L, R, C, LFE, Ls, Rs (WAVE order), with the
    LFE excluded (weight 0). Any other count weighs every channel 1.0.

    Examples
    --------
    >>> channel_weights(2)
    array([1., 1.])
    >>> channel_weights(6)
    array([1.  , 1.  , 1.  , 0.  , 1.41, 1.41])
    """
    if channels == 5:
        return np.array([1.0, 1.0, 1.0, 1.41, 1.41])
    if channels == 6:
        return np.array([1.0, 1.0, 1.0, 0.0, 1.41, 1.41])
    return np.ones(channels)


def block_powers(x: ArrayLike, *, rate: int) -> NDArray[np.float64]:
    """K-weighted mean squares of the 400 ms gating blocks, per channel.

    Blocks are 4 steps of ``round(0.1 * rate)`` frames (75 % overlap); only
    complete blocks count, as BS.1770-4 specifies.

    Returns
    -------
    ndarray, shape (blocks, channels)
        z_ij of BS.1770-4 eq. (3).
    """
    from scipy.signal import sosfilt

    block = as_block(x, name="samples", owner="loudness")
    check_samples(block, "loudness: samples")
    weighted = sosfilt(k_weighting(rate), block, axis=0)
    step = round(STEP_S * rate)
    steps = block.shape[0] // step
    if steps < 4:
        return np.zeros((0, block.shape[1]))
    # Summing the squares of each 100 ms step first, then four steps per block,
    # keeps the sums short (exact enough) and costs one pass over the signal.
    squares = (weighted[: steps * step] ** 2).reshape(steps, step, -1).sum(axis=1)
    sums = squares[:-3] + squares[1:-2] + squares[2:-1] + squares[3:]
    return np.asarray(sums / (4 * step), dtype=np.float64)


def integrated_loudness(
    x: ArrayLike, *, rate: int, weights: ArrayLike | None = None
) -> float:
    """Gated integrated loudness of ``x`` in LUFS (ITU-R BS.1770-4).

    Parameters
    ----------
    x : array_like, shape (frames,) or (frames, channels)
        Samples, full scale [-1, 1).
    rate : int >= 8000
        Sample rate, Hz.
    weights : array_like, optional
        Channel weights G_i; default `channel_weights`.

    Returns
    -------
    float
        Loudness in LUFS; ``-inf`` when no block passes the absolute gate
        (silence, or a level below -70 LUFS).

    Raises
    ------
    AdcsimError
        ``x`` is shorter than one 400 ms block, or ``rate`` or ``weights`` is bad.

    Notes
    -----
    ``L = -0.691 + 10 log10(sum_i G_i z_i)`` over the blocks kept by the
    absolute gate (-70 LUFS) and then the relative gate (10 LU below the
    loudness of the blocks kept by the absolute gate), eqs. (4)-(7).

    Examples
    --------
    A full-scale 997 Hz sine on one channel reads -3.01 LUFS:

    >>> t = np.arange(48000) / 48000
    >>> round(integrated_loudness(np.sin(2 * np.pi * 997 * t), rate=48000), 2)
    -3.01
    """
    block = as_block(x, name="samples", owner="loudness")
    g = channel_weights(block.shape[1]) if weights is None else np.asarray(weights)
    if g.shape != (block.shape[1],):
        raise AdcsimError(
            f"loudness: weights has {g.size} values for channels={block.shape[1]}"
        )
    z = block_powers(block, rate=rate)
    if z.shape[0] == 0:
        raise AdcsimError(
            f"loudness: frames={block.shape[0]} is shorter than one 400 ms block "
            f"at rate={rate}"
        )
    power = z @ g
    with np.errstate(divide="ignore"):
        block_lufs = OFFSET_DB + 10.0 * np.log10(power)
    kept = power[block_lufs > ABSOLUTE_GATE_LUFS]
    if kept.size == 0:
        return float("-inf")
    relative = OFFSET_DB + 10.0 * math.log10(float(kept.mean())) + RELATIVE_GATE_LU
    kept = power[(block_lufs > ABSOLUTE_GATE_LUFS) & (block_lufs > relative)]
    return OFFSET_DB + 10.0 * math.log10(float(kept.mean()))

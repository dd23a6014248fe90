"""The oversampling sigma-delta converter as one chain stage.

Responsible for `SigmaDeltaStage` (upsampling by the OSR, the modulator loop,
decimation back to the stream's rate, its per-channel state and overload
counters) and its function form `sigma_delta`. Not responsible for the
modulator's compiled loop (``adcsim.kernels._sigma_delta``), for the output
quantizer after it (``adcsim.quantizers``) or for its place in the chain
(``adcsim.run._adc``, options ``--sigma-delta ORDER --osr K
--modulator-bits B``).

Resampling: soxr (VHQ, as `adcsim.stages._resample`), one stream up and one
down per stage. The decimator must remove the shaped noise above the band,
which for order 3 at the modulator's Nyquist is 18 dB above the quantizer's
own noise and over 100 dB above the in-band noise: soxr's stop band (about
170 dB) does that; ``scipy.signal.resample_poly``'s default Kaiser window
(about 60 dB) would fold it back into the band. The soxr streams are used
directly rather than through `Resampler` because the modulator rate
(R x OSR) may exceed the rate bound that stage applies to user rates.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.stages._chain import StreamInfo, as_block

#: Input frames per pass through up-sampler, loop and decimator: the
#: upsampled chunk (OSR x this) stays a few MB whatever the caller's block.
CHUNK_FRAMES = 4096
#: Fed-back errors are limited to this many quantizer steps; in the granular
#: range the error is within half a step, so the limit acts only on overload.
ERROR_LIMIT_STEPS = 2.0
#: soxr quality of both conversions (see `adcsim.stages._resample.QUALITY`).
QUALITY = "VHQ"


def _check_int(value: object, name: str, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Integral)
        or not low <= int(value) <= high
    ):
        raise AdcsimError(
            f"sigma-delta: {name}={value!r} must be an integer in [{low}, {high}]"
        )
    return int(value)


def predicted_sqnr_db(
    *, order: int, osr: int, bits: int, level_db: float = 0.0
) -> float:
    """The ideal in-band SQNR of an L-th order modulator, dB.

    ``6.02 N + 1.76 - 10 log10(pi^(2L) / (2L + 1)) + (2L + 1) 10 log10(OSR)``
    plus ``level_db``, the sine's level relative to full scale (the formula is
    for a full-scale sine; the noise does not depend on the level).

    Parameters
    ----------
    order : int
        L.
    osr : int
        The oversampling ratio.
    bits : int
        N, the internal quantizer's bits.
    level_db : float
        The sine's peak relative to full scale, dB (``-6`` for half scale).

    Returns
    -------
    float
        The SQNR, dB.

    Notes
    -----
    The ideal L-th order modulator (MOD-L) with white quantization error,
    Schreier & Temes, *Understanding Delta-Sigma Data Converters* (2005),
    chapter 4 (as issue 13 quotes it). It takes the step ``2 / 2^N``; the stage's
    quantizer spans [-1, 1] with ``2^N`` levels, step ``2 / (2^N - 1)``, so
    its noise is `step_correction_db` higher (6.0 dB for N = 1, 0.56 dB for
    N = 4). For N = 1 the formula's step would put the two levels at +-0.5,
    inside a full-scale sine: no binary quantizer with levels covering the
    input has it (the Delta-Sigma Toolbox's binary quantizer, like this one,
    has the levels +-1, step 2).

    Examples
    --------
    >>> round(predicted_sqnr_db(order=2, osr=64, bits=1, level_db=-6.0), 1)
    79.2
    """
    L = order
    return (
        6.02 * bits
        + 1.76
        - 10 * math.log10(math.pi ** (2 * L) / (2 * L + 1))
        + (2 * L + 1) * 10 * math.log10(osr)
        + level_db
    )


def step_correction_db(bits: int) -> float:
    """The excess of the stage's B-bit step over the formula's, dB.

    ``20 log10(2^B / (2^B - 1))``: the levels span [-1, 1] in 2^B - 1 steps.

    Examples
    --------
    >>> round(step_correction_db(1), 2), round(step_correction_db(4), 2)
    (6.02, 0.56)
    """
    levels = 2.0**bits
    return 20.0 * math.log10(levels / (levels - 1.0))


class SigmaDeltaStage:
    """Chain stage: oversample, modulate with NTF (1 - z^-1)^L, decimate.

    The input (the analog signal's band-limited reconstruction at rate R) is
    upsampled by ``osr`` with soxr, run through an L-th order modulator with
    a B-bit quantizer at R x osr, and decimated back to R with soxr's
    low-pass, so the output has the input's rate and frame count, aligned
    with it (soxr compensates its delay; `flush` drains both filters).

    Parameters
    ----------
    order : int in [1, 5]
        L, the order of the NTF ``(1 - z^-1)^L``.
    osr : int in [2, 1024]
        The oversampling ratio K.
    modulator_bits : int in [1, 16], optional
        B, the internal quantizer's bits; default 1 for L <= 2, 4 above
        (with one bit, (1 - z^-1)^L for L >= 3 is unstable: its gain at
        Nyquist, 2^L, swamps the quantizer).

    Raises
    ------
    AdcsimError
        A parameter out of range (``sigma-delta: order=0 must be an integer
        in [1, 5]``).

    Attributes
    ----------
    counters : dict
        ``modulator_overload``: modulator samples whose quantizer input lay
        beyond its range ``+-(1 + D/2)``; ``modulator_error_limited``: fed-back
        errors clipped to ``ERROR_LIMIT_STEPS`` steps (the loop stays bounded).

    Notes
    -----
    The loop (``adcsim.kernels._sigma_delta``) is the error-feedback form of
    ``Y = U + (1 - z^-1)^L E`` (Schreier & Temes 2005, sec. 4.2). For white
    quantization error of power ``D^2/12`` the in-band noise after an ideal
    decimator is ``D^2/12 pi^(2L) / ((2L+1) OSR^(2L+1))``, giving
    `predicted_sqnr_db`. The state (last L errors per channel, the two soxr
    streams) lives on the stage and the input is processed in chunks of
    `CHUNK_FRAMES`, so any split into blocks gives identical output.

    Measured against that formula (Hann-windowed FFT of the modulator's
    output, the in-band bins, the tone's three bins as signal: the
    Delta-Sigma Toolbox's ``calculateSNR`` practice), on a -6 dBFS sine with
    2**16 samples: with 4 bits every order 1-3 at OSR 16-128 is within 1.6 dB
    of it. One bit is not: order 1 lies 3-5 dB, order 2 9-10 dB below it
    (OSR 64: 70.3 dB against 79.2). Of that, 6.0 dB is the formula's step
    (`step_correction_db`: the levels are +-1); the other 3-4 dB for order 2
    is the binary quantizer itself. Its input, ``u + (NTF - 1) e``, swings
    past the levels' no-overload range +-2 on 13 % of the samples at
    -6 dBFS, so the error ``e = y - v`` is not confined to +-D/2: its power
    is 1.65 D^2/12 (2.2 dB more), and the model with that measured power
    predicts 70.9 dB, 0.6 dB from the measurement. Those samples are counted
    as ``modulator_overload``: for a binary quantizer they are the normal
    state of MOD2, not instability; a loop that loses track shows as
    ``modulator_error_limited``.

    Examples
    --------
    >>> stage = SigmaDeltaStage(order=2, osr=16)
    >>> stage.start(StreamInfo(rate=8000, channels=1)).rate
    8000
    >>> x = 0.5 * np.sin(2 * np.pi * 500 * np.arange(800) / 8000)[:, None]
    >>> y = np.concatenate([stage.process(x), stage.flush()])
    >>> y.shape, bool(np.max(np.abs(y - x)[100:-100]) < 0.05)
    ((800, 1), True)
    """

    active = True

    def __init__(
        self, *, order: int, osr: int, modulator_bits: int | None = None
    ) -> None:
        self.order = _check_int(order, "order", 1, 5)
        self.osr = _check_int(osr, "osr", 2, 1024)
        if modulator_bits is None:
            modulator_bits = 1 if self.order <= 2 else 4
        self.modulator_bits = _check_int(modulator_bits, "modulator_bits", 1, 16)
        # c_k of (1 - z^-1)^L = 1 + sum c_k z^-k.
        self._coefficients = np.array(
            [(-1.0) ** k * math.comb(self.order, k) for k in range(1, self.order + 1)]
        )
        self._limit = ERROR_LIMIT_STEPS * 2.0 / (2**self.modulator_bits - 1)
        self.counters: dict[str, int] = {}
        self._rate = 0
        self._channels = 0
        self._up: Any = None
        self._down: Any = None
        self._errors = np.zeros((0, self.order))

    def adc_entry(self, figures: Any) -> dict[str, Any]:
        """Parameters, counters, predicted and measured in-band SQNR (dB).

        ``figures`` is the run's `adcsim.stages._converter.AdcFigures`.
        Predicted: `predicted_sqnr_db` at the reference tone's level (issue
        13's formula), and the same at the stage's own quantizer step
        (`step_correction_db` less). Measured: the tone's power over what the
        line from reference to output leaves, less the output quantizer's
        (and dither's) own error power ``figures.quantization_lsb2``; None
        when that is more than 90 % of it (the output depth hides the
        modulator) or no channel is tonal.
        """
        amplitudes = [f.amplitude for f in figures.ref_fits if f is not None]
        predicted = at_step = measured = None
        if amplitudes:
            amplitude = float(np.sqrt(np.mean(np.square(amplitudes))))
            level_db = 20.0 * math.log10(amplitude)
            predicted = predicted_sqnr_db(
                order=self.order,
                osr=self.osr,
                bits=self.modulator_bits,
                level_db=level_db,
            )
            at_step = predicted - step_correction_db(self.modulator_bits)
            floor = figures.quantization_lsb2 * figures.lsb**2
            residuals = [r for r in figures.residual_powers if r is not None]
            if residuals:
                total = float(np.mean(residuals))
                if total - floor > 0.1 * total:
                    measured = 10.0 * math.log10((amplitude**2 / 2.0) / (total - floor))
        return {
            "order": self.order,
            "osr": self.osr,
            "modulator_bits": self.modulator_bits,
            "modulator_rate": self._rate * self.osr,
            "modulator_overload": self.counters.get("modulator_overload", 0),
            "modulator_error_limited": self.counters.get("modulator_error_limited", 0),
            "predicted_in_band_sqnr_db": predicted,
            "predicted_in_band_sqnr_at_step_db": at_step,
            "measured_in_band_sqnr_db": measured,
        }

    def start(self, info: StreamInfo) -> StreamInfo:
        """Set up the streams and the loop's state; the output info is ``info``."""
        import adcsim.kernels._sigma_delta  # noqa: F401 - compile/load it now

        self._rate, self._channels = info.rate, info.channels
        self.reset()
        return replace(info, bits=None)

    def reset(self) -> None:
        """Fresh filters and an empty error history."""
        import soxr

        fast = self._rate * self.osr
        self._up = soxr.ResampleStream(
            self._rate, fast, self._channels, dtype="float64", quality=QUALITY
        )
        self._down = soxr.ResampleStream(
            fast, self._rate, self._channels, dtype="float64", quality=QUALITY
        )
        self._errors = np.zeros((self._channels, self.order))
        self.counters = {"modulator_overload": 0, "modulator_error_limited": 0}

    def process(self, block: NDArray[np.floating[Any]]) -> NDArray[np.float64]:
        """Convert one block (the output length varies with the filters' delay)."""
        block = np.asarray(block)
        if block.ndim != 2 or block.shape[1] != self._channels:
            raise ValueError(
                f"sigma-delta: block of shape {block.shape}, "
                f"expected (frames, {self._channels})"
            )
        outputs = [np.zeros((0, self._channels))]
        for first in range(0, block.shape[0], CHUNK_FRAMES):
            chunk = np.ascontiguousarray(
                block[first : first + CHUNK_FRAMES], dtype=np.float64
            )
            outputs.append(self._pass(chunk, last=False))
        return np.concatenate(outputs)

    def flush(self) -> NDArray[np.float64]:
        """Drain both filters: the last frames of the stream."""
        return self._pass(np.zeros((0, self._channels)), last=True)

    def _pass(self, chunk: NDArray[np.float64], *, last: bool) -> NDArray[np.float64]:
        from adcsim.kernels._sigma_delta import modulate

        fast = self._up.resample_chunk(chunk, last=last).reshape(-1, self._channels)
        y, overloads, limited = modulate(
            np.ascontiguousarray(fast),
            self._coefficients,
            self._errors,
            bits=self.modulator_bits,
            limit=self._limit,
        )
        self.counters["modulator_overload"] += overloads
        self.counters["modulator_error_limited"] += limited
        out: NDArray[np.float64] = self._down.resample_chunk(y, last=last)
        return out.reshape(-1, self._channels)


def sigma_delta(
    x: ArrayLike,
    *,
    rate: int,
    order: int,
    osr: int,
    modulator_bits: int | None = None,
) -> NDArray[np.float64]:
    """Pass ``x`` (frames, or frames x channels) through a sigma-delta converter.

    The function form of `SigmaDeltaStage` (see it for the parameters): a
    fresh stage, one block, then flush.

    Parameters
    ----------
    x : array_like
        The signal at ``rate``, full scale [-1, 1].
    rate : int
        Its rate R, Hz (the modulator runs at R x osr).
    order, osr, modulator_bits : int
        See `SigmaDeltaStage`.

    Returns
    -------
    ndarray of float64
        The decimated output, ``x``'s shape.

    Examples
    --------
    >>> x = np.full(400, 0.25)
    >>> y = sigma_delta(x, rate=8000, order=1, osr=32, modulator_bits=4)
    >>> y.shape, round(float(y[100:300].mean()), 3)
    ((400,), 0.25)
    """
    samples: NDArray[np.float64] = np.asarray(x, dtype=np.float64)
    block = as_block(samples, owner="sigma-delta")
    stage = SigmaDeltaStage(order=order, osr=osr, modulator_bits=modulator_bits)
    stage.start(StreamInfo(rate=rate, channels=block.shape[1]))
    y = np.concatenate([stage.process(block), stage.flush()])
    return y.reshape((-1, *samples.shape[1:]))

"""Least-squares sine fitting after IEEE Std 1241 (three and four parameters).

`fit_sine` fits ``x[n] ~ amplitude * cos(2 pi f n / rate + phase) + offset`` to a
1-D record: at a known frequency by linear least squares (IEEE Std 1241-2000
§4.1.3.1, the three-parameter fit), or with the frequency refined by
Gauss-Newton iterations (§4.1.3.3, the four-parameter fit) started from an
interpolated peak of a windowed spectrum. The tone metrics (SINAD, ENOB, THD)
are built on it in `adcsim.metrics._tone`; this module computes no metrics and reads no
files.

Everything is vectorized over the record: the normal equations of the few
columns are accumulated as float64 dot products, so a fit of millions of samples
costs a handful of passes over the data and no per-sample Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim._rate import check_real_rate
from adcsim.errors import AdcsimError
from adcsim.metrics._samples import check_samples
from adcsim.metrics._windows import window

#: Fewest samples accepted by the four-parameter fit.
MIN_FRAMES = 8

#: Iterations stop once the frequency step moves the phase at the record's ends
#: by less than this many radians: the fit can no longer change measurably.
_PHASE_TOLERANCE_RAD = 1e-9

#: Halvings of a Gauss-Newton step that did not lower the residual before the
#: fit is declared at its minimum.
_MAX_HALVINGS = 10

#: Iterations also stop when a step lowers the residual energy by less than
#: this fraction: on noise-like records Gauss-Newton only creeps from there.
_ENERGY_RTOL = 1e-12


@dataclass(frozen=True)
class SineFit:
    """The result of `fit_sine`.

    The model is ``x[n] ~ amplitude * cos(2 pi freq_hz n / rate + phase_rad)
    + offset`` with ``n = 0`` at the first sample.

    Attributes
    ----------
    freq_hz : float
        Frequency, Hz (the given one for a three-parameter fit).
    amplitude : float
        Peak amplitude, >= 0 (full scale is 1.0).
    phase_rad : float
        Phase at the first sample, radians in (-pi, pi].
    offset : float
        DC offset.
    residual_rms : float
        RMS of ``x`` minus the fitted sine: noise and distortion.
    iterations : int
        Gauss-Newton steps taken (0 for a three-parameter fit).
    """

    freq_hz: float
    amplitude: float
    phase_rad: float
    offset: float
    residual_rms: float
    iterations: int

    def evaluate(self, frames: int, rate: float) -> NDArray[np.float64]:
        """Evaluate the fit at samples ``0 .. frames - 1`` of a ``rate`` Hz record.

        Examples
        --------
        >>> SineFit(1000.0, 0.5, 0.0, 0.1, 0.0, 0).evaluate(4, 4000)
        array([ 0.6,  0.1, -0.4,  0.1])
        """
        n = np.arange(frames, dtype=np.float64)
        w = 2.0 * math.pi * self.freq_hz / rate
        return self.amplitude * np.cos(w * n + self.phase_rad) + self.offset


def _check_record(x: ArrayLike, rate: float) -> tuple[NDArray[np.float64], float]:
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim != 1:
        raise AdcsimError(f"sine fit: x has shape {arr.shape}, must be 1-D")
    check_samples(arr, "sine fit: x")
    return arr, check_real_rate(rate, prefix="sine fit: ")


def _solve(
    cols: NDArray[np.float64], y: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Least squares ``y ~ coef @ cols`` for a few rows ``cols`` (k, N).

    Normal equations with the columns scaled to unit norm (so that a
    ``n * sin`` column and a constant column do not ruin the conditioning),
    solved by SVD on the k x k system, then one step of iterative refinement
    on the residual, which recovers the accuracy that forming the Gram matrix
    gives away. Returns the coefficients and the residual.
    """
    gram = cols @ cols.T
    norms = np.sqrt(np.diag(gram))
    scale = np.where(norms > 0, 1.0 / np.where(norms > 0, norms, 1.0), 1.0)
    scaled = gram * scale[:, None] * scale[None, :]
    coef = np.zeros(cols.shape[0])
    resid = y
    for _ in range(2):
        z = np.linalg.lstsq(scaled, scale * (cols @ resid), rcond=1e-13)[0]
        coef = coef + scale * z
        resid = y - coef @ cols
    return coef, resid


def _three_param(
    x: NDArray[np.float64], n: NDArray[np.float64], w: float
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Fit ``a cos(w n) + b sin(w n) + c``; returns the columns, (a, b, c), residual."""
    arg = w * n
    cols = np.empty((3, n.size))
    np.cos(arg, out=cols[0])
    np.sin(arg, out=cols[1])
    cols[2] = 1.0
    coef, resid = _solve(cols, x)
    return cols, coef, resid


def _initial_omega(x: NDArray[np.float64]) -> float:
    """Angular frequency (rad/sample) of the strongest peak of a Hann spectrum.

    The peak bin is refined by the ratio of its larger neighbour to it, which
    for a Hann window and a lone complex tone gives the exact fractional bin
    ``delta = (2 r - 1) / (r + 1)`` (Grandke, IEEE Trans. Instrum. Meas. 32,
    1983). A few hundredths of a bin of bias from the negative-frequency image
    remain for tones of a few cycles; the Gauss-Newton steps remove them.
    """
    frames = x.size
    spectrum = np.abs(np.fft.rfft((x - x.mean()) * window(frames, "periodic-hann")))
    last = spectrum.size - 2
    k = 1 + int(np.argmax(spectrum[1 : last + 1]))
    peak = spectrum[k]
    if peak == 0.0:
        return math.pi / 2
    left, right = spectrum[k - 1], spectrum[k + 1]
    side = 1.0 if right >= left else -1.0
    ratio = max(left, right) / peak
    delta = side * (2.0 * ratio - 1.0) / (ratio + 1.0)
    delta = min(max(delta, -0.5), 0.5)
    return float(2.0 * math.pi * (k + delta) / frames)


def fit_sine(
    x: ArrayLike,
    rate: float,
    *,
    freq_hz: float | None = None,
    initial_freq_hz: float | None = None,
    max_iterations: int = 50,
) -> SineFit:
    """Fit a sine wave to a record by least squares (IEEE Std 1241).

    With ``freq_hz`` the frequency is known and the fit is linear (three
    parameters). Without it the frequency is a fourth parameter, refined by
    Gauss-Newton steps from ``initial_freq_hz`` or, by default, from the
    interpolated peak of the record's Hann-windowed spectrum.

    Parameters
    ----------
    x : array_like, 1-D
        The record, finite samples.
    rate : float > 0
        Sample rate, Hz.
    freq_hz : float in (0, rate / 2), optional
        Known frequency: do the three-parameter fit.
    initial_freq_hz : float in (0, rate / 2), optional
        Start of the four-parameter fit instead of the spectral estimate (e.g.
        the frequency fitted on a clean reference of the same signal).
    max_iterations : int >= 1, default 50
        Most Gauss-Newton steps of the four-parameter fit.

    Returns
    -------
    SineFit
        Frequency, amplitude, phase at the first sample, offset, residual RMS and
        iteration count.

    Raises
    ------
    AdcsimError
        ``x`` not 1-D, non-finite samples or samples beyond 1e6
        (`adcsim.metrics._samples.MAX_ABS_SAMPLE`), fewer than 3 samples (8 for the
        four-parameter fit), a bad ``rate`` or a frequency outside (0, rate/2).

    See Also
    --------
    adcsim.metrics._tone.tone_metrics : SINAD, ENOB, THD and SFDR built on this fit.

    Notes
    -----
    Three-parameter fit (IEEE Std 1241-2000 §4.1.3.1): for the known angular
    frequency ``w = 2 pi f / rate`` solve the linear least-squares problem
    ``x[n] ~ a cos(w n) + b sin(w n) + c``; then ``amplitude = hypot(a, b)``,
    ``phase = atan2(-b, a)``, ``offset = c``.

    Four-parameter fit (§4.1.3.3): at the current ``w`` with its
    three-parameter solution ``(a, b)``, add the column
    ``n (b cos(w n) - a sin(w n))``, the derivative of the model with respect to
    ``w``, solve the four-column problem and move ``w`` by its fourth
    coefficient. Unlike the standard's bare iteration, a step is kept only if the
    three-parameter residual at the new frequency is smaller (otherwise it is
    halved, up to 10 times), which makes the iteration converge from any start
    within about half a spectral bin; it stops when a step changes the phase at
    the ends of the record by less than 1e-9 rad or the residual energy by less
    than a relative 1e-12, or after ``max_iterations`` steps (the best fit found
    is returned). ``n`` is centred on the record so
    that the frequency column is nearly orthogonal to the others.

    Examples
    --------
    >>> n = np.arange(64)
    >>> x = 0.5 * np.cos(2 * np.pi * 1000.3 * n / 8000 + 0.25) + 0.01
    >>> fit = fit_sine(x, 8000)
    >>> round(fit.freq_hz, 6), round(fit.amplitude, 9), round(fit.phase_rad, 9)
    (1000.3, 0.5, 0.25)
    >>> round(fit_sine(x, 8000, freq_hz=1000.3).offset, 9)
    0.01
    """
    arr, rate = _check_record(x, rate)
    frames = arr.size
    nyquist = rate / 2.0
    for name, value in (("freq_hz", freq_hz), ("initial_freq_hz", initial_freq_hz)):
        if value is not None and not (
            isinstance(value, (int, float, np.integer, np.floating))
            and 0.0 < value < nyquist
        ):
            raise AdcsimError(
                f"sine fit: {name}={value!r} must be a number in (0, {nyquist:g})"
            )
    if isinstance(max_iterations, bool) or not (
        isinstance(max_iterations, (int, np.integer)) and max_iterations >= 1
    ):
        raise AdcsimError(
            f"sine fit: max_iterations={max_iterations!r} must be an integer >= 1"
        )
    minimum = 3 if freq_hz is not None else MIN_FRAMES
    if frames < minimum:
        raise AdcsimError(f"sine fit: frames={frames} must be at least {minimum}")

    # Centred sample index: phase is re-referenced to n = 0 at the end.
    centre = (frames - 1) / 2.0
    n = np.arange(frames, dtype=np.float64) - centre

    iterations = 0
    if freq_hz is not None:
        w = 2.0 * math.pi * float(freq_hz) / rate
        _, coef, resid = _three_param(arr, n, w)
        fitted_hz = float(freq_hz)
    else:
        if initial_freq_hz is not None:
            w = 2.0 * math.pi * float(initial_freq_hz) / rate
        else:
            w = _initial_omega(arr)
        w, coef, resid, iterations = _four_param(arr, n, w, int(max_iterations))
        fitted_hz = float(w * rate / (2.0 * math.pi))

    a, b, c = (float(v) for v in coef)
    phase = math.atan2(-b, a) - w * centre
    phase = math.remainder(phase, 2.0 * math.pi)
    if phase <= -math.pi:
        phase += 2.0 * math.pi
    return SineFit(
        freq_hz=fitted_hz,
        amplitude=math.hypot(a, b),
        phase_rad=phase,
        offset=c,
        residual_rms=math.sqrt(float(np.mean(resid * resid))),
        iterations=iterations,
    )


def _four_param(
    x: NDArray[np.float64], n: NDArray[np.float64], w: float, max_iterations: int
) -> tuple[float, NDArray[np.float64], NDArray[np.float64], int]:
    """Gauss-Newton on the frequency with step halving; see `fit_sine`."""
    frames = x.size
    w_low, w_high = 1e-3 * math.pi / frames, math.pi * (1.0 - 1e-3 / frames)
    w = min(max(w, w_low), w_high)
    cols, coef, resid = _three_param(x, n, w)
    energy = float(resid @ resid)
    half_span = max(abs(n[0]), 1.0)
    iterations = 0
    while iterations < max_iterations:
        a, b = coef[0], coef[1]
        full = np.empty((4, frames))
        full[:3] = cols
        full[3] = n * (b * cols[0] - a * cols[1])
        step = float(_solve(full, x)[0][3])
        if not math.isfinite(step) or step == 0.0:
            break
        # A Gauss-Newton step beyond half a bin leaves the region where the
        # linearization holds; cap it there.
        cap = math.pi / frames
        step = min(max(step, -cap), cap)
        accepted = False
        for _ in range(_MAX_HALVINGS):
            w_new = min(max(w + step, w_low), w_high)
            cols_new, coef_new, resid_new = _three_param(x, n, w_new)
            energy_new = float(resid_new @ resid_new)
            if energy_new <= energy:
                accepted = True
                break
            if abs(step) * half_span < _PHASE_TOLERANCE_RAD:
                # Rounding, not the model, decides below this step.
                break
            step /= 2.0
        if not accepted:
            break
        iterations += 1
        moved = abs(w_new - w)
        gain = energy - energy_new
        w, cols, coef, resid, energy = w_new, cols_new, coef_new, resid_new, energy_new
        if moved * half_span < _PHASE_TOLERANCE_RAD or gain <= _ENERGY_RTOL * energy:
            break
    return w, coef, resid, iterations


__all__ = ["MIN_FRAMES", "SineFit", "fit_sine"]

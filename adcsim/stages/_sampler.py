"""The converter's sampling: no anti-alias filter, aperture jitter.

Responsible for `Sampler`, the stage that evaluates the input's band-limited
reconstruction at the converter's sampling instants: at ``t = k / R`` for a
new rate R without the low-pass filter a resampler puts before it
(``--anti-alias off``: content above R/2 folds back), and at instants
displaced by white Gaussian aperture jitter (``--jitter``). Not responsible
for ideal resampling (`adcsim.stages._resample`) or for where the stage sits
(``adcsim.run._adc``: after the ideal resampler for jitter alone).

Method. The reconstruction is the Whittaker-Shannon series of the input
truncated by a Kaiser window: ``x(t) = sum_n x[n] h(t - n)`` with t in input
samples, ``h(u) = sinc(u) w(u / K)``, K = `HALF_TAPS` samples each side, beta =
`BETA`. For a new rate R = L/M times the input's, output k lies at ``k M / L``:
its phase ``(k M) mod L`` picks one of L precomputed rows of taps (a
polyphase filter, as ``scipy.signal.upfirdn`` uses; evaluated here by numpy
on the rows each block needs, so that the stream keeps its state across
blocks). Measured error: a sine anywhere up to 0.9 of the input's Nyquist
comes out within 2e-5 of its amplitude of the exact ``sin`` at the new
instants (tests/unit/test_sampler.py; the kernel's response error is about
-98 dB there at every phase).

Jitter is first order: ``x(t + dt) = x(t) + dt x'(t)``, with ``x'`` from the
derivative of the same kernel (at the input's own instants, a Kaiser-windowed
band-limited differentiator ``(-1)**j / j``, applied by FFT convolution).
The neglected terms are of relative size ``(2 pi f sigma)**2``: for a sine
the error power of exact jittered sampling is ``1 - exp(-(2 pi f sigma)**2
/ 2)`` of its power, the first-order one ``(2 pi f sigma)**2 / 2``; they agree
within 0.1 dB while ``2 pi f sigma <= 0.3``. The stage refuses a jitter for
which that fails at the input's Nyquist (``sigma > 0.3 / (pi rate)``, 2.2 us at
44.1 kHz: a jitter-limited SNR of 10 dB at the band edge), and the
differentiator is within 0.001 dB of the ideal ``j omega`` up to 0.9 of
Nyquist (0.05 dB at 0.92, 2 dB at 0.96: content that close to Nyquist gets
less jitter than it should). All channels of a converter share its clock:
one jitter sequence for every channel, drawn from the stage's own branch of
the seed.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim._rate import check_rate
from adcsim.errors import AdcsimError
from adcsim.stages._chain import StreamInfo
from adcsim.stages._converter import MAX_JITTER_S, AdcFigures, stage_generators
from adcsim.stages._dither import check_seed

#: Taps each side of the reconstruction kernel (2 K per output sample).
HALF_TAPS = 32
#: Kaiser window beta: about 100 dB stop band with the 0.1 transition that
#: ends the pass band at 0.9 of Nyquist (Kaiser's formula, 0.1102 (A - 8.7)).
BETA = 10.0
#: Largest L of a rate ratio L/M in lowest terms: the table holds L rows of
#: 2 K taps (1024 rows cover 44.1/48/32/22.05/16/11.025/8 kHz among each other).
MAX_PHASES = 1024
#: First-order jitter is within 0.1 dB of exact while 2 pi f sigma stays below.
FIRST_ORDER_LIMIT = 0.3
#: Outputs computed at once: the gathered windows of a new rate take 2 K x
#: this x 8 bytes a channel; at the input's rate the derivative is one FFT
#: convolution of `FFT_CHUNK` frames. Chunks start at fixed output indices,
#: whatever the blocks, so the output does not depend on the block size bit
#: for bit (an FFT's rounding depends on its length).
CHUNK = 8192
#: (a 4096-point FFT a chunk: measured 4.5x faster than 131072 points here)
FFT_CHUNK = 4096 - 2 * HALF_TAPS + 1
#: Input frames kept for the report's aliased tones (about 1.5 s at 44.1 kHz).
ALIAS_FRAMES = 1 << 16


def kernel(u: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The windowed sinc ``h(u)`` and its derivative ``h'(u)``, u in input samples.

    Zero outside ``|u| < K``.

    Examples
    --------
    >>> h, d = kernel(np.array([0.0, 1.0, 0.5]))
    >>> h.round(6).tolist(), d.round(4).tolist()
    ([1.0, 0.0, 0.635883], [0.0, -0.9954, -1.2747])
    """
    u = np.asarray(u, dtype=np.float64)
    r = u / HALF_TAPS
    inside = np.abs(r) < 1.0
    root = np.sqrt(np.where(inside, 1.0 - r * r, 1.0))
    w = np.where(inside, np.i0(BETA * root) / np.i0(BETA), 0.0)
    # dw/du = I1(beta s) beta (-r / s) / (K I0(beta)), s = sqrt(1 - r^2), with
    # I1 = I0' by a central difference (error ~1e-10, far below the kernel's)
    h = 1e-5
    i1 = (np.i0(BETA * root + h) - np.i0(BETA * root - h)) / (2 * h)
    dw = np.where(inside, -i1 * BETA * r / (root * HALF_TAPS * np.i0(BETA)), 0.0)
    s = np.sinc(u)
    safe = np.where(u == 0.0, 1.0, u)
    ds = np.where(u == 0.0, 0.0, (np.cos(math.pi * u) - s) / safe)
    return s * w, ds * w + s * dw


class Sampler:
    """Chain stage sampling the input's reconstruction at the converter's instants.

    Parameters
    ----------
    out_rate : int
        The converter's rate, Hz; at the input's own rate the stage samples
        the input's instants (jitter alone).
    jitter : float >= 0
        RMS aperture jitter, seconds.
    seed : int >= 0
        The run's seed (the stage draws from its own branch, ``jitter``).

    Raises
    ------
    AdcsimError
        In `start`: a rate ratio whose lowest terms L/M have L above
        `MAX_PHASES`, or a jitter beyond first-order accuracy at that rate.

    Examples
    --------
    >>> s = Sampler(out_rate=16000)
    >>> info = s.start(StreamInfo(rate=48000, channels=1))
    >>> x = np.sin(2 * np.pi * 20000 * np.arange(4800) / 48000)[:, None]
    >>> y = np.concatenate([s.process(x), s.flush()])
    >>> y.shape  # 20 kHz folded to 4 kHz: 16000 - 20000 = -4000
    (1600, 1)
    >>> ref = np.sin(2 * np.pi * 20000 * np.arange(1600) / 16000)
    >>> bool(np.max(np.abs(y[100:-100, 0] - ref[100:-100])) < 1e-4)
    True
    """

    def __init__(self, *, out_rate: int, jitter: float = 0.0, seed: int = 0) -> None:
        self.out_rate = check_rate(out_rate, name="out_rate")
        if not 0.0 <= float(jitter) <= MAX_JITTER_S:
            raise AdcsimError(f"jitter={jitter!r} must be in [0, {MAX_JITTER_S:g}] s")
        self.jitter = float(jitter)
        self.seed = check_seed(seed)
        self.active = True
        self.counters: dict[str, int] = {}
        self.in_rate = 0
        self.up = self.down = 1
        self._channels = 0
        self._taps: NDArray[np.float64] = np.zeros((0, 0))
        self._slopes: NDArray[np.float64] = np.zeros((0, 0))
        self._chunk = CHUNK

    def start(self, info: StreamInfo) -> StreamInfo:
        """Design the polyphase rows for this ratio; check the jitter against it."""
        self.in_rate, self._channels = info.rate, info.channels
        g = math.gcd(self.out_rate, info.rate)
        self.up, self.down = self.out_rate // g, info.rate // g
        self.active = self.up != self.down or self.jitter > 0
        if not self.active:
            return info
        if self.up > MAX_PHASES:
            raise AdcsimError(
                f"--anti-alias off: {info.rate} Hz to {self.out_rate} Hz is the "
                f"ratio {self.up}/{self.down}; at most {MAX_PHASES} phases "
                "(a rate ratio with a smaller numerator) are supported"
            )
        limit = FIRST_ORDER_LIMIT / (math.pi * info.rate)
        if self.jitter > limit:
            raise AdcsimError(
                f"jitter={self.jitter:g} s is too large to evaluate at "
                f"{info.rate} Hz: at most {limit:.3g} s (2 pi f sigma <= "
                f"{FIRST_ORDER_LIMIT} at the Nyquist frequency keeps the "
                "first-order evaluation within 0.1 dB of the exact one)"
            )
        phase = np.arange(self.up)[:, None] / self.up
        offsets = np.arange(-HALF_TAPS + 1, HALF_TAPS + 1)[None, :]
        self._taps, self._slopes = kernel(phase - offsets)
        self._chunk = FFT_CHUNK if self.up == self.down else CHUNK
        self._spectra: dict[int, NDArray[np.complex128]] = {}
        self.reset()
        frames = None
        if info.frames is not None:
            frames = self._count(info.frames)
        return replace(
            info, rate=self.out_rate, bits=None, frames=frames, dtype="float64"
        )

    def _count(self, frames: int) -> int:
        """Outputs of ``frames`` inputs: round(frames R / in_rate), halves up.

        soxr's count, so that reference and signal branches end together.
        """
        return (2 * frames * self.up + self.down) // (2 * self.down)

    def reset(self) -> None:
        """Empty history (silence before the start), the jitter from its seed."""
        self._buffer = np.zeros((HALF_TAPS - 1, self._channels))
        self._first = -(HALF_TAPS - 1)  # input index of the buffer's first row
        self._frames = 0  # input frames seen
        self._next = 0  # next output index
        self._rng = stage_generators(self.seed, "jitter", 1)[0]
        self._slope_power = np.zeros(self._channels)
        self._jitter_power = np.zeros(self._channels)
        self._outputs = 0
        self._kept: list[NDArray[np.float64]] = []
        self._kept_frames = 0

    def process(self, block: NDArray[np.float64]) -> NDArray[np.float64]:
        """Append ``block``; return every output whose taps are all available."""
        if self._kept_frames < ALIAS_FRAMES:
            self._kept.append(block[: ALIAS_FRAMES - self._kept_frames].copy())
            self._kept_frames += self._kept[-1].shape[0]
        self._buffer = np.concatenate([self._buffer, block])
        self._frames += block.shape[0]
        # output k needs inputs up to (k M) // L + K; whole chunks only
        ready = (self._frames - HALF_TAPS) * self.up
        end = -(-ready // self.down) if ready > 0 else 0
        return self._emit(max(self._next, end // self._chunk * self._chunk))

    def flush(self) -> NDArray[np.float64]:
        """The last outputs, with silence after the end of the input."""
        self._buffer = np.concatenate(
            [self._buffer, np.zeros((HALF_TAPS, self._channels))]
        )
        return self._emit(max(self._next, self._count(self._frames)))

    def _emit(self, end: int) -> NDArray[np.float64]:
        out = np.empty((end - self._next, self._channels))
        for start in range(self._next, end, self._chunk):
            stop = min(end, start + self._chunk)
            out[start - self._next : stop - self._next] = self._outputs_of(start, stop)
        self._next = end
        # keep the inputs the next output needs
        drop = (end * self.down) // self.up - HALF_TAPS + 1 - self._first
        if drop > 0:
            self._buffer = self._buffer[drop:]
            self._first += drop
        return out

    def _outputs_of(self, start: int, stop: int) -> NDArray[np.float64]:
        k = np.arange(start, stop, dtype=np.int64)
        base = (k * self.down) // self.up
        phase = (k * self.down) % self.up
        lo = int(base[0]) - HALF_TAPS + 1 - self._first
        frames = stop - start
        slopes: NDArray[np.float64] | None
        if self.up == self.down:  # (active only with jitter)
            values = self._buffer[lo + HALF_TAPS - 1 : lo + HALF_TAPS - 1 + frames]
            slopes = self._differentiate(lo, frames)
        else:
            rows = (
                base[:, None] - self._first + np.arange(-HALF_TAPS + 1, HALF_TAPS + 1)
            )
            taps, slope_taps = self._taps[phase], self._slopes[phase]
            values = np.empty((frames, self._channels))
            slopes = np.empty((frames, self._channels)) if self.jitter else None
            for c in range(self._channels):
                windows = self._buffer[rows, c]
                values[:, c] = np.einsum("kj,kj->k", windows, taps)
                if slopes is not None:
                    slopes[:, c] = np.einsum("kj,kj->k", windows, slope_taps)
        if not self.jitter:
            return np.array(values)
        assert slopes is not None
        # dt in input samples; one clock for every channel
        dt = self._rng.standard_normal(frames) * (self.jitter * self.in_rate)
        step = slopes * dt[:, None]
        self._slope_power += np.einsum("kc,kc->c", slopes, slopes)
        self._jitter_power += np.einsum("kc,kc->c", step, step)
        self._outputs += frames
        return values + step

    def _differentiate(self, lo: int, frames: int) -> NDArray[np.float64]:
        """The derivative at ``frames`` input instants from row ``lo + K - 1`` on.

        The correlation with the phase-0 derivative row, by one FFT
        convolution (numpy's; scipy.signal took seconds to import).
        """
        taps = 2 * HALF_TAPS
        segment = self._buffer[lo : lo + frames + taps - 1]
        size = 1 << (segment.shape[0] - 1).bit_length()
        spectrum = self._spectra.get(size)
        if spectrum is None:
            # correlation = convolution with the row reversed
            spectrum = np.fft.rfft(self._slopes[0][::-1], size)[:, None]
            self._spectra[size] = spectrum
        product = np.fft.rfft(segment, size, axis=0) * spectrum
        full = np.fft.irfft(product, size, axis=0)
        out: NDArray[np.float64] = full[taps - 1 : taps - 1 + frames]
        return out

    def adc_entries(self, figures: AdcFigures) -> dict[str, dict[str, Any]]:
        """The ``anti_alias`` and ``jitter`` entries of the report's ``adc`` section."""
        entries: dict[str, dict[str, Any]] = {}
        if self.up != self.down:
            entries["anti_alias"] = self._alias_entry(figures)
        if self.jitter:
            entries["jitter"] = self._jitter_entry(figures)
        return entries

    def _jitter_entry(self, figures: AdcFigures) -> dict[str, Any]:
        n = max(self._outputs, 1)
        # x' per input sample -> per second
        slope_power = float(np.mean(self._slope_power)) / n * self.in_rate**2
        predicted_power = self.jitter**2 * slope_power
        realized = float(np.mean(self._jitter_power)) / n
        freqs = [f.freq_hz for f in figures.ref_fits if f is not None]
        snr = None
        if freqs:
            snr = -20.0 * math.log10(2 * math.pi * float(np.mean(freqs)) * self.jitter)
        return {
            "jitter_s": self.jitter,
            "evaluation": "first order, x + dt x' (band-limited derivative)",
            "clock": "one jitter sequence shared by all channels",
            "predicted_snr_db": snr,
            "measured_snr_db": figures.metrics.get("snr_db"),
            "predicted_noise_power_dbfs": _db(predicted_power),
            "realized_noise_power_dbfs": _db(realized),
            "mean_square_slope_per_s2": slope_power,
        }

    def _alias_entry(self, figures: AdcFigures) -> dict[str, Any]:
        return {
            "anti_alias": "off",
            "in_rate": self.in_rate,
            "out_rate": self.out_rate,
            "ratio": f"{self.up}/{self.down}",
            "aliased_tones": aliased_tones(
                np.concatenate(self._kept) if self._kept else np.zeros((0, 0)),
                in_rate=self.in_rate,
                out_rate=self.out_rate,
                out=figures.out_window,
            ),
        }


def _db(power: float) -> float | None:
    return 10.0 * math.log10(power) if power > 0 else None


def fold(freq_hz: float, rate: float) -> float:
    """Where a component at ``freq_hz`` lands when sampled at ``rate``.

    Examples
    --------
    >>> fold(12000, 16000), fold(20000, 16000), fold(3000, 16000)
    (4000.0, 4000.0, 3000.0)
    """
    f = math.fmod(float(freq_hz), float(rate))
    return float(rate - f) if f > rate / 2 else f


#: At most this many aliased components are reported (the strongest).
MAX_ALIASES = 5
#: Components weaker than this below the strongest one are not reported.
ALIAS_RANGE_DB = 80.0


def aliased_tones(
    x: NDArray[np.float64],
    *,
    in_rate: int,
    out_rate: int,
    out: NDArray[np.float64] | None,
) -> list[dict[str, Any]]:
    """The strongest input components above ``out_rate / 2`` and where they land.

    Peaks of the Hann-windowed spectrum of each channel of ``x`` (the input
    before sampling) above the new Nyquist, at most `MAX_ALIASES` within
    `ALIAS_RANGE_DB` of the strongest; each refined by parabolic
    interpolation of the log spectrum and measured by a three-parameter sine
    fit: its level in the input, and in ``out`` (the output, first frames) at
    the folded frequency. Levels are peak amplitudes in dBFS (0 dBFS: a
    full-scale sine).
    """
    from adcsim.metrics._sinefit import fit_sine

    found: list[dict[str, Any]] = []
    if x.shape[0] < 64:
        return found
    n = x.shape[0]
    window = np.hanning(n)
    freqs = np.fft.rfftfreq(n, 1.0 / in_rate)
    for c in range(x.shape[1]):
        power = np.abs(np.fft.rfft(x[:, c] * window)) ** 2
        above = freqs > out_rate / 2
        peaks = (
            np.flatnonzero(
                above[1:-1] & (power[1:-1] > power[:-2]) & (power[1:-1] >= power[2:])
            )
            + 1
        )
        if not peaks.size:
            continue
        top = peaks[np.argsort(power[peaks])[::-1][:MAX_ALIASES]]
        floor = power[top[0]] * 10 ** (-ALIAS_RANGE_DB / 10)
        for i in top:
            if power[i] < floor or power[i] <= 0:
                continue
            a, b, g = np.log(power[i - 1 : i + 2] + 1e-300)
            shift = 0.5 * (a - g) / (a - 2 * b + g) if a - 2 * b + g else 0.0
            f_in = float((i + shift) * in_rate / n)
            if not 0 < f_in < in_rate / 2:
                continue
            level = fit_sine(x[:, c], in_rate, freq_hz=f_in).amplitude
            f_out = fold(f_in, out_rate)
            measured = None
            if out is not None and out.shape[0] >= 8 and 0 < f_out < out_rate / 2:
                measured = fit_sine(out[:, c], out_rate, freq_hz=f_out).amplitude
            found.append(
                {
                    "channel": c,
                    "input_hz": f_in,
                    "input_level_dbfs": _amp_db(level),
                    "folded_hz": f_out,
                    "measured_level_dbfs": _amp_db(measured),
                }
            )
    return found


def _amp_db(amplitude: float | None) -> float | None:
    if amplitude is None or not amplitude > 0:
        return None
    return 20.0 * math.log10(amplitude)

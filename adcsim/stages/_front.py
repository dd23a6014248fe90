"""The converter's static input errors: gain and offset error, input noise.

Responsible for `GainOffsetStage` (``--offset-lsb``, ``--gain-error-lsb``)
and `NoiseStage` (``--noise-lsb``), both memoryless, both in LSB of the
chosen depth, and for their entries of the report's ``adc`` section. Not
responsible for sampling or jitter (``adcsim.stages._sampler``) or for the
order of the stages (``adcsim.run._adc``).

Conventions (MathWorks Mixed-Signal Blockset, "Measuring Offset and Gain
Errors in ADC": 1 LSB = FSR / 2**N; the gain error is the deviation of the
top code's centre after the offset is corrected): for the bipolar full
scale [-1, 1) of adcsim, FSR = 2 and 1 LSB = 2 / 2**N; the offset error O is
the shift at zero input and the gain error G the change of the full-scale
range, so the input becomes ``(1 + G / 2**N) x + O * LSB``: correcting the
offset at the bottom code leaves the top code G LSB from the ideal one.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from adcsim.quantizers._base import check_bits
from adcsim.stages._chain import StreamInfo
from adcsim.stages._converter import AdcFigures, stage_generators
from adcsim.stages._dither import NoiseSource, check_seed

if TYPE_CHECKING:
    from adcsim.stages._converter import ConverterConfig


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


class GainOffsetStage:
    """Chain stage applying a gain error and an offset, both in LSB.

    Parameters
    ----------
    bits : int
        Depth N of the quantizer that follows (1 LSB = 2 / 2**N).
    offset_lsb : float
        Offset O at zero input, LSB.
    gain_error_lsb : float
        Change G of the full-scale range, LSB: the slope is 1 + G / 2**N.

    Examples
    --------
    >>> stage = GainOffsetStage(bits=8, offset_lsb=1.0, gain_error_lsb=2.56)
    >>> _ = stage.start(StreamInfo(rate=8000, channels=1))
    >>> stage.process(np.array([[0.0], [0.5]])).ravel().round(6).tolist()
    [0.007812, 0.512812]
    """

    def __init__(
        self, *, bits: int, offset_lsb: float = 0.0, gain_error_lsb: float = 0.0
    ) -> None:
        self.bits = check_bits(bits)
        self.offset_lsb, self.gain_error_lsb = float(offset_lsb), float(gain_error_lsb)
        self.lsb = 2.0 / 2.0**self.bits
        self.gain = 1.0 + self.gain_error_lsb / 2.0**self.bits
        self.offset = self.offset_lsb * self.lsb
        self.active = bool(self.offset_lsb or self.gain_error_lsb)
        self.counters: dict[str, int] = {}
        self._channels = 0

    def start(self, info: StreamInfo) -> StreamInfo:
        """Nothing to allocate: the stream passes with its rate and length."""
        self._channels = info.channels
        return info

    def process(self, block: NDArray[np.float64]) -> NDArray[np.float64]:
        """``gain * block + offset`` (a new array)."""
        out: NDArray[np.float64] = block * self.gain + self.offset
        return out

    def flush(self) -> NDArray[np.float64]:
        """Nothing is buffered: an empty block."""
        return np.zeros((0, self._channels))

    def reset(self) -> None:
        """Memoryless: nothing to reset."""

    def adc_entry(self, figures: AdcFigures) -> dict[str, Any]:
        """Parameters, predicted and measured offset and gain error (LSB).

        Measured by the four-parameter sine fits of reference and output
        (offset: difference of their offsets; gain: ratio of their
        amplitudes) where every channel is tonal, else by the least-squares
        line from reference to output; averaged over the channels.
        """
        scale = 2.0**figures.bits
        offsets, gains = [], []
        pairs = list(zip(figures.ref_fits, figures.out_fits, strict=True))
        if pairs and all(r is not None and o is not None for r, o in pairs):
            method = "sine fit"
            for ref, out in pairs:
                assert ref is not None and out is not None
                offsets.append((out.offset - ref.offset) / figures.lsb)
                gains.append((out.amplitude / ref.amplitude - 1.0) * scale)
        else:
            method = "line fit"
            for line in figures.regressions:
                if line is not None:
                    offsets.append(line[0] / figures.lsb)
                    gains.append((line[1] - 1.0) * scale)
        return {
            "offset_lsb": self.offset_lsb,
            "gain_error_lsb": self.gain_error_lsb,
            "predicted_offset_lsb": self.offset_lsb,
            "predicted_gain_error_lsb": self.gain_error_lsb,
            "measured_offset_lsb": _mean(offsets),
            "measured_gain_error_lsb": _mean(gains),
            "measured_by": method,
        }


class NoiseStage:
    """Chain stage adding white Gaussian input-referred noise of RMS X LSB.

    Parameters
    ----------
    bits : int
        Depth N of the quantizer that follows (1 LSB = 2 / 2**N).
    noise_lsb : float >= 0
        RMS of the noise, LSB.
    seed : int >= 0
        The run's seed; the stage draws from its own branch of it
        (`adcsim.stages._converter.stage_generators`, name ``noise``).

    Examples
    --------
    >>> stage = NoiseStage(bits=8, noise_lsb=1.0, seed=0)
    >>> _ = stage.start(StreamInfo(rate=8000, channels=1))
    >>> y = stage.process(np.zeros((20000, 1)))
    >>> round(float(y.std()) * 128, 1)
    1.0
    """

    name = "noise"

    def __init__(self, *, bits: int, noise_lsb: float, seed: int = 0) -> None:
        self.bits = check_bits(bits)
        self.noise_lsb = float(noise_lsb)
        self.seed = check_seed(seed)
        self.sigma = self.noise_lsb * 2.0 / 2.0**self.bits
        self.active = self.noise_lsb > 0
        self.counters: dict[str, int] = {}
        self._channels = 0
        self._source = NoiseSource("gaussian", step=self.sigma)

    def start(self, info: StreamInfo) -> StreamInfo:
        """Spawn one generator per channel; the stream passes unchanged."""
        self._channels = info.channels
        self.reset()
        return info

    def process(self, block: NDArray[np.float64]) -> NDArray[np.float64]:
        """``block`` plus fresh noise (a new array).

        Drawn by the dither's `adcsim.stages._dither.NoiseSource` (the next
        block's noise on threads meanwhile), the same draws in the same order.
        """
        out = np.array(block, dtype=np.float64)
        for channel, noise in enumerate(self._source.draw(block.shape[0])):
            out[:, channel] += noise
        return out

    def flush(self) -> NDArray[np.float64]:
        """Nothing is buffered: an empty block (the drawing threads end)."""
        self._source.close()
        return np.zeros((0, self._channels))

    def reset(self) -> None:
        """Restart every channel's noise from the seed."""
        self._source.restart(stage_generators(self.seed, self.name, self._channels))

    def adc_entry(self, figures: AdcFigures) -> dict[str, Any]:
        """Parameters, predicted and measured noise, and the tone's SINAD.

        Measured: the RMS of what the least-squares line from reference to
        output leaves (so offset and gain error do not count), less the
        quantization error power ``figures.quantization_lsb2`` of a uniform
        quantizer (1/12 LSB**2, plus the dither's), averaged over channels;
        None where the line leaves less than that. The SINAD of a tone is
        predicted as ``10 log10((A**2 / 2) / ((X**2 + q) LSB**2))`` with A the
        reference's amplitude; with A at full scale and no dither this is
        6.02 N + 1.76 - 10 log10(12 (1/12 + X**2)).
        """
        q = figures.quantization_lsb2
        measured = []
        for residual in figures.residual_powers:
            if residual is not None:
                measured.append(residual / figures.lsb**2 - q)
        measured_rms = _mean(measured)
        amplitudes = [f.amplitude for f in figures.ref_fits if f is not None]
        sinad = None
        if amplitudes:
            signal = float(np.mean(np.square(amplitudes))) / 2.0
            sinad = 10.0 * math.log10(
                signal / ((self.noise_lsb**2 + q) * figures.lsb**2)
            )
        return {
            "noise_lsb": self.noise_lsb,
            "predicted_noise_rms_lsb": self.noise_lsb,
            "measured_noise_rms_lsb": (
                math.sqrt(measured_rms)
                if measured_rms is not None and measured_rms > 0
                else None
            ),
            "predicted_sinad_db": sinad,
            "measured_sinad_db": figures.metrics.get("sinad_db"),
        }


def static_stages(
    converter: ConverterConfig, *, bits: int, seed: int
) -> list[tuple[str, GainOffsetStage | NoiseStage]]:
    """The stages of the options that are set, named, in chain order.

    Gain and offset first, then the noise (the converter's order); an ideal
    converter gives none.

    Examples
    --------
    >>> from adcsim.stages._converter import ConverterConfig
    >>> c = ConverterConfig(noise_lsb=0.5, offset_lsb=1.0)
    >>> [name for name, _ in static_stages(c, bits=8, seed=0)]
    ['gain_offset', 'noise']
    """
    named: list[tuple[str, GainOffsetStage | NoiseStage]] = []
    if converter.offset_lsb or converter.gain_error_lsb:
        stage = GainOffsetStage(
            bits=bits,
            offset_lsb=converter.offset_lsb,
            gain_error_lsb=converter.gain_error_lsb,
        )
        named.append(("gain_offset", stage))
    if converter.noise_lsb:
        noise = NoiseStage(bits=bits, noise_lsb=converter.noise_lsb, seed=seed)
        named.append(("noise", noise))
    return named

"""A static transfer curve in the chain: its quantizer and its quantize stage.

Responsible for `TransferQuantizer` (a `TransferCurve` behind the
`Quantizer` interface, so that `QuantizeStage` applies it with its int16
table, int32 and float paths and its overload count), `TransferStage` (that
stage, with the curve's entry of the report's ``adc`` section: its static
figures and the harmonic its smooth INL predicts, against the measured one)
and `predicted_harmonic_dbc`. Not responsible for the curve itself, its
design or its file (``adcsim.quantizers._transfer``), nor for the compiled
search (``adcsim.kernels._transfer``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.quantizers._base import Quantizer
from adcsim.quantizers._stage import QuantizeStage
from adcsim.quantizers._transfer import _S_PEAK, TransferCurve


class TransferQuantizer(Quantizer):
    """The quantizer of a `TransferCurve`: its codes, the ideal levels.

    ``encode`` counts the transitions at or below each sample (as
    `TransferCurve.encode`, compiled: ``adcsim.kernels._transfer``); a sample
    below ``T[1] - D`` or at or above ``T[2**N-1] + D`` (beyond the end codes'
    nominal width, ``D = 2 / 2**N``) counts as overload, which for the ideal
    curve is exactly `UniformQuantizer`'s count. ``decode`` gives code ``k``
    the ideal level ``k D``.

    Parameters
    ----------
    curve : TransferCurve

    Examples
    --------
    >>> from adcsim.quantizers._transfer import ideal_transitions
    >>> q = TransferQuantizer(TransferCurve([-0.75, -0.25, 0.5]))
    >>> q.encode_counting(np.array([-1.3, 0.2, 0.6, 1.6]))
    (array([-2,  0,  1,  1], dtype=int32), 2)
    >>> q.decode([-2, 1])
    array([-1. ,  0.5])
    """

    name = "transfer"
    summary = "a static transfer curve (transition levels; issue 13)"

    def __init__(self, curve: TransferCurve) -> None:
        super().__init__(bits=curve.bits)
        self.curve = curve
        step = curve.step
        # a writable copy: the compiled search takes plain (not read-only) arrays
        t = self._transitions = np.array(curve.transitions)
        self._under = float(t[0]) - step
        self._over = float(t[-1]) + step

    @property
    def step(self) -> float:
        """The ideal step D = 2 / 2**N."""
        return self.curve.step

    @property
    def grid_bits(self) -> int:
        """The levels are the N-bit grid's."""
        return self.bits

    @property
    def codebook(self) -> NDArray[np.float64]:
        """The ideal levels, in code order."""
        return self.curve.codebook

    def _raw_codes(self, x: NDArray[np.floating[Any]]) -> NDArray[np.floating[Any]]:
        return self.encode_counting(x)[0].astype(np.float64)

    def encode_counting(self, x: ArrayLike) -> tuple[NDArray[np.int32], int]:
        """Codes of ``x`` (any shape) and the number of overloaded samples."""
        from adcsim.kernels._transfer import count_transitions

        samples = np.asarray(x, dtype=np.float64)
        # a (frames, channels) block goes through whole; anything else as a column
        shaped = samples if samples.ndim == 2 else samples.reshape(-1, 1)
        flat = np.ascontiguousarray(shaped)
        if not flat.flags.writeable:
            flat = flat.copy()
        codes, clipped = count_transitions(
            flat, self._transitions, under=self._under, over=self._over
        )
        return codes.reshape(samples.shape), int(clipped.sum())

    def encode_int32(
        self, x: NDArray[np.int32]
    ) -> tuple[NDArray[np.int32], NDArray[np.int64]]:
        """Codes of int32 PCM ``(frames, channels)`` and each channel's overloads.

        The whole block in one pass of the kernel (``x / 2**31`` is exact in
        float64), rather than one channel at a time.
        """
        from adcsim.kernels._transfer import count_transitions

        samples = np.ascontiguousarray(np.multiply(x, 2.0**-31, dtype=np.float64))
        return count_transitions(
            samples, self._transitions, under=self._under, over=self._over
        )

    def __repr__(self) -> str:
        return f"TransferQuantizer(bits={self.bits})"


def predicted_harmonic_dbc(
    *, bits: int, inl_lsb: float, inl_shape: str, amplitude: float
) -> tuple[int, float | None]:
    """The harmonic a smooth INL makes of a sine, and its level, dBc.

    Parameters
    ----------
    bits : int
        N; the LSB is ``D = 2 / 2**N``.
    inl_lsb : float
        The peak of the smooth endpoint INL (`smooth_inl_lsb`), LSB.
    inl_shape : {'bow', 's'}
    amplitude : float
        The sine's peak A, full scale.

    Returns
    -------
    (order, level)
        2 and ``20 log10(a2 A / 2)`` for ``bow``, 3 and ``20 log10(a3 A^2 /
        4)`` for ``s``; the level is None when the INL is zero.

    Notes
    -----
    A transition moved up by ``d`` LSB delays the code change, so the
    converter's smoothed response is ``y(x) = x - D INL(x)`` with the INL
    a polynomial in ``u = (x + D/2) / (1 - D)`` (the ideal transitions mapped
    onto [-1, 1]): ``bow`` is ``p (1 - u^2)``, so the ``x^2`` coefficient is
    ``a2 = p D / (1 - D)^2``, and ``a2 (A sin wt)^2`` holds ``a2 A^2 / 2 cos
    2wt``: HD2 = a2 A / 2 relative to A (issue 13). ``s`` is ``p (u - u^3) /
    (2 / (3 sqrt 3))``: ``a3 = p D / ((2 / (3 sqrt 3)) (1 - D)^3)``, and
    ``sin^3 = (3 sin - sin 3)/4`` gives HD3 = a3 A^2 / 4.

    Examples
    --------
    >>> order, level = predicted_harmonic_dbc(
    ...     bits=12, inl_lsb=2.0, inl_shape="bow", amplitude=0.9)
    >>> order, round(level, 1)
    (2, -67.1)
    """
    step = 2.0 / 2.0**bits
    if inl_shape == "bow":
        a2 = inl_lsb * step / (1.0 - step) ** 2
        ratio = a2 * amplitude / 2.0
        order = 2
    else:
        a3 = inl_lsb * step / (_S_PEAK * (1.0 - step) ** 3)
        ratio = a3 * amplitude**2 / 4.0
        order = 3
    return order, 20.0 * math.log10(abs(ratio)) if ratio else None


class TransferStage(QuantizeStage):
    """`QuantizeStage` of a static transfer curve, with its ``adc`` entry.

    Parameters
    ----------
    curve : TransferCurve
    inl_lsb, inl_shape, dnl_lsb, transfer
        The options the curve came from, for the report (``transfer`` the
        file it was read from, if any).
    quantizer : TransferQuantizer, optional
        The curve's quantizer, when the run already has it (its int16 table
        is then built once).

    Examples
    --------
    >>> from adcsim.stages._chain import StreamInfo
    >>> stage = TransferStage(TransferCurve([-0.75, -0.25, 0.5]))
    >>> stage.start(StreamInfo(rate=8000, channels=1)).bits
    2
    >>> stage.process(np.array([[0.3], [0.6]])).ravel().tolist()
    [0, 1]
    """

    def __init__(
        self,
        curve: TransferCurve,
        *,
        inl_lsb: float = 0.0,
        inl_shape: str = "bow",
        dnl_lsb: float = 0.0,
        transfer: str | None = None,
        quantizer: TransferQuantizer | None = None,
    ) -> None:
        super().__init__(
            quantizer if quantizer is not None else TransferQuantizer(curve)
        )
        self.curve = curve
        self.inl_lsb = inl_lsb
        self.inl_shape = inl_shape
        self.dnl_lsb = dnl_lsb
        self.transfer = transfer

    def adc_entry(self, figures: Any) -> dict[str, Any]:
        """Parameters, the realized curve's static figures, predicted and measured HD.

        ``figures`` is the run's `adcsim.stages._converter.AdcFigures`; the
        harmonic is measured on the output of every tonal channel
        (``out_harmonics_db``) and averaged in dB; None where no channel is
        tonal or the INL is not a smooth ``--inl-lsb`` one.
        """
        lin = self.curve.linearity()
        entry: dict[str, Any] = {}
        if self.transfer is not None:
            entry["transfer"] = self.transfer
        else:
            entry["inl_lsb"] = self.inl_lsb
            entry["inl_shape"] = self.inl_shape
            entry["dnl_lsb"] = self.dnl_lsb
        entry.update(
            {
                "max_abs_dnl_lsb": lin.max_abs_dnl_lsb,
                "max_abs_inl_lsb": lin.max_abs_inl_lsb,
                "rms_dnl_lsb": lin.rms_dnl_lsb,
                "missing_code_count": len(lin.missing_codes),
                "missing_codes": list(lin.missing_codes),
            }
        )
        order = 3 if self.inl_shape == "s" else 2
        amplitudes = [f.amplitude for f in figures.ref_fits if f is not None]
        predicted = None
        if self.transfer is None and self.inl_lsb and amplitudes:
            amplitude = float(np.sqrt(np.mean(np.square(amplitudes))))
            order, predicted = predicted_harmonic_dbc(
                bits=self.curve.bits,
                inl_lsb=self.inl_lsb,
                inl_shape=self.inl_shape,
                amplitude=amplitude,
            )
        measured = [
            h[order]
            for h in figures.out_harmonics_db
            if h is not None and order in h and math.isfinite(h[order])
        ]
        entry[f"predicted_hd{order}_dbc"] = predicted
        entry[f"measured_hd{order}_dbc"] = (
            float(np.mean(measured)) if measured and predicted is not None else None
        )
        return entry


__all__ = [
    "TransferQuantizer",
    "TransferStage",
    "predicted_harmonic_dbc",
]

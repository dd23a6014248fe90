"""A static transfer curve: an N-bit quantizer defined by its transition levels.

A real converter's static behaviour is its 2**N - 1 code transition levels
``T[1] .. T[2**N - 1]`` (IEEE Std 1241 terms, full-scale units): the output
code index is the number of transitions at or below the input. This module
holds that model (`TransferCurve`), the curves issue 13 names (ideal mid-tread,
a smooth endpoint INL of a given peak, ``bow`` or ``s``, random transition-level
errors: `design_transfer`), the ``--transfer FILE`` JSON form (`load_transfer`,
`save_transfer`), and the static figures of a curve computed from its
transitions (`linearity`: DNL and INL per code, missing codes, maxima, RMS),
which `adcsim.analysis._histogram` also uses on the levels it measures.

The chain applies a curve through `adcsim.quantizers._transfer_scheme`
(``--inl-lsb``, ``--inl-shape``, ``--dnl-lsb``, ``--transfer``,
``--transfer-out``; placed by ``adcsim.run._adc``). This module computes no
dynamic figures (SINAD, HD2: those are `adcsim.metrics`).
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError

#: Largest depth of a transfer curve (2**16 - 1 transitions; issue 13's bound).
MAX_TRANSFER_BITS = 16
INL_SHAPES = ("bow", "s")
#: Peak of u (1 - u**2) on [-1, 1] is 2 / (3 sqrt 3), at u = 1 / sqrt 3.
_S_PEAK = 2.0 / (3.0 * math.sqrt(3.0))


def check_transfer_bits(bits: object) -> int:
    """Return ``bits`` if it is an integer in [2, 16], else raise `AdcsimError`.

    Two bits is the least with an inner code (a code with two transitions),
    which DNL and INL need.

    Examples
    --------
    >>> check_transfer_bits(12)
    12
    """
    if (
        isinstance(bits, bool)
        or not isinstance(bits, (int, np.integer))
        or not 2 <= bits <= MAX_TRANSFER_BITS
    ):
        raise AdcsimError(
            f"transfer: bits={bits!r} must be an integer in [2, {MAX_TRANSFER_BITS}]"
        )
    return int(bits)


def ideal_transitions(bits: int) -> NDArray[np.float64]:
    """The transitions of the ideal N-bit mid-tread grid, full scale.

    ``T[k] = (k - 2**(N-1) - 1/2) * 2 / 2**N`` for ``k = 1 .. 2**N - 1``: the
    midpoints between the levels ``j * 2 / 2**N`` of `UniformQuantizer`.

    Examples
    --------
    >>> ideal_transitions(2)
    array([-0.75, -0.25,  0.25])
    """
    levels = 1 << check_transfer_bits(bits)
    k = np.arange(1, levels, dtype=np.float64)
    return (k - levels / 2 - 0.5) * (2.0 / levels)


def smooth_inl_lsb(
    bits: int, *, peak_lsb: float, shape: Literal["bow", "s"] = "bow"
) -> NDArray[np.float64]:
    """A smooth endpoint INL per transition, LSB, zero at the first and last.

    With ``u`` the ideal transition level mapped linearly onto [-1, 1]
    (``u = -1`` at ``T[1]``, ``u = 1`` at ``T[2**N-1]``), ``bow`` is
    ``peak (1 - u**2)`` (second order, peak at mid-scale) and ``s`` is
    ``peak u (1 - u**2) / (2 / (3 sqrt 3))`` (third order, odd, extremes
    ``+-peak`` at ``u = +-1 / sqrt 3``).

    Parameters
    ----------
    bits : int in [2, 16]
    peak_lsb : float
        Signed peak of the INL; a positive bow moves the middle transitions up.
    shape : {'bow', 's'}

    Examples
    --------
    >>> smooth_inl_lsb(2, peak_lsb=1.0)
    array([0., 1., 0.])
    """
    if shape not in INL_SHAPES:
        raise AdcsimError(
            f"transfer: inl_shape={shape!r} is not one of: {', '.join(INL_SHAPES)}"
        )
    peak = _finite("inl_lsb", peak_lsb)
    ideal = ideal_transitions(bits)
    u = (ideal - (ideal[0] + ideal[-1]) / 2) / ((ideal[-1] - ideal[0]) / 2)
    if shape == "bow":
        return peak * (1.0 - u * u)
    return peak * u * (1.0 - u * u) / _S_PEAK


def _finite(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(
        value, (int, float, np.integer, np.floating)
    ):
        raise AdcsimError(f"transfer: {name}={value!r} must be a finite number")
    number = float(value)
    if not math.isfinite(number):
        raise AdcsimError(f"transfer: {name}={value!r} must be a finite number")
    return number


@dataclass(frozen=True)
class Linearity:
    """The static figures of a transfer curve (terminal based, IEEE Std 1241).

    Every per-code array has ``2**N`` entries indexed by the code index
    ``0 .. 2**N - 1`` (code ``k - 2**(N-1)`` in two's complement); NaN where a
    figure does not exist (DNL of the two end codes, which have one transition
    each; INL of code 0, which has no lower transition).

    Attributes
    ----------
    bits : int
    dnl_lsb : ndarray
        ``W[k] / Q - 1``: code width over the average width
        ``Q = (T[2**N-1] - T[1]) / (2**N - 2)``.
    inl_lsb : ndarray
        Endpoint INL at each code's lower transition, ``(T[k] - T[1]) / Q -
        (k - 1)``: zero at ``k = 1`` and ``k = 2**N - 1``.
    inl_best_fit_lsb : ndarray
        The same against the least-squares line through all transitions.
    missing_codes : tuple of int
        Code indices whose width is zero (never output).
    lsb_fs : float
        ``Q`` in full-scale units (ideal: ``2 / 2**N``).
    """

    bits: int
    dnl_lsb: NDArray[np.float64]
    inl_lsb: NDArray[np.float64]
    inl_best_fit_lsb: NDArray[np.float64]
    missing_codes: tuple[int, ...]
    lsb_fs: float

    @property
    def max_abs_dnl_lsb(self) -> float:
        """Largest |DNL| over the inner codes."""
        return float(np.nanmax(np.abs(self.dnl_lsb)))

    @property
    def max_abs_inl_lsb(self) -> float:
        """Largest |endpoint INL|."""
        return float(np.nanmax(np.abs(self.inl_lsb)))

    @property
    def max_abs_inl_best_fit_lsb(self) -> float:
        """Largest |best-fit INL|."""
        return float(np.nanmax(np.abs(self.inl_best_fit_lsb)))

    @property
    def rms_dnl_lsb(self) -> float:
        """RMS of the DNL over the inner codes."""
        inner = self.dnl_lsb[1:-1]
        return float(np.sqrt(np.mean(inner * inner)))

    def summary(self) -> dict[str, Any]:
        """The scalar figures and the missing codes, JSON-ready, in stable order.

        Examples
        --------
        >>> linearity(ideal_transitions(3)).summary()["max_abs_dnl_lsb"]
        0.0
        """
        return {
            "bits": self.bits,
            "lsb_fs": self.lsb_fs,
            "max_abs_dnl_lsb": self.max_abs_dnl_lsb,
            "max_abs_inl_lsb": self.max_abs_inl_lsb,
            "max_abs_inl_best_fit_lsb": self.max_abs_inl_best_fit_lsb,
            "rms_dnl_lsb": self.rms_dnl_lsb,
            "missing_codes": list(self.missing_codes),
        }


def linearity(transitions: ArrayLike) -> Linearity:
    """DNL, INL (endpoint and best fit) and missing codes from transition levels.

    Parameters
    ----------
    transitions : array_like, 2**N - 1 values, non-decreasing
        ``T[1] .. T[2**N - 1]`` in any unit (full scale here).

    Returns
    -------
    Linearity

    Raises
    ------
    AdcsimError
        Not ``2**N - 1`` values for an N in [2, 16], not finite, decreasing
        somewhere, or all equal.

    Notes
    -----
    The terminal-based definitions of IEEE Std 1241: the code width
    ``W[k] = T[k+1] - T[k]`` for the inner codes ``k = 1 .. 2**N - 2``, the
    average width ``Q`` from the two end transitions, ``DNL[k] = W[k]/Q - 1``
    and ``INL[k] = (T[k] - T[1])/Q - (k - 1)``, the running sum of the DNL
    (gain and offset errors do not show). The best-fit INL uses the line
    ``a + b k`` fitted to all ``T[k]`` by least squares, in units of ``b``. A
    code of width zero is missing (its DNL is exactly -1).

    Examples
    --------
    >>> lin = linearity([-0.75, -0.25, -0.25, 0.25, 0.5, 0.5, 0.75])
    >>> lin.dnl_lsb
    array([nan,  1., -1.,  1.,  0., -1.,  0., nan])
    >>> lin.missing_codes
    (2, 5)
    >>> lin.inl_lsb[1:]
    array([0., 1., 0., 1., 1., 0., 0.])
    """
    t = _check_transitions(transitions)
    levels = t.size + 1
    q = (t[-1] - t[0]) / (levels - 2)
    if not q > 0:
        raise AdcsimError("transfer: all transitions are equal; no code has a width")
    k = np.arange(1, levels, dtype=np.float64)
    dnl = np.full(levels, np.nan)
    widths = np.diff(t)
    dnl[1:-1] = widths / q - 1.0
    inl = np.full(levels, np.nan)
    inl[1:] = (t - t[0]) / q - (k - 1.0)
    # Least squares on centred k: better conditioned than np.polyfit on 1..65535.
    kc = k - k.mean()
    slope = float(np.dot(kc, t - t.mean()) / np.dot(kc, kc))
    fit = t.mean() + slope * kc
    best = np.full(levels, np.nan)
    best[1:] = (t - fit) / slope
    missing = tuple(int(c) for c in np.flatnonzero(widths <= 0) + 1)
    return Linearity(levels.bit_length() - 1, dnl, inl, best, missing, float(q))


def _check_transitions(transitions: ArrayLike) -> NDArray[np.float64]:
    """float64 copy of ``transitions`` after the checks `TransferCurve` states."""
    try:
        t = np.array(transitions, dtype=np.float64)
    except (TypeError, ValueError):
        raise AdcsimError("transfer: transitions must be a list of numbers") from None
    if t.ndim != 1:
        raise AdcsimError(
            f"transfer: transitions must be a flat list, not of shape {t.shape}"
        )
    levels = t.size + 1
    bits = levels.bit_length() - 1
    if levels & (levels - 1) or not 2 <= bits <= MAX_TRANSFER_BITS:
        raise AdcsimError(
            f"transfer: {t.size} transitions is not 2**N - 1 for an N in "
            f"[2, {MAX_TRANSFER_BITS}]"
        )
    bad = np.flatnonzero(~np.isfinite(t))
    if bad.size:
        raise AdcsimError(
            f"transfer: transition T[{bad[0] + 1}]={float(t[bad[0]])!r} is not finite"
        )
    down = np.flatnonzero(np.diff(t) < 0)
    if down.size:
        k = int(down[0]) + 1
        raise AdcsimError(
            f"transfer: transitions must be non-decreasing, but T[{k + 1}]="
            f"{float(t[k])!r} < T[{k}]={float(t[k - 1])!r}"
        )
    return t


class TransferCurve:
    """A memoryless N-bit quantizer given by its transition levels.

    ``encode(x)`` is the number of transitions at or below ``x``
    (``np.searchsorted(T, x, side="right")``) minus ``2**(N-1)``: the N-bit
    two's complement code, as `adcsim.quantizers.UniformQuantizer` returns;
    ``decode`` gives each code its ideal level ``k * 2 / 2**N`` (what the
    digital side of a converter assumes). The ideal curve encodes exactly as
    `UniformQuantizer` except at inputs exactly on a transition (here the upper
    code, there round half to even).

    Parameters
    ----------
    transitions : array_like of float, 2**N - 1 values, N in [2, 16]
        ``T[1] .. T[2**N - 1]``, full scale, finite and non-decreasing (equal
        neighbours make a missing code).

    Raises
    ------
    AdcsimError
        Wrong length, non-finite or decreasing transitions.

    See Also
    --------
    design_transfer : the curves issue 13 names.
    load_transfer, save_transfer : the JSON form.

    Examples
    --------
    >>> curve = TransferCurve([-0.75, -0.25, 0.25])
    >>> curve.encode([-0.8, -0.25, 0.1, 0.9])
    array([-2,  0,  0,  1], dtype=int32)
    >>> curve.decode([-2, 1])
    array([-1. ,  0.5])
    """

    def __init__(self, transitions: ArrayLike) -> None:
        self._t = _check_transitions(transitions)
        self._t.flags.writeable = False
        self.levels = self._t.size + 1
        self.bits = self.levels.bit_length() - 1

    @property
    def transitions(self) -> NDArray[np.float64]:
        """``T[1] .. T[2**N - 1]`` (read-only)."""
        return self._t

    @property
    def step(self) -> float:
        """The ideal step ``D = 2 / 2**N``."""
        return 2.0 / self.levels

    @property
    def codebook(self) -> NDArray[np.float64]:
        """The ideal level of every code, in code order."""
        half = self.levels // 2
        return np.arange(-half, half, dtype=np.float64) * self.step

    def encode(self, x: ArrayLike) -> NDArray[np.int32]:
        """Two's complement codes: transitions at or below ``x``, less 2**(N-1).

        See Also
        --------
        decode : the inverse, from codes to ideal levels.
        """
        index = np.searchsorted(self._t, np.asarray(x, dtype=np.float64), "right")
        return (index - self.levels // 2).astype(np.int32)

    def decode(self, codes: ArrayLike) -> NDArray[np.float64]:
        """The ideal level ``k * 2 / 2**N`` of each code ``k``.

        See Also
        --------
        encode : the inverse.
        """
        return np.asarray(codes, dtype=np.float64) * self.step

    def quantize(self, x: ArrayLike) -> NDArray[np.float64]:
        """``decode(encode(x))``."""
        return self.decode(self.encode(x))

    def linearity(self) -> Linearity:
        """The curve's static figures (see `linearity`)."""
        return linearity(self._t)

    def to_json(self) -> str:
        r"""``{"bits": N, "transitions": [...]}``; floats round-trip exactly.

        Examples
        --------
        >>> TransferCurve([-0.75, -0.25, 0.25]).to_json()
        '{"bits": 2, "transitions": [-0.75, -0.25, 0.25]}\n'
        """
        data = {"bits": self.bits, "transitions": self._t.tolist()}
        return json.dumps(data, allow_nan=False) + "\n"

    @classmethod
    def from_json(cls, text: str) -> TransferCurve:
        """Parse and check the form `to_json` writes.

        Raises
        ------
        AdcsimError
            Not JSON, not an object with exactly ``bits`` and ``transitions``,
            ``bits`` not an integer in [2, 16], ``transitions`` not a list of
            ``2**bits - 1`` finite, non-decreasing numbers.

        See Also
        --------
        to_json : the inverse.
        """

        def no_constants(name: str) -> float:
            raise AdcsimError(f"transfer: {name} is not a finite number")

        try:
            data = json.loads(text, parse_constant=no_constants)
        except json.JSONDecodeError as exc:
            raise AdcsimError(
                f"transfer: not valid JSON ({exc.msg.lower()} at line {exc.lineno})"
            ) from None
        if not isinstance(data, dict):
            raise AdcsimError(
                'transfer: must be an object {"bits": N, "transitions": [...]}'
            )
        keys = sorted(data)
        if keys != ["bits", "transitions"]:
            extra = sorted(set(keys) - {"bits", "transitions"})
            what = f"unknown key {extra[0]!r}" if extra else "missing key"
            missing = sorted({"bits", "transitions"} - set(keys))
            if missing:
                what = f"missing key {missing[0]!r}"
            raise AdcsimError(
                f"transfer: {what} (the keys are 'bits' and 'transitions')"
            )
        bits = check_transfer_bits(data["bits"])
        values = data["transitions"]
        if not isinstance(values, list) or not all(
            isinstance(v, (int, float)) and not isinstance(v, bool) for v in values
        ):
            raise AdcsimError("transfer: transitions must be a list of numbers")
        if len(values) != (1 << bits) - 1:
            raise AdcsimError(
                f"transfer: bits={bits} needs {(1 << bits) - 1} transitions, "
                f"not {len(values)}"
            )
        return cls(values)

    def __repr__(self) -> str:
        return f"TransferCurve(bits={self.bits})"


def design_transfer(
    *,
    bits: int,
    inl_lsb: float = 0.0,
    inl_shape: Literal["bow", "s"] = "bow",
    dnl_lsb: float = 0.0,
    rng: np.random.Generator | None = None,
) -> TransferCurve:
    """The ideal curve with a smooth INL and random transition-level errors.

    Parameters
    ----------
    bits : int in [2, 16]
    inl_lsb : float, default 0
        Peak of the smooth endpoint INL, LSB (`smooth_inl_lsb`).
    inl_shape : {'bow', 's'}, default 'bow'
        Second-order (bow) or third-order (s) shape.
    dnl_lsb : float >= 0, default 0
        RMS of independent Gaussian errors added to every transition, LSB.
        The DNL of a code is the difference of two of them, so its RMS is
        about ``sqrt(2) * dnl_lsb``.
    rng : numpy.random.Generator
        Source of the random errors; required when ``dnl_lsb > 0`` (the
        caller seeds it, `np.random.SeedSequence` as everywhere in adcsim).

    Returns
    -------
    TransferCurve

    Raises
    ------
    AdcsimError
        Bad bits, shape or values, negative ``dnl_lsb``, or no ``rng``.

    Notes
    -----
    Random errors can put a transition below the one before it. A converter
    cannot output a code whose upper transition lies below its lower one: the
    code is missing and the code above starts at the higher of the two levels.
    The realized levels are therefore the running maximum of the perturbed
    ones (``np.maximum.accumulate``): a pair out of order becomes two equal
    transitions, a missing code. The curve's `linearity` reports them.

    Examples
    --------
    >>> curve = design_transfer(bits=3, inl_lsb=0.5)
    >>> curve.linearity().max_abs_inl_lsb
    0.5
    >>> gen = np.random.default_rng(1)
    >>> lin = design_transfer(bits=8, dnl_lsb=0.5, rng=gen).linearity()
    >>> len(lin.missing_codes), round(lin.rms_dnl_lsb, 2)
    (13, 0.63)
    """
    t = ideal_transitions(bits)
    step = 2.0 / (t.size + 1)
    t = t + smooth_inl_lsb(bits, peak_lsb=inl_lsb, shape=inl_shape) * step
    sigma = _finite("dnl_lsb", dnl_lsb)
    if sigma < 0:
        raise AdcsimError(f"transfer: dnl_lsb={dnl_lsb!r} must be >= 0")
    if sigma > 0:
        if not isinstance(rng, np.random.Generator):
            raise AdcsimError("transfer: dnl_lsb > 0 needs rng, a numpy Generator")
        t = np.maximum.accumulate(t + sigma * step * rng.standard_normal(t.size))
    return TransferCurve(t)


def load_transfer(path: str | os.PathLike[str]) -> TransferCurve:
    """Read a ``--transfer`` file: JSON ``{"bits": N, "transitions": [...]}``.

    Raises
    ------
    AdcsimError
        Missing or unreadable file, not UTF-8, not JSON, or not a valid curve
        (`TransferCurve.from_json`); one line naming the file and the problem.

    See Also
    --------
    save_transfer : the inverse.
    """
    name = os.fspath(path)
    try:
        raw = Path(name).read_bytes()
    except FileNotFoundError:
        raise AdcsimError(f"cannot read transfer {name!r}: no such file") from None
    except IsADirectoryError:
        raise AdcsimError(f"cannot read transfer {name!r}: is a directory") from None
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise AdcsimError(f"cannot read transfer {name!r}: {reason}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise AdcsimError(f"cannot read transfer {name!r}: not UTF-8 text") from None
    try:
        return TransferCurve.from_json(text)
    except AdcsimError as exc:
        reason = str(exc).removeprefix("transfer: ")
        raise AdcsimError(f"invalid transfer {name!r}: {reason}") from None


def save_transfer(
    curve: TransferCurve, path: str | os.PathLike[str], *, force: bool = False
) -> None:
    """Write ``curve`` in the form `load_transfer` reads, atomically.

    Raises
    ------
    AdcsimError
        The file exists (without ``force``) or cannot be written.

    See Also
    --------
    load_transfer : the inverse.
    """
    # The project's one atomic writer (no partial file, never over an input).
    from adcsim.io import _files as files

    name = os.fspath(path)
    files.check_output_path(name, force=force)
    files.write_text(name, curve.to_json())


__all__ = [
    "INL_SHAPES",
    "MAX_TRANSFER_BITS",
    "Linearity",
    "TransferCurve",
    "check_transfer_bits",
    "design_transfer",
    "ideal_transitions",
    "linearity",
    "load_transfer",
    "save_transfer",
    "smooth_inl_lsb",
]

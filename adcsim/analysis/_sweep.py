"""SNR sweeps over schemes, bit depths and input levels, and their theory.

Responsible for the classic curves of quantization: `sweep` quantizes one
signal with every (scheme, bits, level) of a grid and returns one row of
figures per point (designing the Lloyd-Max codebooks it needs on the
signal); `parse_bits` and `parse_levels` read the grid from text. The
textbook SNR of a sine for the same grid, `theory_snr_db`, lives in
`adcsim.metrics._theory` (re-exported here). Not responsible for files,
printing or figures (``cli._analysis``, ``figures._sweep``), except
`sweep_file`, which reads and resamples once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError
from adcsim.metrics._samples import check_samples
from adcsim.metrics._theory import theory_snr_db
from adcsim.quantizers._base import MAX_BITS, Quantizer, check_bits
from adcsim.quantizers._companders import _CompandedBase
from adcsim.quantizers._registry import SCHEMES, make_quantizer
from adcsim.stages._chain import Chain, StreamInfo
from adcsim.stages._converter import ConverterConfig

#: Columns of a sweep row, in order.
ROW_KEYS = (
    "scheme",
    "bits",
    "level_dbfs",
    "snr_db",
    "mse",
    "clipped_samples",
    "enob_bits",
)

#: Most points a level range may hold (guards against "-60:0:0.0001").
MAX_LEVELS = 10_000
#: Levels a sweep accepts, dBFS: 10**(1e308 / 20) overflowed; -400 dBFS is
#: below any float32 signal, +100 dBFS clips every scheme.
LEVEL_RANGE_DBFS = (-400.0, 100.0)

_INT = re.compile(r"^\s*(\d+)\s*$")
_RANGE = re.compile(r"^\s*(\d+)\s*-\s*(\d+)\s*$")


def parse_bits(text: str) -> list[int]:
    """Bit depths from ``"1-16"`` (inclusive range), ``"4,8,12"`` or a mix.

    Returns
    -------
    list of int
        Ascending, without repeats, each in [1, 24].

    Raises
    ------
    AdcsimError
        Text that is not a comma-separated list of integers and ranges, a
        descending range, or a depth outside [1, 24].

    Examples
    --------
    >>> parse_bits("1-4,8,12")
    [1, 2, 3, 4, 8, 12]
    >>> parse_bits("8-x")
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: bits='8-x' is not a list of depths or ranges like 1-16,20
    """
    found: set[int] = set()
    for item in str(text).split(","):
        single = _INT.match(item)
        span = _RANGE.match(item)
        if single:
            low = high = int(single.group(1))
        elif span:
            low, high = int(span.group(1)), int(span.group(2))
            if low > high:
                raise AdcsimError(
                    f"bits={text!r}: range {item.strip()!r} is descending"
                )
        else:
            raise AdcsimError(
                f"bits={text!r} is not a list of depths or ranges like 1-16,20"
            )
        if low < 1 or high > MAX_BITS:
            raise AdcsimError(f"bits={text!r}: depths must be in [1, {MAX_BITS}]")
        found.update(range(low, high + 1))
    return sorted(found)


def _float(text: str, whole: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise AdcsimError(
            f"levels={whole!r} is not START:STOP:STEP or a list of numbers (dBFS)"
        ) from None
    if not LEVEL_RANGE_DBFS[0] <= value <= LEVEL_RANGE_DBFS[1]:
        low, high = LEVEL_RANGE_DBFS
        raise AdcsimError(
            f"levels={whole!r}: {value:g} dBFS is not in [{low:g}, {high:g}]"
        )
    return value


def parse_levels(text: str) -> list[float]:
    """Levels in dBFS from ``"START:STOP:STEP"`` (inclusive) or ``"-20,-10"``.

    Returns
    -------
    list of float
        ``START + k STEP`` for ``k = 0, 1, ...`` up to STOP included (within
        1e-9 STEP), or the listed values; rounded to 1e-9 dB.

    Raises
    ------
    AdcsimError
        Non-numeric text, ``STEP <= 0``, ``STOP < START`` or more than
        10000 levels.

    Examples
    --------
    >>> parse_levels("-6:0:2")
    [-6.0, -4.0, -2.0, 0.0]
    >>> parse_levels("-20,-3.01")
    [-20.0, -3.01]
    >>> parse_levels("-60:0:-2")
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: levels='-60:0:-2': step=-2 must be > 0
    """
    text = str(text)
    parts = text.split(":")
    if len(parts) == 3:
        start, stop, step = (_float(p, text) for p in parts)
        if step <= 0:
            raise AdcsimError(f"levels={text!r}: step={step:g} must be > 0")
        if stop < start:
            raise AdcsimError(
                f"levels={text!r}: stop={stop:g} is below start={start:g}"
            )
        count = math.floor((stop - start) / step + 1e-9) + 1
        if count > MAX_LEVELS:
            raise AdcsimError(
                f"levels={text!r} gives {count} levels (at most {MAX_LEVELS})"
            )
        return [round(start + k * step, 9) for k in range(count)]
    if len(parts) != 1:
        raise AdcsimError(
            f"levels={text!r} is not START:STOP:STEP or a list of numbers (dBFS)"
        )
    values = [round(_float(p, text), 9) for p in text.split(",")]
    if len(values) > MAX_LEVELS:
        raise AdcsimError(f"levels={text!r} has more than {MAX_LEVELS} levels")
    return values


def scheme_params(scheme: str, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """The entries of ``params`` that ``scheme`` takes (``mu`` for mulaw, ...).

    Raises
    ------
    AdcsimError
        Unknown scheme.

    Examples
    --------
    >>> scheme_params("mulaw", {"mu": 100.0, "a": 50.0})
    {'mu': 100.0}
    """
    cls = SCHEMES.get(scheme)
    if cls is None:
        raise AdcsimError(f"scheme={scheme!r} is not one of: {', '.join(SCHEMES)}")
    given = dict(params or {})
    return {k: v for k, v in given.items() if k in cls.PARAMS and v is not None}


#: The scheme whose codebook is designed on the sweep's own input.
_LLOYDMAX = "lloydmax"
#: Deepest Lloyd-Max design (``adcsim.quantizers._codebook.MAX_BITS``).
_LLOYDMAX_MAX_BITS = 16


def check_grid(
    schemes: Sequence[str], bits: Sequence[int], params: Mapping[str, Any] | None
) -> None:
    """Check that every scheme of a sweep takes every depth, before any data.

    ``lloydmax`` is checked for its depth range only (its codebook is
    designed on the data, in `sweep`); the other schemes are built once at
    the lowest and highest depth with their parameters.

    Raises
    ------
    AdcsimError
        Unknown scheme, a depth out of a scheme's range, a bad parameter.

    Examples
    --------
    >>> check_grid(["uniform", "lloydmax"], [4, 8], None)
    >>> check_grid(["lloydmax"], [8, 20], None)
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: lloydmax: bits=20 must be an integer in [1, 16]
    """
    for scheme in schemes:
        kwargs = scheme_params(scheme, params)
        for b in (min(bits), max(bits)):
            if scheme == _LLOYDMAX:
                try:
                    check_bits(b, high=_LLOYDMAX_MAX_BITS)
                except AdcsimError as exc:
                    raise AdcsimError(f"{_LLOYDMAX}: {exc}") from None
            else:
                make_quantizer(scheme, bits=int(b), **kwargs)


def _quantizers(
    block: NDArray[np.float64],
    schemes: Sequence[str],
    bits: Sequence[int],
    params: Mapping[str, Any] | None,
) -> dict[tuple[str, int], Quantizer]:
    """One quantizer per (scheme, bits); Lloyd-Max designed on ``block``.

    The Lloyd-Max codebook of each depth is designed once, on the input as
    given (all channels pooled, before any level scaling or dither), the
    codebook `adcsim quantize -s lloydmax` designs on the same file; every
    level of the sweep then applies that fixed quantizer, as it applies the
    other schemes' fixed levels.
    """
    check_grid(schemes, bits, params)
    out: dict[tuple[str, int], Quantizer] = {}
    trainer = None
    for s in schemes:
        for b in bits:
            if s == _LLOYDMAX:
                from adcsim.quantizers._lloydmax import LloydMaxTrainer

                if trainer is None:
                    trainer = LloydMaxTrainer()
                    trainer.update(block)
                out[(s, b)] = make_quantizer(
                    s, bits=int(b), codebook=trainer.design(int(b))
                )
            else:
                out[(s, b)] = make_quantizer(s, bits=int(b), **scheme_params(s, params))
    return out


def _tone_bases(x: NDArray[np.float64], rate: int) -> list[NDArray[np.float64] | None]:
    """Per channel: an orthonormal basis of {cos, sin, 1} at the tone, or None.

    Each basis is a (3, frames) array whose rows are orthonormal.

    The tone frequency is the four-parameter fit of the (unscaled) input
    channel, taken only when `adcsim.metrics._tone.is_tonal` says one sine dominates it.
    """
    from adcsim.metrics._sinefit import fit_sine
    from adcsim.metrics._tone import is_tonal

    bases: list[NDArray[np.float64] | None] = []
    n = np.arange(x.shape[0], dtype=np.float64)
    for c in range(x.shape[1]):
        if not is_tonal(x[:, c], rate):
            bases.append(None)
            continue
        w = 2.0 * math.pi * fit_sine(x[:, c], rate).freq_hz / rate
        columns = np.stack((np.cos(w * n), np.sin(w * n), np.ones_like(n)), axis=1)
        q, _ = np.linalg.qr(columns)
        # Stored transposed and contiguous: three fast dot products per use.
        bases.append(np.ascontiguousarray(q.T))
    return bases


def _enob(
    y: NDArray[np.float64], bases: list[NDArray[np.float64] | None]
) -> float | None:
    """IEEE 1241 ENOB of ``y`` from three-parameter fits at the input's tones."""
    powers = []
    for c, q in enumerate(bases):
        if q is None:
            continue
        col = np.ascontiguousarray(y[:, c])
        total = float(col @ col)
        fitted = q @ col
        power = total - float(fitted @ fitted)
        if not power > 1e-9 * total:
            # Too close to the fit for the difference of sums: form the residual.
            residual = col - fitted @ q
            power = float(residual @ residual)
        powers.append(power / col.size)
    if not powers:
        return None
    power = sum(powers) / len(powers)
    if not power > 0:
        return None
    return math.log2(2.0 / math.sqrt(12.0 * power))


def _quantize_compressed(
    quantizer: _CompandedBase, u: NDArray[np.float64]
) -> tuple[NDArray[np.float64], int]:
    """Output and overload count of ``quantizer`` given ``u = F(x)``.

    The same steps as `Quantizer.encode_counting` then `Quantizer.decode` with
    the compander's raw codes ``round(F(x) 2**(N-1))`` (tests check equality).
    """
    raw = np.round(u * (quantizer.levels / 2))
    codes = np.clip(raw, quantizer._lowest, quantizer._highest)
    clipped = int(np.count_nonzero(codes != raw))
    return quantizer.decode(codes.astype(np.int32)), clipped


def sweep(
    x: ArrayLike,
    rate: int,
    *,
    schemes: Sequence[str],
    bits: Sequence[int],
    levels_dbfs: Sequence[float],
    dither: str = "none",
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    converter: ConverterConfig | None = None,
    sampled: ArrayLike | None = None,
    metrics: Sequence[str] = (),
) -> list[dict[str, Any]]:
    """Quantize ``x`` at every (scheme, bits, level) and measure each point.

    Parameters
    ----------
    x : array_like, frames or (frames, channels)
        The signal at its processing rate (not silent), full scale.
    rate : int > 0
        Its sample rate, Hz (for tone detection).
    schemes : sequence of str
        Keys of `adcsim.quantizers._registry.SCHEMES`. ``lloydmax`` gets,
        per depth, the codebook designed on ``x`` itself (channels pooled, at
        its own level, before dither), applied unchanged at every level.
    bits : sequence of int
        Bit depths (each scheme checks its range; lloydmax stops at 16).
    levels_dbfs : sequence of float
        Input levels: ``x`` is scaled so that its RMS over all channels is
        ``10**(level / 20)``; 0 dBFS is an RMS of 1.0, so a full-scale sine is
        -3.01 dBFS and levels above that clip a sine.
    dither : {'none', 'rpdf', 'tpdf'}, default 'none'
        Dither added before the quantizer, sized for each depth's LSB
        (`adcsim.stages._dither.dither`); the same noise at every level and scheme.
    seed : int >= 0, default 0
        Seed of the dither.
    params : mapping, optional
        Scheme parameters (``mu``, ``a``); each scheme takes those it knows.
    converter : ConverterConfig, optional
        The converter model's impairments (``quantize`` has the same
        options): its gain/offset and noise stages, sized for each depth's
        LSB and seeded by ``seed`` (the same noise at every level and
        scheme), act on the scaled signal before dither and quantizer.
    sampled : array_like, optional
        What the converter samples instead of ``x`` (same shape, scaled
        alike), when its sampling is not ideal (`sweep_file` makes it with
        ``--anti-alias off`` or ``--jitter``); the error is still measured
        against the scaled ``x``.
    metrics : sequence of str, optional
        Objective metrics (`adcsim.metrics._perceptual.perceptual`) of each
        point's output against the scaled ``x``: a ``perceptual`` key per row.

    Returns
    -------
    list of dict
        One row per point, schemes outermost, then bits, then levels, with the
        keys of `ROW_KEYS`: ``snr_db`` = 10 log10(sum r^2 / sum e^2) with r
        the scaled input (before dither) and e the output minus r (None when
        the error is zero), ``mse`` = mean(e^2), ``clipped_samples`` (the
        quantizer's overload count), ``enob_bits`` = log2(2 / (rms(res)
        sqrt(12))) (IEEE Std 1241-2000 §4.5.3.1, FSR = 2) where ``res`` is the
        output minus its three-parameter sine fit (§4.1.3.1) at the tone
        frequency of ``x``, pooled over tonal channels; None when no channel
        of ``x`` is tonal (`adcsim.metrics._tone.is_tonal`).

    Raises
    ------
    AdcsimError
        Silent or non-finite ``x``, an empty grid, a bad scheme, depth,
        parameter, dither kind or seed.

    See Also
    --------
    theory_snr_db : the textbook curves for a sine.
    sweep_file : read, resample and sweep a file.

    Notes
    -----
    The input is scaled once per level and quantized with each depth's
    quantizer on the whole array; the dither noise is drawn once per depth.
    A 16 x 31 grid of three schemes on 10 s at 48 kHz takes a few seconds.

    Examples
    --------
    >>> n = np.arange(4800)
    >>> x = np.sin(2 * np.pi * 997 * n / 48000)
    >>> rows = sweep(x, 48000, schemes=["uniform"], bits=[8, 12], levels_dbfs=[-6])
    >>> [(r["bits"], round(r["snr_db"], 1), round(r["enob_bits"], 1)) for r in rows]
    [(8, 46.8, 8.0), (12, 71.0, 12.0)]
    """
    from adcsim.stages._dither import check_dither, check_seed
    from adcsim.stages._dither import dither as add_dither

    kind = check_dither(dither)
    seed = check_seed(seed)
    if metrics:
        from adcsim.metrics._perceptual import check_metrics, perceptual

        metrics = check_metrics(list(metrics))
    block = np.asarray(x, dtype=np.float64)
    if block.ndim == 1:
        block = block[:, None]
    if block.ndim != 2 or block.shape[0] == 0:
        raise AdcsimError(
            f"sweep: x has shape {block.shape}, must be (frames, channels)"
        )
    check_samples(block, "sweep: x")
    rms = math.sqrt(float(np.mean(block**2)))
    if not rms > 0:
        raise AdcsimError("sweep: the input is silent; there is no level to scale")
    if not schemes or not bits or not len(levels_dbfs):
        raise AdcsimError("sweep: the grid is empty (give schemes, bits and levels)")
    quantizers = _quantizers(block, schemes, bits, params)
    conv = converter if converter is not None else ConverterConfig()
    front = _front_chains(conv, schemes, bits, seed, rate, block.shape[1])
    converted = block
    if sampled is not None:
        converted = np.asarray(sampled, dtype=np.float64).reshape(block.shape)
    bases = _tone_bases(block, rate)
    unit = block / rms
    scaled = {float(lv): unit * 10.0 ** (float(lv) / 20.0) for lv in levels_dbfs}
    ref_power = {lv: float(np.einsum("ij,ij->", r, r)) for lv, r in scaled.items()}
    noise = {
        int(b): (
            None
            if kind == "none"
            else add_dither(np.zeros_like(block), bits=int(b), kind=kind, seed=seed)
        )
        for b in bits
    }
    # Without dither a compander's F(x) does not depend on the depth: compute it
    # once per level (the costly logarithms), not once per depth.
    compressed = {}
    if kind == "none" and not front and sampled is None:
        for scheme in schemes:
            quantizer = quantizers[(scheme, bits[0])]
            if isinstance(quantizer, _CompandedBase):
                for level, r in scaled.items():
                    compressed[(scheme, level)] = quantizer.compress(r)
    rows: list[dict[str, Any]] = []
    for scheme in schemes:
        for b in bits:
            quantizer = quantizers[(scheme, b)]
            d = noise[int(b)]
            chain = front.get(int(b))
            for level, r in scaled.items():
                # (the converter's input, scaled as the reference is)
                at = r
                if sampled is not None:
                    at = converted * (10.0 ** (level / 20.0) / rms)
                if chain is not None:
                    chain.reset()  # the same noise at every level and scheme
                    at = _run_once(chain, at)
                if d is None and at is r and isinstance(quantizer, _CompandedBase):
                    y, clipped = _quantize_compressed(
                        quantizer, compressed[(scheme, level)]
                    )
                else:
                    source = at if d is None else at + d
                    codes, clipped = quantizer.encode_counting(source)
                    y = quantizer.decode(codes)
                e = y - r
                err_power = float(np.einsum("ij,ij->", e, e))
                snr = (
                    10.0 * math.log10(ref_power[level] / err_power)
                    if err_power > 0
                    else None
                )
                rows.append(
                    {
                        "scheme": scheme,
                        "bits": int(b),
                        "level_dbfs": level,
                        "snr_db": snr,
                        "mse": err_power / e.size,
                        "clipped_samples": clipped,
                        "enob_bits": _enob(y, bases),
                    }
                )
                if metrics:
                    rows[-1]["perceptual"] = perceptual(
                        r, y, rate=rate, metrics=tuple(metrics)
                    )
    return rows


def _front_chains(
    converter: ConverterConfig,
    schemes: Sequence[str],
    bits: Sequence[int],
    seed: int,
    rate: int,
    channels: int,
) -> dict[int, Chain]:
    """Per depth, the started chain of the converter's static stages (if any).

    The converter's options are checked with every scheme and depth first.
    """
    from adcsim.stages._front import static_stages

    for scheme in schemes:
        for b in (min(bits), max(bits)):
            converter.validate(scheme=scheme, bits=int(b), rate=rate)
    chains = {}
    for b in bits:
        named = static_stages(converter, bits=int(b), seed=seed)
        if named:
            chain = Chain([stage for _, stage in named])
            chain.start(StreamInfo(rate=rate, channels=channels))
            chains[int(b)] = chain
    return chains


def _run_once(chain: Chain, block: NDArray[np.float64]) -> NDArray[np.float64]:
    """``block`` through a started ``chain`` as one block, then its flush."""
    out = chain.process(block)
    tail = chain.flush()
    return out if not tail.shape[0] else np.concatenate([out, tail])


def rows_to_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    """The rows as CSV text with a header of `ROW_KEYS`; None is an empty cell.

    Rows with a ``perceptual`` section add a column per metric (its value).

    Examples
    --------
    >>> print(rows_to_csv([{"scheme": "uniform", "bits": 8, "level_dbfs": -6.0,
    ...     "snr_db": 46.8, "mse": 1e-06, "clipped_samples": 0, "enob_bits": None}]),
    ...     end="")
    scheme,bits,level_dbfs,snr_db,mse,clipped_samples,enob_bits
    uniform,8,-6.0,46.8,1e-06,0,
    """
    names = list(rows[0].get("perceptual", {})) if rows else []
    lines = [",".join([*ROW_KEYS, *names])]
    for row in rows:
        values = [row[k] for k in ROW_KEYS]
        values += [row["perceptual"][name]["value"] for name in names]
        cells = [
            "" if v is None else repr(v) if isinstance(v, float) else str(v)
            for v in values
        ]
        lines.append(",".join(cells))
    return "\n".join(lines) + "\n"


def sweep_file(
    path: str,
    *,
    rate: int | None = None,
    schemes: Sequence[str],
    bits: Sequence[int],
    levels_dbfs: Sequence[float],
    dither: str = "none",
    seed: int = 0,
    params: Mapping[str, Any] | None = None,
    converter: ConverterConfig | None = None,
    metrics: Sequence[str] = (),
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Read ``path`` once, resample it once to ``rate`` if given, and `sweep` it.

    Returns
    -------
    rows : list of dict
        As `sweep`.
    info : dict
        ``path``, ``sample_rate`` (of the file), ``rate`` (swept), ``channels``,
        ``frames`` (swept), ``subtype``.

    Raises
    ------
    AdcsimError
        The file cannot be read, a bad rate, or as `sweep`.
    """
    from adcsim._rate import check_rate
    from adcsim.analysis._records import read_record
    from adcsim.stages._resample import resample

    conv = converter if converter is not None else ConverterConfig()
    for scheme in schemes:
        for b in (min(bits), max(bits)):
            conv.validate(scheme=scheme, bits=int(b), rate=rate)
    data, info = read_record(
        path, command="sweep", advice="sweep an excerpt (sox in.wav part.wav trim 0 60)"
    )
    out_rate = info.rate
    analog = data
    if rate is not None:
        out_rate = check_rate(rate)
        if out_rate != info.rate:
            data = resample(data, in_rate=info.rate, out_rate=out_rate)
    sampled = None
    if conv.jitter or not conv.anti_alias:
        # What the converter samples (`adcsim.run._adc`): the input itself
        # without the anti-alias filter, else the resampled signal, jittered.
        from adcsim.stages._sampler import Sampler

        source_rate = info.rate if not conv.anti_alias else out_rate
        chain = Chain([Sampler(out_rate=out_rate, jitter=conv.jitter, seed=seed)])
        chain.start(StreamInfo(rate=source_rate, channels=info.channels))
        sampled = _run_once(chain, analog if not conv.anti_alias else data)
        frames = min(sampled.shape[0], data.shape[0])
        sampled, data = sampled[:frames], data[:frames]
    rows = sweep(
        data,
        out_rate,
        schemes=schemes,
        bits=bits,
        levels_dbfs=levels_dbfs,
        dither=dither,
        seed=seed,
        params=params,
        converter=conv,
        sampled=sampled,
        metrics=metrics,
    )
    meta = {
        "path": path,
        "sample_rate": info.rate,
        "rate": out_rate,
        "channels": info.channels,
        "frames": int(data.shape[0]),
        "subtype": info.subtype,
    }
    return rows, meta


__all__ = [
    "ROW_KEYS",
    "parse_bits",
    "parse_levels",
    "check_grid",
    "rows_to_csv",
    "scheme_params",
    "sweep",
    "sweep_file",
    "theory_snr_db",
]

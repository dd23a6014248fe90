"""The converter model in the chain of one run, and the report's ``adc`` section.

Responsible for where the converter's stages (issue 13) sit in the chain
that `adcsim.run._process.build_chain` starts, and for assembling the
report's ``adc`` section from each active stage's ``adc_entry``. Not
responsible for the stages (``adcsim.stages._front``, ``_sampler``) nor for
reading or writing files.

The chain, each step present only when its option is set (with every option
off it is exactly the chain of an ideal converter: resampler, reference tap,
dither, quantizer)::

    read -> sampling -> gain/offset -> input noise -> [sigma-delta]
         -> dither -> quantizer (or its static transfer curve) -> container

Sampling is the ideal resampler (``--rate``) followed by the reference tap
when it is ideal. When it is not (``--anti-alias off``, ``--jitter``), a
`adcsim.stages._chain.Tee` feeds two branches from one read: the reference
branch makes the ideal signal the error is measured against (the ideal
resampler, or nothing) and hands it to the tap, the signal branch samples the
input as the converter does (the sampler at the new instants without the
anti-alias filter, or the resampled signal at jittered instants).

Gain, offset and noise act after sampling, on the samples, although a real
converter's are input-referred: they are memoryless and the sampler linear,
so gain and offset commute with it exactly, and white noise sampled at any
instants is white noise of the same RMS; applied to the samples the noise
is exactly X LSB RMS at the quantizer whatever the rates, where before a
resampler it would be low-passed with the signal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError
from adcsim.io import _files as files
from adcsim.quantizers._base import Quantizer
from adcsim.quantizers._stage import QuantizeStage
from adcsim.run._config import QuantizeConfig
from adcsim.stages._chain import Stage, StreamInfo, Tap
from adcsim.stages._converter import AdcFigures, stage_generators
from adcsim.stages._resample import Resampler

if TYPE_CHECKING:
    from adcsim.quantizers._transfer_scheme import TransferQuantizer

Named = list[tuple[str, Any]]


def sampling_stages(
    config: QuantizeConfig, source: StreamInfo, tap: Tap
) -> tuple[list[Stage], Named]:
    """The chain's head up to and with the reference tap, and its named stages.

    Parameters
    ----------
    config : QuantizeConfig
        The run's settings (``rate`` and ``converter``).
    source : StreamInfo
        The input stream.
    tap : Tap
        The reference tap: in the chain after the ideal resampler, or fed by
        the tee that splits reference and signal.
    """
    conv = config.converter
    resampler = Resampler(out_rate=config.rate) if config.rate else None
    named: Named = [("resample", resampler)] if resampler is not None else []
    ideal = [resampler] if resampler is not None else []
    if conv.anti_alias and not conv.jitter:
        return [*ideal, tap], named
    from adcsim.stages._chain import Chain, Tee
    from adcsim.stages._sampler import Sampler

    out_rate = config.rate or source.rate
    sampler = Sampler(out_rate=out_rate, jitter=conv.jitter, seed=config.seed)
    if conv.anti_alias:
        # The resampled (anti-aliased) signal, sampled at jittered instants.
        head: list[Stage] = [*ideal, Tee(Chain([]), Chain([sampler]), tap)]
    else:
        # The input itself, sampled at the new instants: no low-pass.
        head = [Tee(Chain(ideal), Chain([sampler]), tap)]
    return head, [*named, ("sample", sampler)]


def static_stages(config: QuantizeConfig, bits: int) -> Named:
    """Gain/offset, input noise and the sigma-delta (those set), named, in order."""
    from adcsim.stages._front import static_stages as front

    named: Named = list(front(config.converter, bits=bits, seed=config.seed))
    conv = config.converter
    if conv.sigma_delta is not None:
        from adcsim.stages._sigma_delta import SigmaDeltaStage

        assert conv.osr is not None  # (validated)
        stage = SigmaDeltaStage(
            order=conv.sigma_delta, osr=conv.osr, modulator_bits=conv.modulator_bits
        )
        named.append(("sigma_delta", stage))
    return named


def static_quantizer(config: QuantizeConfig) -> TransferQuantizer | None:
    """The quantizer of the run's static transfer curve, None without one.

    The curve is the ``--transfer`` file, or the ideal one with the smooth
    INL and the random transition errors of the options; those are drawn
    from the run's seed on a generator of their own (`stage_generators`
    under the name ``dnl``), so one seed gives one curve.

    Raises
    ------
    AdcsimError
        A bad ``--transfer`` file, or one whose ``bits`` is not ``--bits``.
    """
    conv = config.converter
    if not conv.static_transfer:
        return None
    from adcsim.quantizers._transfer import design_transfer, load_transfer
    from adcsim.quantizers._transfer_scheme import TransferQuantizer as Static

    if conv.transfer is not None:
        curve = load_transfer(conv.transfer)
        if curve.bits != config.bits:
            raise AdcsimError(
                f"transfer {conv.transfer!r} has bits={curve.bits}, not the "
                f"--bits {config.bits} of this run"
            )
    else:
        rng = stage_generators(config.seed, "dnl", 1)[0] if conv.dnl_lsb else None
        curve = design_transfer(
            bits=config.bits,
            inl_lsb=conv.inl_lsb,
            inl_shape="s" if conv.inl_shape == "s" else "bow",
            dnl_lsb=conv.dnl_lsb,
            rng=rng,
        )
    return Static(curve)


def pending_transfer_out(
    config: QuantizeConfig, static: TransferQuantizer | None
) -> str | None:
    """``--transfer-out``'s path if it is still to be written, else None.

    A file that already holds exactly this curve (the earlier files of a
    batch, one seed, one curve) is left as it is rather than refused.
    """
    path = config.converter.transfer_out
    if path is None or static is None:
        return None
    given = config.converter.transfer
    if given is not None and files.same_file(path, given):
        raise AdcsimError(f"--transfer-out {path!r} is the --transfer input")
    try:
        with open(path, encoding="utf-8") as handle:
            if handle.read() == static.curve.to_json():
                return None
    except (OSError, UnicodeDecodeError):
        pass
    return path


def write_transfer_out(config: QuantizeConfig, quantizer: Quantizer) -> None:
    """Write the realized curve to ``--transfer-out`` (atomically), if not there.

    The path was checked before the run (never an input or another output).
    """
    from adcsim.quantizers._transfer_scheme import TransferQuantizer as Static

    assert isinstance(quantizer, Static)
    path = pending_transfer_out(config, quantizer)
    if path is not None:
        files.write_text(path, quantizer.curve.to_json())


def quantize_stage(config: QuantizeConfig, quantizer: Quantizer) -> tuple[str, Any]:
    """The chain's quantizer stage, named: the static curve's, or the plain one."""
    from adcsim.quantizers._transfer_scheme import TransferQuantizer, TransferStage

    if isinstance(quantizer, TransferQuantizer):
        conv = config.converter
        stage = TransferStage(
            quantizer.curve,
            inl_lsb=conv.inl_lsb,
            inl_shape=conv.inl_shape,
            dnl_lsb=conv.dnl_lsb,
            transfer=conv.transfer,
            quantizer=quantizer,
        )
        return "static_transfer", stage
    return "quantize", QuantizeStage(quantizer)


#: Dither error power in LSB**2 (uniform +-1/2 LSB: 1/12; TPDF: twice that).
DITHER_LSB2 = {"none": 0.0, "rpdf": 1.0 / 12.0, "tpdf": 2.0 / 12.0}


def adc_section(
    named: Named,
    *,
    window: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
    metrics: dict[str, Any],
    rate: int,
    bits: int,
    dither: str = "none",
) -> dict[str, Any] | None:
    """The report's ``adc`` section: one entry per active converter stage.

    Parameters
    ----------
    named : list of (str, stage)
        The run's named stages; those with an ``adc_entry`` method that are
        active give an entry under their name.
    window : (reference, output) or None
        The aligned ``(frames, channels)`` blocks the tone figures are taken
        on (`adcsim.run._taps.Taps.tone_window`), None when nothing was
        measured: the entries' measured values are then None.
    metrics : dict
        The report's ``metrics``.
    rate, bits : int
        The output's rate and the quantizer's depth.
    dither : str
        The dither kind (its error power is not the converter's).

    Returns
    -------
    dict or None
        None when no converter stage is active (the report then has no
        ``adc`` key). A stage that models several impairments (the sampler:
        ``anti_alias``, ``jitter``) gives one entry each by ``adc_entries``.
    """
    stages = [
        (n, s)
        for n, s in named
        if s.active and (hasattr(s, "adc_entry") or hasattr(s, "adc_entries"))
    ]
    if not stages:
        return None
    figures = adc_figures(
        window,
        metrics=metrics,
        rate=rate,
        bits=bits,
        quantization_lsb2=1.0 / 12.0 + DITHER_LSB2.get(dither, 0.0),
    )
    section: dict[str, Any] = {}
    for name, stage in stages:
        if hasattr(stage, "adc_entries"):
            section.update(stage.adc_entries(figures))
        else:
            section[name] = stage.adc_entry(figures)
    return section


def adc_figures(
    window: tuple[NDArray[np.float64], NDArray[np.float64]] | None,
    *,
    metrics: dict[str, Any],
    rate: int,
    bits: int,
    quantization_lsb2: float = 1.0 / 12.0,
) -> AdcFigures:
    """Sine fits and reference-to-output lines of each channel of ``window``.

    Examples
    --------
    >>> n = np.arange(4096)[:, None]
    >>> ref = 0.5 * np.sin(2 * np.pi * 0.01 * n)
    >>> f = adc_figures((ref, 1.01 * ref + 0.002), metrics={}, rate=48000, bits=8)
    >>> round(f.out_fits[0].offset, 6), [round(v, 6) for v in f.regressions[0]]
    (0.002, [0.002, 1.01])
    """
    from adcsim.metrics._sinefit import fit_sine
    from adcsim.metrics._tone import harmonic_ratios_db, is_tonal

    if window is None:
        channels = 0
    else:
        ref, out = window
        channels = ref.shape[1]
    ref_fits: list[Any] = [None] * channels
    out_fits: list[Any] = [None] * channels
    lines: list[tuple[float, float] | None] = [None] * channels
    residuals: list[float | None] = [None] * channels
    harmonics: list[dict[int, float] | None] = [None] * channels
    for c in range(channels):
        r, y = ref[:, c], out[:, c]
        if r.size >= 8 and is_tonal(r, rate):
            ref_fits[c] = fit_sine(r, rate)
            out_fits[c] = fit_sine(y, rate, initial_freq_hz=ref_fits[c].freq_hz)
            harmonics[c] = harmonic_ratios_db(y, rate, out_fits[c])
        r_mean, y_mean = float(r.mean()), float(y.mean())
        dr = r - r_mean
        power = float(dr @ dr)
        if power > 0:
            gain = float(dr @ (y - y_mean)) / power
            offset = y_mean - gain * r_mean
            lines[c] = (offset, gain)
            left = y - (gain * r + offset)
            residuals[c] = float(left @ left) / r.size
    return AdcFigures(
        rate=rate,
        bits=bits,
        metrics=metrics,
        out_harmonics_db=harmonics,
        ref_fits=ref_fits,
        out_fits=out_fits,
        regressions=lines,
        residual_powers=residuals,
        quantization_lsb2=quantization_lsb2,
        out_window=None if window is None else window[1],
    )

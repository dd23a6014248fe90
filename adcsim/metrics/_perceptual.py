"""The objective-metric registry and the report's ``perceptual`` section.

Responsible for naming the metrics (`METRICS`), checking a ``--metric``
list, and `PerceptualMeter`: fed aligned (reference, test) blocks of a run, it
gives each metric its own rate and returns the section, all channels together
(the mean of the channels, a mono mix) and per channel. Not for the measures
themselves (`adcsim.metrics._distortion`, `adcsim.metrics._stoi`).

Memory: SI-SDR, segSNR and LSD run on the stream block by block and keep only
sums (segSNR 16 bytes per 7.5 ms and column). STOI and ESTOI need the whole
signal (silence removal looks at the loudest frame): reference and test are
resampled to 10 kHz as they stream and kept there in float32, 8 bytes per
10 kHz frame and column (channels, plus the mix when there are several): a
10-minute stereo file keeps 144 MB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from adcsim.errors import AdcsimError

#: What the section says about the all-channels value.
MIX = "mean of the channels (mono mix)"


@dataclass(frozen=True)
class Metric:
    """One objective metric: its key, rate, mode and what computes it.

    ``rate_hz`` None means the stream's own rate.
    """

    name: str
    rate_hz: int | None
    mode: str | None
    unit: str
    source: str


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        Metric("si-sdr", None, None, "dB", "Le Roux et al., ICASSP 2019"),
        Metric(
            "segsnr",
            None,
            "30 ms frames, clamped to [-10, 35] dB",
            "dB",
            "Hansen and Pellom 1998; Loizou 2007",
        ),
        Metric(
            "lsd",
            None,
            "2048-sample Hann frames, floor -100 dB",
            "dB",
            "frame-wise RMS log-spectral distance",
        ),
        Metric("stoi", 10000, "standard", "", "Taal et al., IEEE TASLP 2011"),
        Metric("estoi", 10000, "extended", "", "Jensen and Taal, IEEE TASLP 2016"),
    )
}


def check_metrics(names: str | list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The metric names of a ``--metric a,b`` value, checked, in the given order.

    Raises
    ------
    AdcsimError
        An unknown name.

    Examples
    --------
    >>> check_metrics("stoi, si-sdr,stoi")
    ('stoi', 'si-sdr')
    """
    if isinstance(names, str):
        names = names.split(",")
    picked: list[str] = []
    for raw in names:
        name = raw.strip().lower()
        if not name:
            continue
        if name not in METRICS:
            raise AdcsimError(f"metric {name!r} is not one of: " + ", ".join(METRICS))
        if name not in picked:
            picked.append(name)
    return tuple(picked)


class _AtRate:
    """Reference and test resampled to one rate as they stream, kept float32."""

    def __init__(self, *, rate: int, out_rate: int, columns: int) -> None:
        from adcsim.stages._chain import StreamInfo
        from adcsim.stages._resample import Resampler

        self.rate = out_rate
        self._stages = [Resampler(out_rate=out_rate) for _ in range(2)]
        info = StreamInfo(rate=rate, channels=columns)
        for stage in self._stages:
            stage.start(info)
        self._kept: list[list[NDArray[np.float32]]] = [[], []]

    def update(self, ref: NDArray[np.float64], test: NDArray[np.float64]) -> None:
        for stage, block, kept in zip(self._stages, (ref, test), self._kept):
            out = stage.process(block) if stage.active else block
            kept.append(out.astype(np.float32))

    def signals(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """Both whole signals, ``(frames, columns)`` float64, trimmed to one length."""
        for stage, kept in zip(self._stages, self._kept):
            if stage.active:
                kept.append(stage.flush().astype(np.float32))
        ref, test = (np.concatenate(k).astype(np.float64) for k in self._kept)
        self._kept = [[], []]
        frames = min(ref.shape[0], test.shape[0])
        return ref[:frames], test[:frames]


class PerceptualMeter:
    """The chosen metrics of one run, fed aligned float blocks.

    Parameters
    ----------
    names : sequence of str
        Keys of `METRICS` (see `check_metrics`).
    rate, channels : int
        The stream's.
    """

    def __init__(self, names: tuple[str, ...], *, rate: int, channels: int) -> None:
        from adcsim.metrics import _distortion as dist

        self.names, self.rate, self.channels = (
            check_metrics(list(names)),
            rate,
            channels,
        )
        self.columns = channels + (1 if channels > 1 else 0)
        self._meters: dict[str, Any] = {}
        self._store: _AtRate | None = None
        for name in self.names:
            if name == "si-sdr":
                self._meters[name] = dist.SiSdrMeter(self.columns)
            elif name == "segsnr":
                self._meters[name] = dist.SegSnrMeter(self.columns, rate=rate)
            elif name == "lsd":
                self._meters[name] = dist.LsdMeter(self.columns)
            elif self._store is None:  # stoi, estoi share one 10 kHz copy
                self._store = _AtRate(
                    rate=rate,
                    out_rate=METRICS[name].rate_hz or rate,
                    columns=self.columns,
                )

    def _with_mix(self, block: NDArray[Any]) -> NDArray[np.float64]:
        block = np.asarray(block, dtype=np.float64)
        if self.channels == 1:
            return block
        return np.concatenate([block, block.mean(axis=1, keepdims=True)], axis=1)

    def update(self, ref: NDArray[Any], test: NDArray[Any]) -> None:
        """Feed one aligned pair of float ``(frames, channels)`` blocks."""
        if not ref.shape[0]:
            return
        x, y = self._with_mix(ref), self._with_mix(test)
        for meter in self._meters.values():
            meter.update(x, y)
        if self._store is not None:
            self._store.update(x, y)

    def result(self) -> dict[str, dict[str, Any]]:
        """The ``perceptual`` section: one entry per metric, in the asked order."""
        from adcsim import __version__
        from adcsim.metrics._stoi import UndefinedMetric, stoi_at_rate

        values: dict[str, list[tuple[float | None, str | None]]] = {
            name: meter.result() for name, meter in self._meters.items()
        }
        if self._store is not None:
            x, y = self._store.signals()
            for name in self.names:
                if name not in ("stoi", "estoi"):
                    continue
                column_values: list[tuple[float | None, str | None]] = []
                for c in range(self.columns):
                    try:
                        v = stoi_at_rate(x[:, c], y[:, c], extended=name == "estoi")
                        column_values.append((v, None))
                    except UndefinedMetric as exc:
                        column_values.append((None, str(exc)))
                values[name] = column_values
        section: dict[str, dict[str, Any]] = {}
        for name in self.names:
            metric = METRICS[name]
            got = values[name]
            total = got[-1]
            notes = sorted({n for _, n in got if n is not None})
            section[name] = {
                "value": total[0],
                "rate_hz": metric.rate_hz or self.rate,
                "mode": metric.mode,
                "package": "adcsim",
                "version": __version__,
                "mix": MIX if self.channels > 1 else None,
                "channels": [v for v, _ in got[: self.channels]],
                "notes": notes,
            }
        return section


def perceptual(
    reference: ArrayLike,
    test: ArrayLike,
    *,
    rate: int,
    metrics: str | tuple[str, ...] = ("si-sdr", "segsnr", "lsd", "stoi", "estoi"),
) -> dict[str, dict[str, Any]]:
    """The ``perceptual`` report section of ``test`` against ``reference``.

    The function form of `PerceptualMeter`: one block, then the result.

    Parameters
    ----------
    reference, test : array_like, ``(frames,)`` or ``(frames, channels)``
        Aligned signals at ``rate``, full scale.
    rate : int
        Their rate, Hz.
    metrics : str or tuple of str
        Keys of `METRICS`, a tuple or ``"a,b"``.

    Returns
    -------
    dict
        Metric name -> ``value`` (all channels: their mean, a mono mix),
        ``rate_hz`` (the rate it ran at), ``mode``, ``package``, ``version``,
        ``mix``, ``channels`` (per channel), ``notes`` (why a value is null).

    Raises
    ------
    AdcsimError
        An unknown metric or signals of different shapes.

    Examples
    --------
    >>> x = np.random.default_rng(0).normal(0, 0.1, 4000)
    >>> section = perceptual(x, 0.5 * x, rate=8000, metrics="lsd,stoi")
    >>> round(section["lsd"]["value"], 4), section["lsd"]["rate_hz"]
    (6.0206, 8000)
    >>> section["stoi"]["value"], section["stoi"]["rate_hz"]
    (1.0, 10000)
    >>> short = perceptual(x[:2000], x[:2000], rate=8000, metrics="stoi")
    >>> short["stoi"]["value"], short["stoi"]["notes"]
    (None, ['stoi: 17 frames of speech after removing silence, needs 30 (about 0.4 s)'])
    """
    from adcsim._rate import check_rate
    from adcsim.metrics._distortion import _pair

    x, y = _pair(reference, test)
    meter = PerceptualMeter(
        check_metrics(metrics), rate=check_rate(rate), channels=x.shape[1]
    )
    meter.update(x, y)
    return meter.result()

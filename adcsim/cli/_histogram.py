"""``adcsim analyze --histogram``: read a record, run the histogram test, write.

Thin: reads the file block by block into a code density (one channel,
reduced to ``--bits N`` by `adcsim.analysis._histogram.codes_from_samples`),
calls `adcsim.analysis._histogram.histogram_counts`, prints the summary table
and writes the JSON report, the per-code CSV and the figure. Imported only by
the ``analyze`` command's body (it imports numpy).
"""

from __future__ import annotations

import math
from typing import Any

import click
import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError

_FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")
#: Missing codes listed on the terminal; the report and CSV hold all of them.
_SHOWN_MISSING = 16


def _read_counts(
    path: str, bits: int | None, channel: int
) -> tuple[NDArray[np.int64], int, Any]:
    """Code density of one channel of ``path`` at ``bits`` (default: the file's)."""
    from adcsim.analysis._histogram import codes_from_samples
    from adcsim.io import AudioReader
    from adcsim.metrics._samples import checked_blocks

    with AudioReader(path) as reader:
        info = reader.info
        container = info.bits
        if container is None and info.subtype not in _FLOAT_SUBTYPES:
            raise AdcsimError(
                f"histogram: {path!r} holds {info.subtype}, not linear PCM or float"
            )
        if bits is None:
            if container is None:
                raise click.UsageError(
                    f"{path!r} holds float samples: name the resolution with --bits N"
                )
            if container > 16:
                raise click.UsageError(
                    f"{path!r} holds {container}-bit PCM: name the resolution to "
                    "test (at most 16 bits) with --bits N"
                )
            bits = container
        if container is not None and bits > container:
            raise click.BadParameter(
                f"--bits {bits} is more than the {container} bits {path!r} holds",
                param_hint="'--bits'",
            )
        if channel > info.channels:
            raise click.BadParameter(
                f"--channel {channel}, but {path!r} has {info.channels} channel(s)",
                param_hint="'--channel'",
            )
        levels = 1 << bits
        counts = np.zeros(levels, dtype=np.int64)
        for block in checked_blocks(reader.blocks(), repr(path)):
            codes = codes_from_samples(block[:, channel - 1], bits=bits)
            counts += np.bincount(codes, minlength=levels)
    return counts, bits, info


def _summary(result: Any, path: str, channel: int, channels: int) -> str:
    lin = result.linearity
    missing = list(lin.missing_codes)
    shown = ", ".join(str(c) for c in missing[:_SHOWN_MISSING])
    if len(missing) > _SHOWN_MISSING:
        shown += f", ... ({len(missing)} in all)"
    od_db = 20 * math.log10(result.amplitude_fs)
    rows = [
        ("max |DNL|", f"{lin.max_abs_dnl_lsb:.3f} LSB"),
        ("RMS DNL", f"{lin.rms_dnl_lsb:.3f} LSB"),
        ("max |INL| endpoint", f"{lin.max_abs_inl_lsb:.3f} LSB"),
        ("max |INL| best fit", f"{lin.max_abs_inl_best_fit_lsb:.3f} LSB"),
        ("missing codes", f"{len(missing)}" + (f": {shown}" if missing else "")),
        ("stimulus amplitude", f"{result.amplitude_fs:.5f} FS ({od_db:+.2f} dB)"),
        ("stimulus offset", f"{result.offset_fs / lin.lsb_fs:+.3f} LSB"),
    ]
    if result.offset_error_lsb is not None:
        rows[-2] = ("stimulus amplitude", f"{result.amplitude_fs:.5f} FS (known)")
        rows[-1] = ("offset error", f"{result.offset_error_lsb:+.3f} LSB")
        rows.append(("gain error", f"{result.gain_error_lsb:+.3f} LSB"))
    head = (
        f"histogram test of {path!r}, channel {channel} of {channels}: "
        f"{result.bits} bits, {result.samples} samples (at least "
        f"{result.required_samples} for {result.dnl_resolution_lsb:g} LSB at "
        f"{result.confidence * 100:g}%)"
    )
    width = max(len(name) for name, _ in rows)
    body = [f"{'figure'.ljust(width)}  value"]
    body += [f"{name.ljust(width)}  {value}" for name, value in rows]
    return head + "\n" + "\n".join(body) + "\n"


def _csv(result: Any) -> str:
    """One row per code index: count, lower transition, DNL, INL, missing."""
    lin = result.linearity
    levels = 1 << result.bits
    lower = np.concatenate([[np.nan], result.transitions_fs])
    missing = np.zeros(levels, dtype=bool)
    missing[list(lin.missing_codes)] = True

    def cell(value: float) -> str:
        return "" if math.isnan(value) else repr(float(value))

    columns = zip(
        result.counts.tolist(),
        lower.tolist(),
        lin.dnl_lsb.tolist(),
        lin.inl_lsb.tolist(),
        lin.inl_best_fit_lsb.tolist(),
        missing.tolist(),
        strict=True,
    )
    lines = [
        "code_index,code,count,transition_fs,dnl_lsb,inl_lsb,inl_best_fit_lsb,missing"
    ]
    half = levels // 2
    for index, (count, t, d, i, b, m) in enumerate(columns):
        lines.append(
            f"{index},{index - half},{count},{cell(t)},{cell(d)},{cell(i)},"
            f"{cell(b)},{int(m)}"
        )
    return "\n".join(lines) + "\n"


def run_histogram(
    path: str,
    *,
    bits: int | None,
    channel: int,
    dnl_resolution: float,
    stimulus_dbfs: float | None,
    report_path: str | None,
    csv_path: str | None,
    plot_path: str | None,
) -> None:
    """The histogram mode of ``analyze`` (outputs already checked by the caller)."""
    from adcsim.analysis._compare import info_block
    from adcsim.analysis._histogram import CONFIDENCE, histogram_counts
    from adcsim.cli._analysis import _emit_json
    from adcsim.io import _files as files
    from adcsim.run._report import SCHEMA_VERSION

    counts, bits, info = _read_counts(path, bits, channel)
    known = None if stimulus_dbfs is None else 10.0 ** (stimulus_dbfs / 20.0)
    result = histogram_counts(
        counts, dnl_resolution_lsb=dnl_resolution, stimulus_amplitude_fs=known
    )
    to_stderr = "-" in (report_path, csv_path)
    click.echo(_summary(result, path, channel, info.channels), nl=False, err=to_stderr)
    if report_path is not None:
        _emit_json(
            report_path,
            {
                "schema_version": SCHEMA_VERSION,
                "input": info_block(path, info),
                "settings": {
                    "bits": bits,
                    "channel": channel,
                    "dnl_resolution_lsb": dnl_resolution,
                    "confidence": CONFIDENCE,
                    "stimulus_dbfs": stimulus_dbfs,
                },
                "histogram": result.to_dict(),
            },
        )
    if csv_path is not None:
        files.write_text(csv_path, _csv(result))
    if plot_path is not None:
        from adcsim.figures._histogram import histogram_chart
        from adcsim.figures._quantize import save_chart

        title = f"histogram test of {path}, {bits} bits, {result.samples} samples"
        save_chart(histogram_chart(result.linearity, title=title), plot_path)


__all__ = ["run_histogram"]

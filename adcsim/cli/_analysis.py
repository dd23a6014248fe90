"""The ``adcsim analyze``, ``compare`` and ``sweep`` commands (Click).

Thin: parses options into calls of `adcsim.analysis` (the tone and level
figures, the histogram test through ``adcsim.cli._histogram``, compare,
sweep), prints tables and writes outputs. Not responsible for the measurements
(`adcsim.analysis`, `adcsim.metrics`) or for ``generate``
(``adcsim.cli._generate``). Imports nothing heavy at start-up; commands
import the library in their bodies. `AdcsimError` becomes
``Error: <message>`` (exit 1) in `adcsim.cli._boundary`, also outside the
``adcsim`` group; bad option values and unparsable ranges are usage errors
(exit 2).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import click

from adcsim.cli._boundary import AdcsimCommand
from adcsim.cli._boundary import user_errors as _errors
from adcsim.cli._options import (
    chain_options,
    converter_config,
    converter_options,
    csv_option,
    force_option,
    metric_option,
    parse_plot_window,
    plot_option,
    report_option,
)
from adcsim.errors import AdcsimError

ANALYZE_EPILOG = """\b
Examples:
  adcsim analyze tone.wav
  adcsim analyze out.flac --report - | jq .metrics.enob_bits
  adcsim analyze adc12.wav --histogram --bits 12 --csv codes.csv --plot dnl.png
"""

COMPARE_EPILOG = """\b
Examples:
  adcsim compare in.wav in.uniform-8bit.wav
  adcsim compare ref.wav sox_out.wav --align --gain-match --report report.json
  adcsim compare src.flac codec.wav --trim --align --plot diff.png
  adcsim compare clean.wav decoded.wav --align --metric stoi,si-sdr --report -
"""

SWEEP_EPILOG = """\b
Examples:
  adcsim generate sine -o tone.wav --freq 997 --duration 10
  adcsim sweep tone.wav --bits 1-16 --scheme uniform,mulaw,alaw --plot sweep.png
  adcsim sweep tone.wav --bits 8 --levels -60:0:2 --csv sweep.csv
  adcsim sweep music.wav --bits 4,8 --scheme uniform,lloydmax --csv lm.csv
  adcsim sweep speech.wav -r 8000 --bits 4,8,12 --dither tpdf --report -
  adcsim sweep speech.wav --bits 2-8 --scheme uniform,mulaw --metric stoi,lsd
"""


def _usage(parse: Callable[[str], Any], text: str, hint: str) -> Any:
    """Run a parser; its `AdcsimError` is a usage error (exit 2)."""
    try:
        return parse(text)
    except AdcsimError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None


def _checked_window(text: str | None) -> tuple[float, float] | None:
    """A ``--plot-window`` parsed and within its bounds (or None)."""
    from adcsim.run._config import check_plot_window

    window = parse_plot_window(text)
    if window is not None:
        check_plot_window(window)
    return window


def _fmt(value: Any, digits: int = 2) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _emit_json(path: str, data: dict[str, Any]) -> None:
    from adcsim.io import _files as files
    from adcsim.run._report import plain

    text = json.dumps(plain(data), indent=2, allow_nan=False) + "\n"
    files.write_text(path, text)


def _check_outputs(
    paths: list[str | None], force: bool, inputs: tuple[str, ...]
) -> None:
    from adcsim.io import _files as files

    for path in paths:
        if path is not None:
            files.check_output_path(path, force=force, inputs=inputs)


_TABLE_KEYS = (
    ("signal_rms_dbfs", "rms dBFS"),
    ("peak_dbfs", "peak dBFS"),
    ("tone_hz", "tone Hz"),
    ("tone_amplitude_dbfs", "tone dBFS"),
    ("sinad_db", "SINAD dB"),
    ("enob_bits", "ENOB"),
    ("thd_db", "THD dB"),
    ("sfdr_db", "SFDR dBc"),
    ("noise_floor_dbfs", "noise dBFS"),
)


def _table(rows: list[tuple[str, dict[str, Any]]]) -> str:
    header = ["channel", *(label for _, label in _TABLE_KEYS)]
    body = [[name, *(_fmt(m.get(k)) for k, _ in _TABLE_KEYS)] for name, m in rows]
    widths = [max(len(r[i]) for r in [header, *body]) for i in range(len(header))]
    lines = [
        "  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True))
        for r in [header, *body]
    ]
    return "\n".join(lines) + "\n"


@click.command("analyze", cls=AdcsimCommand, epilog=ANALYZE_EPILOG)
@click.argument("file", metavar="FILE")
@report_option("Also write the figures as JSON (- for stdout).")
@click.option(
    "--histogram",
    is_flag=True,
    help="Run the IEEE 1241 sine-wave histogram test instead (DNL, INL, "
    "missing codes).",
)
@click.option(
    "--bits",
    type=click.IntRange(2, 16),
    default=None,
    help="--histogram: resolution N of the record [the file's PCM depth].",
)
@click.option(
    "--channel",
    type=click.IntRange(1),
    default=1,
    show_default=True,
    help="--histogram: the channel to test.",
)
@click.option(
    "--dnl-resolution",
    type=click.FloatRange(0, min_open=True),
    default=0.1,
    show_default=True,
    metavar="LSB",
    help="--histogram: refuse records too short for this DNL resolution (95%).",
)
@click.option(
    "--stimulus-dbfs",
    type=click.FloatRange(-20, 20),
    default=None,
    metavar="DB",
    help="--histogram: the known peak of the centred stimulus sine, dBFS "
    "(generate histogram-sine: its --overdrive-db); measures offset and gain "
    "errors.",
)
@csv_option("--histogram: one row per code (- for stdout).", metavar="PATH|-")
@plot_option("--histogram: DNL and INL against code (.png, .svg, .pdf).")
@force_option()
def analyze(
    file: str,
    report_path: str | None,
    histogram: bool,
    bits: int | None,
    channel: int,
    dnl_resolution: float,
    stimulus_dbfs: float | None,
    csv_path: str | None,
    plot_path: str | None,
    force: bool,
) -> None:
    """Measure the level and the tone figures of an audio file.

    Prints, per channel and for all channels, the RMS and peak level and, when
    one sine dominates the channel, the IEEE 1241 tone figures (frequency,
    amplitude, SINAD, ENOB, THD, SFDR, noise floor); '-' where not tonal.

    With --histogram, runs the IEEE 1241 sine-wave histogram test on one
    channel of a record of a slightly overdriven coherent sine (adcsim
    generate histogram-sine): code density, transition levels, DNL and INL
    per code, missing codes. The file's values are reduced to --bits N by
    keeping their top N bits (an arithmetic shift of the stored integer).
    C and A of the sine come from the two end bins (gain and offset errors do
    not show) unless --stimulus-dbfs names the known stimulus.
    """
    ctx = click.get_current_context()
    if not histogram:
        for name in (
            "bits",
            "channel",
            "dnl_resolution",
            "stimulus_dbfs",
            "csv_path",
            "plot_path",
        ):
            if ctx.get_parameter_source(name) != click.core.ParameterSource.DEFAULT:
                option = "--" + name.removesuffix("_path").replace("_", "-")
                raise click.UsageError(f"{option} needs --histogram")
    if "-" == report_path == csv_path:
        raise click.UsageError("--csv - and --report - would both write to stdout")
    with _errors():
        _check_outputs([report_path, csv_path, plot_path], force, (file,))
        if histogram:
            if plot_path is not None:
                from adcsim.figures._quantize import check_plot_path

                check_plot_path(plot_path)
            from adcsim.cli._histogram import run_histogram

            run_histogram(
                file,
                bits=bits,
                channel=channel,
                dnl_resolution=dnl_resolution,
                stimulus_dbfs=stimulus_dbfs,
                report_path=report_path,
                csv_path=csv_path,
                plot_path=plot_path,
            )
            return
        from adcsim.analysis._compare import analyze_file

        result = analyze_file(file)
        rows = [("all", result["metrics"])]
        rows += [(str(i), m) for i, m in enumerate(result["channels"])]
        click.echo(_table(rows), nl=False, err=report_path == "-")
        if report_path is not None:
            _emit_json(report_path, result)


@click.command("compare", cls=AdcsimCommand, epilog=COMPARE_EPILOG)
@click.argument("ref", metavar="REF")
@click.argument("test", metavar="TEST")
@click.option(
    "--trim",
    is_flag=True,
    help="Compare the common length of files of different lengths.",
)
@click.option(
    "--align",
    is_flag=True,
    help="Find and remove a constant delay (cross-correlation).",
)
@click.option(
    "--gain-match",
    is_flag=True,
    help="Find and remove a constant gain (least squares).",
)
@click.option(
    "--max-delay",
    "max_delay",
    type=click.IntRange(0),
    default=None,
    help="Largest delay --align looks for, frames [default: any].",
)
@report_option("Write the JSON report (- for stdout).")
@plot_option("Figure of signals, error and spectra (.png, .svg, .pdf).")
@click.option(
    "--plot-window",
    default=None,
    metavar="START:DUR",
    callback=lambda ctx, param, value: _usage(
        _checked_window, value, "'--plot-window'"
    ),
    help="Show this span of the compared signals (seconds) in the figure's "
    "waveform panels, e.g. 12.5:0.02; DUR at most 1 [default: 10 ms around "
    "the loudest point of the loudest second, as quantize's figure].",
)
@metric_option
@force_option()
def compare(
    ref: str,
    test: str,
    trim: bool,
    align: bool,
    gain_match: bool,
    max_delay: int | None,
    report_path: str | None,
    plot_path: str | None,
    plot_window: tuple[float, float] | None,
    metric: tuple[str, ...],
    force: bool,
) -> None:
    """Report the error of TEST against the reference REF.

    Both files must have the same sample rate and channel count. Prints the
    error figures (SNR, MSE, max error) and, when REF is a tone, the tone
    figures of TEST; with --align the delay, with --gain-match the gain.
    """
    with _errors():
        _check_outputs([report_path, plot_path], force, (ref, test))
        if plot_path is not None:
            from adcsim.figures._quantize import check_plot_path

            check_plot_path(plot_path)
        if plot_window is not None and plot_path is None:
            raise click.UsageError(
                "--plot-window places the figure's waveform: give --plot PATH"
            )
        from adcsim.analysis._compare_files import compare_files

        figure: Any = None

        def sink(rate: int, channels: int, frames: int) -> Any:
            nonlocal figure
            from adcsim.figures._compare import CompareFigure

            if plot_window is not None and plot_window[0] * rate >= frames:
                raise AdcsimError(
                    f"--plot-window starts at {plot_window[0]:g} s, after the end "
                    f"of the compared signals ({frames / rate:.4g} s long)"
                )
            figure = CompareFigure(
                rate=rate, channels=channels, frames=frames, window=plot_window
            )
            return figure

        report = compare_files(
            ref,
            test,
            trim=trim,
            align=align,
            gain_match=gain_match,
            max_delay_frames=max_delay,
            sink=sink if plot_path is not None else None,
            metrics=metric,
        )
        m = report["metrics"]
        parts = [
            f"snr {_fmt(m['snr_db'])} dB",
            f"mse {m['mse']:.3g}",
            f"max error {m['max_abs_error']:.3g}",
        ]
        if m.get("enob_bits") is not None:
            parts.append(f"sinad {_fmt(m['sinad_db'])} dB, enob {_fmt(m['enob_bits'])}")
        if "delay_frames" in m:
            parts.append(f"delay {m['delay_frames']} frames")
        if "gain_db" in m:
            parts.append(f"gain {_fmt(m['gain_db'], 3)} dB")
        for name, entry in report.get("perceptual", {}).items():
            parts.append(f"{name} {_fmt(entry['value'], 4)}")
        click.echo(f"{test} vs {ref}: " + ", ".join(parts), err=report_path == "-")
        for text in report["notes"]:
            click.echo(f"notice: {text}", err=True)
        if report_path is not None:
            _emit_json(report_path, report)
        if figure is not None and plot_path is not None:
            from adcsim.figures._quantize import save_chart

            save_chart(figure.chart(f"{test} vs {ref}"), plot_path)


@click.command("sweep", cls=AdcsimCommand, epilog=SWEEP_EPILOG)
@click.argument("input_path", metavar="INPUT")
@click.option(
    "-b",
    "--bits",
    "bits_text",
    default="1-16",
    show_default=True,
    help="Bit depths: a range, a list or both (1-16, 4,8,12).",
)
@click.option(
    "-s",
    "--scheme",
    "scheme_text",
    default="uniform,mulaw,alaw",
    show_default=True,
    help="Quantizer schemes, comma-separated (lloydmax: designed on INPUT "
    "per depth, 1-16).",
)
@click.option(
    "--levels",
    "levels_text",
    default="-60:0:2",
    show_default=True,
    help="Input RMS levels, dBFS: START:STOP:STEP (inclusive) or a "
    "list; a full-scale sine is -3.01 dBFS.",
)
@chain_options
@csv_option("Write the rows as CSV (- for stdout).")
@report_option("Write the rows as JSON (- for stdout).")
@plot_option("SNR against bits and level, with theory (.png, .svg, .pdf).")
@metric_option
@force_option()
@converter_options
def sweep(
    input_path: str,
    bits_text: str,
    scheme_text: str,
    levels_text: str,
    rate: int | None,
    dither: str,
    seed: int,
    mu: float | None,
    a: float | None,
    csv_path: str | None,
    report_path: str | None,
    plot_path: str | None,
    metric: tuple[str, ...],
    force: bool,
    **converter_values: Any,
) -> None:
    """Measure SNR over a grid of schemes, bit depths and input levels.

    Reads INPUT once (resampled once with --rate), scales it so its RMS is at
    each level, quantizes it with every scheme and depth, and prints (or
    writes) one row per point: snr_db, mse, clipped_samples and, for a tone,
    enob_bits. The plot draws the textbook curves beside the measurements.
    """
    from adcsim.analysis import _sweep as sw

    bits = _usage(sw.parse_bits, bits_text, "'-b' / '--bits'")
    levels = _usage(sw.parse_levels, levels_text, "'--levels'")
    schemes = [s.strip() for s in scheme_text.split(",")]
    if "" in schemes:
        raise click.BadParameter(
            f"{scheme_text!r} has an empty item", param_hint="'-s' / '--scheme'"
        )
    params = {k: v for k, v in (("mu", mu), ("a", a)) if v is not None}
    stdout_users = [p for p in (csv_path, report_path) if p == "-"]
    if len(stdout_users) > 1:
        raise click.UsageError("--csv - and --report - would both write to stdout")
    try:
        sw.check_grid(schemes, bits, params)
    except AdcsimError as exc:
        raise click.BadParameter(
            str(exc), param_hint="'-s' / '--scheme' or '--bits'"
        ) from None
    converter = converter_config(converter_values)
    try:
        for name in schemes:
            for depth in (min(bits), max(bits)):
                converter.validate(scheme=name, bits=depth, rate=rate)
    except AdcsimError as exc:
        raise click.UsageError(str(exc)) from None
    with _errors():
        _check_outputs([csv_path, report_path, plot_path], force, (input_path,))
        if plot_path is not None:
            from adcsim.figures._quantize import check_plot_path

            check_plot_path(plot_path)
        rows, info = sw.sweep_file(
            input_path,
            rate=rate,
            schemes=schemes,
            bits=bits,
            levels_dbfs=levels,
            dither=dither,
            seed=seed,
            params=params,
            converter=converter,
            metrics=metric,
        )
        table = sw.rows_to_csv(rows)
        if csv_path is not None:
            from adcsim.io import _files as files

            files.write_text(csv_path, table)
        if report_path is not None:
            from adcsim.run._report import SCHEMA_VERSION

            _emit_json(
                report_path,
                {
                    "schema_version": SCHEMA_VERSION,
                    "input": info,
                    "settings": {
                        "schemes": schemes,
                        "bits": bits,
                        "levels_dbfs": levels,
                        "dither": dither,
                        "seed": seed,
                        "params": params,
                        **(
                            {"converter": converter.settings()}
                            if converter.active
                            else {}
                        ),
                        **({"metrics": list(metric)} if metric else {}),
                    },
                    "rows": rows,
                },
            )
        if csv_path is None and report_path is None:
            click.echo(table, nl=False)
        if plot_path is not None:
            from adcsim.figures._quantize import save_figure
            from adcsim.figures._sweep import plot_sweep

            save_figure(plot_sweep(rows), plot_path)
        click.echo(
            f"{len(rows)} points: {len(schemes)} schemes x {len(bits)} "
            f"depths x {len(levels)} levels at {info['rate']} Hz",
            err=True,
        )


__all__ = ["analyze", "compare", "sweep"]

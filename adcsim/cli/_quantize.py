"""The ``adcsim quantize`` command (Click): files through one chain, in a batch.

Responsible for the command's options (and `quantizer_options`, shared with
the commands that run one quantizer), turning them into a frozen
`QuantizeConfig` (`build_config`; a bad combination is a usage error, exit
2), planning each input's outputs, running the batch
(``adcsim.run._batch.run_batch``) with a progress bar on a terminal, and the
per-input summary lines on stderr; also the process-wide settings a batch
wants (one BLAS thread per worker, glibc keeping freed memory). Not
responsible for the group, its exit (``adcsim.cli._main``), the error
boundary (``adcsim.cli._boundary``), reading ``--from-list`` or the reports'
command lines (``adcsim.cli._inputs``). Imports nothing heavy at start-up:
the library is imported in the command's body.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any, TypeVar

import click

from adcsim.cli import _signals
from adcsim.cli._boundary import DEBUG, AdcsimCommand
from adcsim.cli._inputs import command_without_inputs, list_paths
from adcsim.cli._options import (
    PATH,
    chain_options,
    converter_config,
    converter_options,
    force_option,
    metric_option,
    parse_plot_window,
    plot_option,
    report_option,
)
from adcsim.errors import AdcsimError
from adcsim.run._config import QuantizeConfig

F = TypeVar("F", bound=Callable[..., Any])
_DEFAULTS = QuantizeConfig()


def _usage(message: str) -> click.UsageError:
    return click.UsageError(message)


def quantizer_options(func: F) -> F:
    """The options of commands that run one quantizer: bits, scheme, chain."""
    func = converter_options(func)
    func = click.option(
        "--noise-shaping",
        default=_DEFAULTS.noise_shaping,
        show_default=True,
        help="Error-feedback noise shaping on top of --dither: none, "
        "first-order, f-weighted, improved-e-weighted, shibata, ..., "
        "or weighted (designed for the stream's rate).",
    )(func)
    func = chain_options(func)
    func = click.option(
        "-s",
        "--scheme",
        default=_DEFAULTS.scheme,
        show_default=True,
        help="Quantizer: uniform, midrise, floor, mulaw, alaw, ... "
        "(list: adcsim schemes).",
    )(func)
    return click.option(
        "-b",
        "--bits",
        type=click.IntRange(1, 24),
        default=_DEFAULTS.bits,
        show_default=True,
        help="Bit depth N (1 to 24; g711-* need 8).",
    )(func)


def build_config(
    *,
    bits: int,
    scheme: str,
    mu: float | None,
    a: float | None,
    rate: int | None,
    dither: str,
    seed: int,
    noise_shaping: str,
    **extra: Any,
) -> QuantizeConfig:
    """A validated config from option values; bad values are usage errors (exit 2)."""
    params = {k: v for k, v in (("mu", mu), ("a", a)) if v is not None}
    extra["converter"] = converter_config(extra)
    try:
        from adcsim.quantizers._registry import SCHEMES

        cls = SCHEMES.get(scheme)
        if cls is not None:
            # Give the scheme its parameters with their defaults for the report.
            params = {
                **{k: v for k, v in cls.PARAMS.items() if v is not None},
                **params,
            }
        config = QuantizeConfig(
            bits=bits,
            scheme=scheme,
            rate=rate,
            dither=dither,
            seed=seed,
            noise_shaping=noise_shaping,
            params=params,
            **extra,
        )
        return config.validate()
    except AdcsimError as exc:
        raise _usage(str(exc)) from None


QUANTIZE_EPILOG = """\b
Examples:
  adcsim quantize in.wav --bits 8                   # in.uniform-8bit.wav/.json/.png
  adcsim quantize in.wav -b 12 --dither tpdf --seed 7
  adcsim quantize in.wav -s mulaw -b 8 -r 8000 -o phone.wav
  adcsim quantize in.wav -s alaw --a 87.6 -b 6 --out-dir out/
  adcsim quantize in.wav -s midrise -b 4 --subtype FLOAT --no-plot
  adcsim quantize in.wav -b 4 --error-out err.wav --error-gain 24
  adcsim quantize in.wav -b 6 --plot-window 12.5:0.02 --plot zoom.svg
  adcsim quantize in24.wav -b 16 --dither tpdf --noise-shaping f-weighted
  adcsim quantize in.wav -b 8 -s g711-mulaw -r 8000 --subtype ULAW -o tel.wav
  adcsim quantize in.wav -s lloydmax -b 4 --train corpus.wav --codebook cb.json
  adcsim quantize in.wav -b 8 --report - --no-plot -q | jq .metrics.snr_db
  adcsim quantize speech.wav -b 6 --metric stoi,estoi,si-sdr --no-plot
  sox in.flac -t wav - | adcsim quantize - -b 10 -o - | sox -t wav - out.flac
  adcsim quantize takes/*.wav -b 8 --out-dir degraded/ -j 0 --summary s.csv
  adcsim quantize --from-list all.txt -b 8 --out-dir out/ --shard auto \
      --summary 'sums/{shard}.csv'           # one SLURM array task
  find corpus -name '*.flac' | adcsim quantize --from-list - -b 8 \\
      --out-dir out/ --mirror corpus/ --skip-existing
"""


@click.command("quantize", cls=AdcsimCommand, epilog=QUANTIZE_EPILOG)
@click.argument("inputs", nargs=-1, required=False, metavar="INPUT...")
@quantizer_options
@click.option(
    "-o",
    "--output",
    type=PATH,
    default=None,
    help="Output audio; the extension picks the format; - for stdout (WAV).",
)
@click.option(
    "--out-dir",
    type=PATH,
    default=".",
    show_default=True,
    help="Directory of default-named outputs (created if missing, as mkdir -p).",
)
@click.option(
    "--mirror",
    "mirror_root",
    type=PATH,
    default=None,
    metavar="ROOT",
    help="Reproduce the input tree below ROOT under --out-dir (created as "
    "needed); an input outside ROOT is an error.",
)
@click.option(
    "--from-list",
    "from_list",
    type=PATH,
    default=None,
    metavar="FILE",
    help="Read more inputs from FILE, one path per line (- for stdin); blank "
    "lines and lines starting with # are ignored.",
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(0),
    default=1,
    show_default=True,
    help="Worker processes; 0 for all cores. Results keep the input order.",
)
@click.option(
    "--shard",
    "shard_spec",
    default=None,
    metavar="K/N|auto|auto/N",
    help="Run only the K-th of N parts of the inputs (by position, K from 1), "
    "after checking the whole list; auto reads a SLURM array task's "
    "SLURM_ARRAY_TASK_ID/_MIN/_COUNT, auto/N a Kubernetes indexed job's "
    "JOB_COMPLETION_INDEX. --summary gets the shard in its name (or {shard}).",
)
@click.option(
    "--subtype",
    default=None,
    help="Output container: PCM_U8, PCM_16, PCM_24, PCM_32, FLOAT, ... "
    "[default: smallest exact one].",
)
@report_option(
    "JSON report path; - for JSON Lines on stdout, one object per input "
    "(failures as {input, error}) [default: beside the audio].",
    metavar=None,
)
@click.option("--no-report", is_flag=True, help="Write no report file.")
@click.option(
    "--summary",
    "summary_path",
    type=PATH,
    default=None,
    metavar="PATH.csv",
    help="Also write a CSV table, one row per input with its main metrics.",
)
@click.option(
    "--skip-existing",
    is_flag=True,
    help="Leave an input untouched when its audio and report exist and the "
    "report records the same settings and input SHA-256.",
)
@plot_option(
    "Figure path (.png, .svg, .pdf) [default: beside the audio].", metavar=None
)
@click.option("--no-plot", is_flag=True, help="Draw no figure.")
@click.option(
    "--plot-window",
    default=None,
    metavar="START:DUR",
    callback=lambda ctx, param, value: parse_plot_window(value),
    help="Show this span of the output (seconds) in the figure's waveform "
    "panels, e.g. 12.5:0.02; DUR at most 1 [default: 10 ms around the "
    "loudest point of the loudest second].",
)
@click.option(
    "--train",
    type=PATH,
    default=None,
    help="lloydmax: design the codebook on this file, not on the input.",
)
@click.option(
    "--codebook",
    type=PATH,
    default=None,
    help="lloydmax: load this JSON codebook if it exists, else save the design there.",
)
@click.option(
    "--error-out",
    type=PATH,
    default=None,
    help="Also write the error signal (output - input) as audio.",
)
@click.option(
    "--error-gain",
    type=click.FloatRange(-200, 200),
    default=0.0,
    show_default=True,
    help="Gain in dB applied to --error-out.",
)
@metric_option
@force_option("Overwrite existing outputs (never inputs).")
@click.option(
    "--blocksize",
    type=click.IntRange(1, 1 << 22),
    default=_DEFAULTS.blocksize,
    show_default=True,
    help="Frames per block.",
)
@click.option(
    "-q", "--quiet", is_flag=True, help="No summary and no progress bar on stderr."
)
def quantize(
    inputs: tuple[str, ...],
    output: str | None,
    out_dir: str,
    mirror_root: str | None,
    from_list: str | None,
    jobs: int,
    shard_spec: str | None,
    subtype: str | None,
    report_path: str | None,
    no_report: bool,
    summary_path: str | None,
    skip_existing: bool,
    plot_path: str | None,
    no_plot: bool,
    plot_window: tuple[float, float] | None,
    train: str | None,
    codebook: str | None,
    error_out: str | None,
    error_gain: float,
    metric: tuple[str, ...],
    force: bool,
    blocksize: int,
    quiet: bool,
    **chain_options: Any,
) -> None:
    """Quantize audio files and report the error.

    Reads each INPUT (any format libsndfile reads; - for a WAV stream on
    stdin), optionally resamples it, adds dither, quantizes it with the chosen
    scheme at N bits, and writes the audio, a JSON error report and a figure.

    Many inputs (arguments, then --from-list entries) run in --jobs worker
    processes; one failing input does not stop the others, and a summary line
    and exit code 1 tell of failures. Every output is written to a temporary
    file and renamed when complete: a failed or interrupted input (Ctrl-C,
    SIGTERM: exit code 1) leaves no file behind.
    """
    if jobs != 1:
        _one_blas_thread()
    _keep_freed_memory()
    if from_list is not None:
        inputs = (*inputs, *list_paths(from_list))
    if not inputs:
        raise _usage("give at least one INPUT (or --from-list FILE)")
    if len(inputs) > 1 and output is not None:
        raise _usage("-o/--output takes one input; use --out-dir with several")
    if len(inputs) > 1 and error_out is not None:
        raise _usage("--error-out takes one input")
    stdout_users = [
        name
        for name, value in (
            ("--report -", report_path),
            ("-o -", output),
            ("--summary -", summary_path),
        )
        if value == "-"
    ]
    if len(stdout_users) > 1:
        raise _usage(f"{' and '.join(stdout_users)} would both write to stdout")
    if inputs.count("-") + (from_list == "-") > 1:
        raise _usage("stdin (-) can be read only once")
    if mirror_root is not None and output is not None:
        raise _usage("--mirror places default-named outputs: not with -o/--output")
    if plot_window is not None and no_plot:
        raise _usage("--plot-window places the figure's waveform: not with --no-plot")
    if skip_existing and (no_report or report_path == "-"):
        raise _usage(
            "--skip-existing needs the report files (not --no-report or --report -)"
        )
    shard = _shard(shard_spec, quiet)
    config = build_config(
        subtype=subtype,
        error_gain_db=error_gain,
        blocksize=blocksize,
        train=train,
        codebook=codebook,
        plot_window=plot_window,
        metrics=metric,
        **chain_options,
    )
    from adcsim.io import _files as files
    from adcsim.io._containers import check_container, check_subtype, format_for_path
    from adcsim.quantizers._registry import make_quantizer
    from adcsim.run import _batch as batch
    from adcsim.run import _results as results
    from adcsim.run._config import LLOYDMAX
    from adcsim.run._outputs import OutputPaths, plan_outputs

    try:
        if subtype is not None:
            checked = check_subtype(format_for_path(output or "out.wav"), subtype)
            grid_bits = None  # (a Lloyd-Max codebook is on no grid)
            if config.scheme != LLOYDMAX:
                q = make_quantizer(config.scheme, bits=config.bits, **config.params)
                grid_bits = q.grid_bits
            check_container(checked, grid_bits, config.bits)
        if plot_path is not None:
            from adcsim.figures._quantize import check_plot_path

            check_plot_path(plot_path)
    except AdcsimError as exc:
        raise _usage(str(exc)) from None
    count = len(inputs) if shard is None else len(shard.select(inputs))
    if summary_path is not None and shard is not None:
        from adcsim.run._shards import shard_summary_path

        summary_path = shard_summary_path(summary_path, shard)
    if summary_path is not None:
        # A rerun with --skip-existing rewrites its summary (atomically).
        replace = force or skip_existing
        files.check_output_path(summary_path, force=replace, inputs=inputs)

    def plan(path: str) -> OutputPaths:
        directory = out_dir
        if mirror_root is not None:
            directory = batch.mirror_dir(path, root=mirror_root, out_dir=out_dir)
        paths = plan_outputs(
            path,
            config,
            output=output,
            out_dir=directory,
            report=report_path,
            plot=plot_path,
            no_plot=no_plot,
            no_report=no_report,
            error_out=error_out,
        )
        if summary_path is not None and summary_path != "-":
            for out in paths.files():
                if files.same_file(out, summary_path):
                    raise AdcsimError(
                        f"--summary {summary_path!r} is also an output of {path!r}"
                    )
        return paths

    bar = None
    file_bar: Any = None  # one input: how far it has been read
    if not quiet and sys.stderr.isatty():
        from adcsim.cli import _progress

        if count > 1:
            bar = _progress.Progress(count, sys.stderr)
        else:
            bar = file_bar = _progress.FileProgress(sys.stderr)

    def note(line: str) -> None:
        if bar is not None:
            bar.echo(line)
        else:
            click.echo(line, err=True)

    def show(item: results.BatchItem) -> None:
        if item.error is not None:
            if report_path == "-":
                line = json.dumps({"input": item.input, "error": item.error})
                click.echo(line)
            note(f"Error: {item.error}")
            return
        if item.report is None:  # not kept: nobody reads it (see `reports`)
            return
        if report_path == "-":
            click.echo(item.report.to_json(indent=None), nl=False)
        if not quiet:
            if item.skipped:
                note(
                    f"{item.input}: skipped, {item.report.output['path']} is up to date"
                )
                return
            note(_summary_line(item.report))
            for text in item.report.notes:
                note(f"notice: {text}")

    def advance(item: results.BatchItem) -> None:
        if bar is not None and count > 1:
            info = item.report.input if item.report is not None else {}
            rate, frames = info.get("sample_rate"), info.get("frames")
            bar.advance(frames / rate if rate and frames else 0.0)

    # Nobody reads the metrics with -q and no report or summary: skip them.
    measure = not (quiet and no_report and report_path is None and summary_path is None)
    previous = _catch_sigterm()
    try:
        result = batch.run_batch(
            inputs,
            config,
            plan,
            force=force,
            command=command_without_inputs(click.get_current_context()),
            on_item=show,
            on_done=advance,
            measure=measure,
            jobs=jobs,
            skip_existing=skip_existing,
            # --out-dir and --mirror trees are created as needed (mkdir -p).
            make_dirs=mirror_root is not None or out_dir != ".",
            reports=not quiet or report_path == "-" or summary_path is not None,
            # Seen by show() and forgotten; the summary keeps its rows only.
            keep_reports="rows" if summary_path is not None else False,
            debug=bool(click.get_current_context().meta.get(DEBUG)),
            progress=file_bar,
            shard=shard,
        )
    except results.BatchInterrupted as exc:
        if bar is not None:
            bar.close()
        click.echo(exc.summary(), err=True)
        raise KeyboardInterrupt from None
    finally:
        _restore_sigterm(previous)
    if bar is not None:
        bar.close()
    if summary_path is not None:
        results.write_summary(summary_path, result)
    if result.failed or (len(inputs) > 1 and not quiet):
        click.echo(result.summary(), err=True)
    if result.exit_code:
        sys.exit(result.exit_code)


def _shard(spec: str | None, quiet: bool) -> Any:
    """The `Shard` of ``--shard``; ``auto`` reads the scheduler's variables.

    Which variables were read goes to stderr (unless ``-q``): a shard taken
    from the wrong variable would silently run the wrong part.
    """
    if spec is None:
        return None
    from adcsim.run import _shards as shards

    head, _, tail = spec.partition("/")
    if head.strip() != "auto":
        try:
            return shards.parse_shard(spec)
        except AdcsimError as exc:
            raise _usage(str(exc)) from None
    count = None
    if tail:
        if not tail.strip().isdigit() or int(tail) < 1:
            raise _usage(f"shard={spec!r}: auto/N needs an integer N >= 1")
        count = int(tail)
    shard, used = shards.shard_from_environment(os.environ, count)
    if not quiet:
        click.echo(f"shard {shard.number}/{shard.count} (from {used})", err=True)
    return shard


def _keep_freed_memory() -> None:
    """Let glibc keep the memory of freed arrays for the next file.

    By default glibc hands the top of its heap back to the system when the
    arrays of a file are freed, and the next file faults the pages in again:
    1000 two-second files spent 0.7 s of a 3.6 s run in the kernel, 0.2 s
    with this. Arrays under 4 MiB now come from the heap, and up to 32 MiB of
    free heap is kept (mallopt M_MMAP_THRESHOLD and M_TRIM_THRESHOLD); peak
    memory of long files is unchanged. Nothing happens without glibc's
    mallopt. The command does this, not the library: it is process-wide.
    """
    import ctypes

    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is not None:
        mallopt(_M_MMAP_THRESHOLD, 4 << 20)
        mallopt(_M_TRIM_THRESHOLD, 32 << 20)


#: glibc's mallopt parameters (malloc.h).
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3

#: Thread-count variables of the BLAS/OpenMP libraries numpy may load.
_BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def _one_blas_thread() -> None:
    """One BLAS thread per process when --jobs runs several processes.

    Parallelism comes from the worker processes; BLAS threads on top of them
    only compete for the same cores (measured: 200 two-second files took 2.4 to
    3.8 s with --jobs 2 against 0.62 s with one BLAS thread per worker). Read
    by the libraries when numpy is first imported, so set before that; a value
    the user set is kept.
    """
    for name in _BLAS_THREAD_VARIABLES:
        os.environ.setdefault(name, "1")


def _catch_sigterm() -> Any:
    """SIGTERM stops a batch like Ctrl-C, also when `main` runs without `run`."""
    if threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGTERM, _signals.raise_interrupt)


def _restore_sigterm(previous: Any) -> None:
    if previous is not None:
        signal.signal(signal.SIGTERM, previous)


def _fmt(value: Any, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _summary_line(report: Any) -> str:
    m = report.metrics
    return (
        f"{report.input['path']} -> {report.output['path']}: "
        f"SNR {_fmt(m['snr_db'], '.2f')} dB, MSE {_fmt(m['mse'], '.3g')}, "
        f"max error {_fmt(m['max_abs_error'], '.3g')}, "
        f"levels {m['levels_used']}/{m['levels_available']}, "
        f"clipped {m['clipped_samples']}"
    )

"""One input file through the chain to its outputs, and batches of inputs.

``process_file`` reads an input block by block, resamples it (the reference
signal r), dithers and quantizes it, stores the output in its container, and
feeds the error meters and plot tap with r and the values actually written.
Every output goes to a temporary file and is renamed only when complete.
Batches of inputs are ``adcsim.run._batch``'s job. This module does not parse
options or print.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import numpy as np
from numpy.typing import NDArray

from adcsim._background import InOrder
from adcsim.errors import AdcsimError
from adcsim.io import _files as files
from adcsim.io._containers import (
    Container,
    check_container,
    check_subtype,
    choose_subtype,
    format_for_path,
    is_exact_subtype,
)
from adcsim.io._reader import AudioInfo, AudioReader
from adcsim.io._writer import AudioWriter
from adcsim.metrics._samples import checked_blocks
from adcsim.quantizers._base import Quantizer
from adcsim.quantizers._registry import make_quantizer
from adcsim.quantizers._stage import QuantizeStage
from adcsim.run import _adc as adc
from adcsim.run._config import LLOYDMAX, QuantizeConfig
from adcsim.run._outputs import STDIO, OutputPaths
from adcsim.run._provenance import HashingReader, HashingWriter, sha256_file, versions
from adcsim.run._report import Report
from adcsim.run._taps import EVERY_INT16, Taps, ValueTable
from adcsim.stages._chain import Chain, StreamInfo, Tap, as_float
from adcsim.stages._dither import DitherStage
from adcsim.stages._resample import Resampler

#: ``progress(phase, frames_read, total_frames, rate)``: see `process_file`.
Progress = Callable[[str, int, "int | None", int], None]


def _counted(
    blocks: Iterator[NDArray[Any]],
    reader: AudioReader,
    progress: Progress | None,
    phase: str,
) -> Iterator[NDArray[Any]]:
    """``blocks`` of ``reader``, telling ``progress`` the frames read after each."""
    if progress is None:
        yield from blocks
        return
    info, done = reader.info, 0
    for block in blocks:
        done += block.shape[0]
        progress(phase, done, info.frames, info.rate)
        yield block


def _shown(path: str) -> str:
    """An input's name in a message: quoted, or ``stdin``."""
    return "stdin" if path == STDIO else repr(path)


def build_chain(
    config: QuantizeConfig, quantizer: Quantizer, source: StreamInfo
) -> tuple[Chain, Tap, list[tuple[str, Any]]]:
    """The started chain of one run, its reference tap, and its named stages.

    Sampling (the resampler, or the converter's sampler: `adcsim.run._adc`),
    the reference tap (the signal r the error is measured against), the
    converter's static errors, then dither and quantizer, or one
    noise-shaping stage doing both. The names are the report's
    (``resample``, ``dither``, ...).
    """
    tap = Tap("reference")
    head, named = adc.sampling_stages(config, source, tap)
    static = adc.static_stages(config, quantizer.bits)
    named += static
    tail: list[tuple[str, Any]] = []
    if config.noise_shaping != "none":
        from adcsim.stages._shaping import NoiseShapingStage, get_filter

        rate = config.rate or source.rate
        shaping = get_filter(config.noise_shaping, rate)
        tail.append(
            (
                "noise_shaping",
                NoiseShapingStage(
                    quantizer, filter=shaping, dither=config.dither, seed=config.seed
                ),
            )
        )
    else:
        tail.append(
            (
                "dither",
                DitherStage(kind=config.dither, bits=quantizer.bits, seed=config.seed),
            )
        )
        tail.append(adc.quantize_stage(config, quantizer))
    named += tail
    chain = Chain([*head, *(s for _, s in static), *(s for _, s in tail)])
    chain.start(source)
    return chain, tap, named


def _stage_record(name: str, stage: Any) -> dict[str, Any]:
    record = {
        "name": name,
        "active": bool(stage.active),
        "counters": dict(stage.counters),
    }
    if hasattr(stage, "dither_active"):
        record["dither_active"] = bool(stage.dither_active)
    return record


def _check_outputs(
    paths: OutputPaths,
    input_path: str,
    force: bool,
    transfer_out: str | None = None,
    codebook: str | None = None,
) -> None:
    targets = paths.files()
    if transfer_out is not None:
        targets.append(transfer_out)
    if len(set(targets)) != len(targets):
        raise AdcsimError(f"output paths collide: {', '.join(targets)}")
    for path in targets:
        files.check_output_path(path, force=force, inputs=(input_path,))
    if codebook is not None:  # read or written, never overwritten by an output
        files.check_not_output(codebook, tuple(targets), "--codebook")


def process_file(
    input_path: str,
    config: QuantizeConfig,
    paths: OutputPaths,
    *,
    force: bool = False,
    command_line: str | None = None,
    stdin: BinaryIO | None = None,
    stdout: BinaryIO | None = None,
    measure: bool = True,
    progress: Progress | None = None,
) -> Report:
    """Quantize one input and write its outputs; return its report.

    Parameters
    ----------
    input_path : str
        A file libsndfile reads, or ``-`` for a WAV stream on ``stdin``.
    config : QuantizeConfig
        Validated settings.
    paths : OutputPaths
        Where audio, report, plot and error signal go. A report path of ``-``
        is left to the caller (the returned `Report`).
    force : bool
        Overwrite existing outputs (never an input).
    measure : bool
        Compute the error metrics; False (when nobody will read them) leaves
        them null and saves their cost.
    progress : callable, optional
        Called as ``progress(phase, frames, total, rate)`` after each block
        read: ``phase`` is ``"design"`` (the Lloyd-Max training pass) or
        ``"quantize"``, ``frames`` the input frames read so far, ``total``
        the input's length (None for a stream), ``rate`` its rate.

    Raises
    ------
    AdcsimError
        Bad input, unwritable or existing output; nothing is left behind.
    """
    static = adc.static_quantizer(config)
    transfer_out = adc.pending_transfer_out(config, static)
    _check_outputs(paths, input_path, force, transfer_out, config.codebook)
    quantizer: Quantizer
    if static is not None:
        quantizer = static
    elif config.scheme == LLOYDMAX:
        quantizer = make_quantizer(
            LLOYDMAX,
            bits=config.bits,
            codebook=lloydmax_codebook(config, input_path, progress),
        )
    else:
        params = tuple(sorted(config.params.items()))
        quantizer = _shared_quantizer(config.scheme, config.bits, params)
    if paths.plot is not None:
        from adcsim.figures import _quantize as plots  # (only runs with a figure)

        # The renderer's import (matplotlib's, for SVG and PDF, takes half a
        # second) runs while the main thread is inside numpy and libsndfile
        # (which release the GIL).
        InOrder(depth=1, name="adcsim-preload").submit(plots.preload, paths.plot)
    # stdin/stdout, or a FIFO or device path opened as a stream
    with files.opened_streams(input_path, paths.audio, stdin, stdout) as (
        stdin,
        stdout,
    ):
        return _process_file(
            input_path,
            config,
            quantizer,
            paths,
            command_line,
            stdin,
            stdout,
            measure,
            progress,
        )


@functools.lru_cache(maxsize=8)
def _shared_quantizer(
    scheme: str, bits: int, params: tuple[tuple[str, Any], ...]
) -> Quantizer:
    """One quantizer per setting, so that the files of a batch share its tables.

    Quantizers are memoryless but build look-up tables on first use (the codes
    of all 65536 int16 values took a tenth of the time of a two-second file).
    """
    return make_quantizer(scheme, bits=bits, **dict(params))


def _process_file(
    input_path: str,
    config: QuantizeConfig,
    quantizer: Quantizer,
    paths: OutputPaths,
    command_line: str | None,
    stdin: BinaryIO | None,
    stdout: BinaryIO | None,
    measure: bool,
    progress: Progress | None = None,
) -> Report:
    in_stream = HashingReader(stdin) if stdin is not None else None
    out_stream = HashingWriter(stdout) if stdout is not None else None
    with AudioReader(input_path, stdin=in_stream) as reader:  # type: ignore[arg-type]
        info = reader.info
        source = StreamInfo(
            info.rate, info.channels, info.bits, info.frames, dtype=reader.dtype
        )
        chain, tap, named = build_chain(config, quantizer, source)
        assert chain.info is not None
        fmt = format_for_path(paths.audio)
        if config.subtype is not None:
            subtype = check_subtype(fmt, config.subtype)
            check_container(subtype, quantizer.grid_bits, quantizer.bits)
        else:
            subtype = choose_subtype(fmt, quantizer.grid_bits)
        # the output a function of the input sample: the meters may count values
        memoryless = all(not s.active or isinstance(s, QuantizeStage) for _, s in named)
        long_int16 = (
            source.dtype == "int16"
            and (info.frames or 0) * info.channels >= COUNT_MIN_SAMPLES
        )
        # A file read at its own rate through stages that keep its length: a
        # WAV stream gets true sizes (a resampler's exact length is not
        # promised, and a wrong header would make the stream invalid).
        same = chain.info.rate == source.rate and chain.info.frames == info.frames
        known = info.frames if in_stream is None and same else None
        run = _Run(
            config,
            quantizer,
            chain.info,
            paths,
            subtype,
            out_stream,
            measure=measure,
            # (the perceptual metrics need the written values themselves)
            count_values=memoryless and long_int16 and not config.metrics,
            frames=known,
        )
        try:
            # Refused at the chain's entry: 1e300 went through every stage
            # and meter (numpy overflow warnings) before the tone figures did.
            blocks = checked_blocks(
                reader.blocks(config.blocksize, native=True), _shown(input_path)
            )
            for out in chain.run(_counted(blocks, reader, progress, "quantize")):
                if out.shape[0]:  # (a delaying stage may hand on nothing yet)
                    run.push(tap.pop(out.shape[0]), out)
            taps = run.taps
            run.commit()
        except BaseException:
            run.discard()
            raise
    lossy = not is_exact_subtype(subtype)
    if taps is not None and lossy and in_stream is None:  # (a stream: read once)
        taps = run.new_taps()
        _remeasure(taps, config, source, input_path, paths.audio)
        run.lossy_remeasured = True
    resampled = run.info.rate != source.rate
    run.start_plot(taps, input_path, resampled)
    # The hashes are the report's: when nobody reads it, they cost for nothing.
    # Taken after the audio work, whose cores they would share.
    input_sha = output_sha = None
    if measure or paths.report is not None:
        input_sha = (
            in_stream.hash.hexdigest()
            if in_stream is not None
            else sha256_file(input_path)
        )
        output_sha = (
            out_stream.hash.hexdigest()
            if out_stream is not None
            else sha256_file(paths.audio)
        )
    stages = [_stage_record(name, s) for name, s in named]
    last = named[-1][1]
    report = run.report(info, stages, _clipped_per_channel(last, info.channels), taps)
    if config.noise_shaping != "none":
        from adcsim.stages._shaping import NoiseShapingStage

        assert isinstance(last, NoiseShapingStage)
        report.settings["noise_shaping_filter"] = last.filter.to_dict()
    report.notes[:0] = reader.warnings
    if in_stream is not None:  # what arrived, whatever the header said
        report.input["frames"] = reader.frames_read
    report.provenance = {
        "command_line": command_line,
        "versions": versions(),
        "input_sha256": input_sha,
        "output_sha256": output_sha,
    }
    section = adc.adc_section(
        named,
        window=taps.tone_window() if taps is not None else None,
        metrics=report.metrics,
        rate=run.info.rate,
        bits=quantizer.bits,
        dither=config.dither,
    )
    if section is not None:
        report.extra["adc"] = section
    if config.converter.transfer_out is not None:
        adc.write_transfer_out(config, quantizer)
        report.output["transfer_out_path"] = config.converter.transfer_out
    if run.perceptual is not None:
        report.extra["perceptual"] = run.perceptual.result()
        if lossy:
            report.notes.append(
                "perceptual metrics describe the quantizer output before "
                f"the lossy {run.writer.subtype} encoding"
            )
    run.write_extras(report, taps)
    return report


def plot_title(input_path: str, audio_path: str, quantizer: Quantizer) -> str:
    """The figure's title: where from, where to, and how.

    Examples
    --------
    >>> plot_title("a.wav", "b.wav", make_quantizer("mulaw", bits=8))
    'a.wav -> b.wav: mulaw 8 bit'
    """
    return f"{input_path} -> {audio_path}: {quantizer.name} {quantizer.bits} bit"


def reference_chain(config: QuantizeConfig, source: StreamInfo) -> Chain:
    """The started chain that makes the reference r from the input (resampling)."""
    pre = Chain([Resampler(out_rate=config.rate)] if config.rate else [])
    pre.start(source)
    return pre


def _remeasure(
    taps: Taps, config: QuantizeConfig, source: StreamInfo, input_path: str, audio: str
) -> None:
    """Feed ``taps`` with the reference made again and the decoded output file.

    For lossy containers, whose decoded values adcsim cannot predict.
    """
    with AudioReader(input_path) as again, AudioReader(audio) as out:
        for ref in reference_chain(config, source).run(again.blocks(config.blocksize)):
            decoded = out.read_frames(ref.shape[0])
            n = decoded.shape[0]
            taps.update(np.asarray(ref[:n], dtype=np.float64), decoded)
            if n < ref.shape[0]:
                break


#: Samples from which the meters count int16 values (`Taps.count_values`):
#: the table costs about as much as measuring 2**18 samples directly.
COUNT_MIN_SAMPLES = 1 << 18


def value_table(stage: QuantizeStage, container: Container) -> ValueTable:
    """What ``stage`` and ``container`` make of every int16 value, once.

    The same stage and container code the chain runs, on all 65536 values, so
    the meters' value counts see exactly the values the file holds.
    """
    stage.start(StreamInfo(rate=1, channels=1, dtype="int16"))
    codes = stage.process(EVERY_INT16[:, None])
    _, written = container.store_codes(codes)
    assert written is not None
    return ValueTable(written[:, 0], codes[:, 0] if container.exact else None)


def lloydmax_codebook(
    config: QuantizeConfig, input_path: str, progress: Progress | None = None
) -> Any:
    """The Lloyd-Max codebook for one input: loaded, or designed (and saved).

    ``config.codebook`` names a JSON file: loaded when it exists and no
    ``config.train`` is given, else the design is saved there. The design runs
    on ``config.train`` or on the input itself, after the same resampling, in
    one streaming pass (``adcsim.quantizers._lloydmax.LloydMaxTrainer``).
    """
    from adcsim.quantizers._codebook import Codebook
    from adcsim.quantizers._lloydmax import LloydMaxTrainer

    if (
        config.codebook is not None
        and config.train is None
        and os.path.exists(config.codebook)
    ):
        book = Codebook.load(config.codebook)
        if book.bits != config.bits:
            raise AdcsimError(
                f"codebook {config.codebook!r} has bits={book.bits}, "
                f"not bits={config.bits}"
            )
        return book
    training = config.train if config.train is not None else input_path
    if files.is_stream(training):
        raise AdcsimError(
            f"lloydmax on a stream ({training!r}) needs --train FILE or an "
            "existing --codebook PATH (the input can be read only once)"
        )
    trainer = LloydMaxTrainer()
    with AudioReader(training) as reader:
        info = reader.info
        source = StreamInfo(info.rate, info.channels, info.bits, info.frames)
        blocks = _counted(
            checked_blocks(reader.blocks(config.blocksize), _shown(training)),
            reader,
            progress,
            "design",
        )
        for block in reference_chain(config, source).run(blocks):
            trainer.update(block)
    book = trainer.design(config.bits)
    if config.codebook is not None:
        book.save(config.codebook)
    return book


class _Run:
    """The writers and taps of one file: written values, measurements, report."""

    def __init__(
        self,
        config: QuantizeConfig,
        quantizer: Quantizer,
        info: StreamInfo,
        paths: OutputPaths,
        subtype: str,
        out_stream: Any,
        *,
        measure: bool = True,
        count_values: bool = False,
        frames: int | None = None,
    ) -> None:
        self.config, self.quantizer, self.info, self.paths = (
            config,
            quantizer,
            info,
            paths,
        )
        self.writer = AudioWriter(
            paths.audio,
            rate=info.rate,
            channels=info.channels,
            subtype=subtype,
            quantizer=quantizer,
            stdout=out_stream,
            frames=frames,
        )
        self.error_writer: AudioWriter | None = None
        self.error_gain = 10.0 ** (config.error_gain_db / 20.0)
        if paths.error is not None:
            err_fmt = format_for_path(paths.error)
            self.error_writer = AudioWriter(
                paths.error,
                rate=info.rate,
                channels=info.channels,
                subtype=choose_subtype(err_fmt, None),
            )
        self.measure = measure or paths.plot is not None
        self.taps: Taps | None = None
        if self.measure:
            self.taps = self.new_taps()
            if count_values and self.error_writer is None:
                self.taps.count_values(
                    value_table(QuantizeStage(quantizer), self.writer.container)
                )
        self.perceptual: Any = None
        if config.metrics:
            from adcsim.metrics._perceptual import PerceptualMeter

            self.perceptual = PerceptualMeter(
                config.metrics, rate=info.rate, channels=info.channels
            )
        self.frames = 0

    def new_taps(self) -> Taps:
        """Fresh taps for this run's stream."""
        return Taps(
            self.quantizer,
            rate=self.info.rate,
            channels=self.info.channels,
            frames=self.info.frames,
            plot=self.paths.plot is not None,
            weighted_bands=self.config.noise_shaping != "none",
            plot_window=self.config.plot_window,
        )

    def push(self, ref: NDArray[Any], out: NDArray[Any]) -> None:
        """Write one block leaving the chain and feed the taps.

        ``ref`` is the aligned block of the reference tap (native dtype),
        ``out`` codes or levels; the taps see the values actually written.
        """
        counted = self.taps is not None and self.taps.table is not None
        wanted = not counted and (
            self.taps is not None
            or self.error_writer is not None
            or self.perceptual is not None
        )
        written = self.writer.write(out, read_back=wanted)
        self.frames += ref.shape[0]
        if counted:
            assert self.taps is not None
            self.taps.update(ref, None)  # (measured from value counts)
            return
        if written is None:  # nobody reads the written values
            return
        codes = out if out.dtype.kind in "iu" and self.writer.container.exact else None
        if self.perceptual is not None:
            self.perceptual.update(as_float(ref), written)
        if self.taps is not None:
            self.taps.update(ref, written, codes)
        if self.error_writer is not None:
            self.error_writer.write((written - as_float(ref)) * self.error_gain)

    def commit(self) -> None:
        if self.frames == 0:
            raise AdcsimError(f"{self.paths.audio!r}: no frames to write")
        self.writer.commit()
        if self.error_writer is not None:
            self.error_writer.commit()

    def discard(self) -> None:
        self.writer.discard()
        if self.error_writer is not None:
            self.error_writer.discard()

    #: Set when a lossy output's figures were measured on the decoded file.
    lossy_remeasured = False

    def report(
        self,
        info: AudioInfo,
        stages: list[dict[str, Any]],
        clipped: list[int | None],
        taps: Taps | None,
    ) -> Report:
        q, config = self.quantizer, self.config
        if taps is not None:
            metrics, channels = taps.figures()
        else:
            # nobody reads the figures: their keys, all null
            metrics, channels = _null_figures(q, self.info)
        stage_counters = stages[-1]["counters"]
        metrics["clipped_samples"] = stage_counters["clipped_samples"]
        for channel, count in zip(channels, clipped):
            channel["clipped_samples"] = count
        notes = []
        if q.nominal_rate is not None and self.info.rate != q.nominal_rate:
            notes.append(
                f"{q.name} is specified at {q.nominal_rate} Hz; this stream "
                f"is at {self.info.rate} Hz (resample with --rate)"
            )
        if stage_counters.get("feedback_limited"):
            notes.append(
                f"noise-shaping feedback limited {stage_counters['feedback_limited']}"
                " times (overload)"
            )
        for record in stages:
            if record["counters"].get("modulator_error_limited"):
                notes.append(
                    "sigma-delta modulator overloaded: its fed-back error was "
                    f"limited {record['counters']['modulator_error_limited']} "
                    "times (the loop lost track; lower the input or use more "
                    "--modulator-bits)"
                )
        if config.dither != "none" and not any(
            s.get("dither_active", s["active"])
            for s in stages
            if s["name"] in ("dither", "noise_shaping")
        ):
            notes.append(
                "dither bypassed: the source already has at most "
                f"{config.bits} bits, so it sits on the target grid"
            )
        if metrics["clipped_samples"]:
            notes.append(f"{metrics['clipped_samples']} samples clipped at full scale")
        notes += config.notes(
            uniform=q.step is not None, rate=self.info.rate, frames=self.frames
        )
        if not is_exact_subtype(self.writer.subtype):
            if self.lossy_remeasured:
                notes.append(
                    f"container {self.writer.subtype} is lossy: the figures are "
                    "measured on the decoded file"
                )
            else:
                notes.append(
                    f"container {self.writer.subtype} is lossy: the figures "
                    "describe the quantizer output before encoding"
                )
        settings = config.settings()
        settings.update(q.params)
        output = {
            "path": self.paths.audio,
            "sample_rate": self.info.rate,
            "channels": self.info.channels,
            "frames": self.frames,
            "format": self.writer.format,
            "subtype": self.writer.subtype,
        }
        if self.paths.error is not None:
            output["error_path"] = self.paths.error
            output["error_gain_db"] = config.error_gain_db
        return Report(
            input={
                "path": info.path,
                "sample_rate": info.rate,
                "channels": info.channels,
                "frames": info.frames,
                "format": info.format,
                "subtype": info.subtype,
            },
            output=output,
            settings=settings,
            metrics=metrics,
            channels=channels,
            stages=stages,
            notes=notes,
        )

    def start_plot(
        self, taps: Taps | None, input_path: str, resampled: bool = False
    ) -> None:
        """Close the figure's data: the chart `write_extras` draws."""
        if taps is None or taps.plot is None or self.paths.plot is None:
            return
        from adcsim.figures import _quantize as plots

        taps.finish_plot()
        self._chart = plots.quantize_chart(
            taps.plot,
            quantizer=self.quantizer,
            title=plot_title(input_path, self.paths.audio, self.quantizer),
            resampled=resampled,
        )

    def write_extras(self, report: Report, taps: Taps | None) -> None:
        """Plot and report files (the report last, so it can name the plot)."""
        if taps is not None and taps.plot is not None and self.paths.plot is not None:
            from adcsim.figures import _quantize as plots

            plots.save_chart(self._chart, self.paths.plot)
            report.output["plot_path"] = self.paths.plot
        if self.paths.report is not None and self.paths.report != STDIO:
            report.output["report_path"] = self.paths.report
            files.write_text(self.paths.report, report.to_json())


def _null_figures(
    quantizer: Quantizer, info: StreamInfo
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The report's figure keys, all null (for a run that measured nothing)."""
    taps = Taps(
        quantizer, rate=info.rate, channels=info.channels, frames=None, plot=False
    )
    metrics, channels = taps.figures()
    keep = ("sqnr_theory_db", "step", "levels_available")
    blank = {k: (v if k in keep else None) for k, v in metrics.items()}
    return blank, [dict(blank) for _ in channels]


def _clipped_per_channel(stage: Any, channels: int) -> list[int | None]:
    """Per-channel overloads where the stage counts them per channel."""
    per_channel = getattr(stage, "clipped_per_channel", None)
    if per_channel is None:
        return [None] * channels
    return [int(c) for c in per_channel]

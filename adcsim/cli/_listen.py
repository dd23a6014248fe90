"""The ``adcsim listen`` and ``adcsim listen-results`` commands (Click).

Thin: parses options into `adcsim.listening._session` and `adcsim.listening._scoring`
calls and prints a summary to stderr. Imports nothing heavy at start-up;
commands import the library in their bodies. `AdcsimError` becomes
``Error: <message>`` (exit 1) in `adcsim.cli._boundary`, also outside the
``adcsim`` group; bad option values are usage errors (exit 2).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from adcsim.cli._boundary import AdcsimCommand
from adcsim.cli._options import (
    DITHER_KINDS,
    PATH,
    RATE,
    converter_config,
    converter_options,
    csv_option,
    force_option,
    plot_option,
    report_option,
    seed_option,
)
from adcsim.errors import AdcsimError

DESIGNS = ("mushra", "abx", "both")


LISTEN_EPILOG = """\b
Examples:
  adcsim listen speech.wav -o session/ --bits 6,8,12
  adcsim listen music.wav -o s/ --scheme uniform,mulaw --bits 8 --excerpt 10:8
  adcsim listen a.wav b.wav -o s/ --condition tel=scheme=alaw,bits=8,rate=8000
  adcsim listen take.wav -o s/ --file other=take_tool.wav --design abx --trials 20
  adcsim listen take.wav -o s/ --file short=take_cut.wav --pad
  adcsim listen music.wav -o s/ --bits 4,5,6,7,8,9,10,11,12,14 --max-per-trial 8
  adcsim listen speech.wav -o s/ --bits 6,8 --design mushra --allow-back
  adcsim listen music.wav -o s/ --bits 10,16 --dither tpdf --export webmushra
  adcsim listen music.wav -o s/ --bits 12 --noise-lsb 0.5  # all conditions
  adcsim listen music.wav -o s/ \\
      --condition cheap=bits=12,rate=16000,jitter=5e-9,anti-alias=off
"""

RESULTS_EPILOG = """\b
Examples:
  adcsim listen-results results/*.json --key session/key.json
  adcsim listen-results r1.json r2.json --key key.json --report - | jq .abx
  adcsim listen-results r*.json --key key.json --csv scores.csv --plot scores.png
  adcsim listen-results r*.json --key key.json --by item --by listener
  adcsim listen-results mushra.csv paired_comparison.csv --key key.json  # webMUSHRA
  adcsim listen-results 2026*_ann.txt --key key.json --allow-incomplete  # BeaqleJS
"""


def _comma_list(
    kind: Callable[[str], Any],
) -> Callable[[click.Context, click.Parameter, Any], Any]:
    def parse(ctx: click.Context, param: click.Parameter, value: Any) -> Any:
        if value is None:
            return None
        try:
            items = [kind(v.strip()) for v in value.split(",")]
        except ValueError:
            raise click.BadParameter(
                f"{value!r} is not a comma-separated list"
            ) from None
        if not items or "" in items:
            raise click.BadParameter(f"{value!r} has an empty item")
        return items

    return parse


def _list_option(
    name: str, kind: Callable[[str], Any], what: str
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A comma-separated ``LIST`` option; the lists of a command cross."""
    return click.option(
        name,
        callback=_comma_list(kind),
        metavar="LIST",
        help=f"{what}, comma-separated (cross product).",
    )


@click.command("listen", cls=AdcsimCommand, epilog=LISTEN_EPILOG)
@click.argument("references", nargs=-1, required=True, metavar="REFERENCE...")
@click.option(
    "-o",
    "--out-dir",
    type=PATH,
    required=True,
    metavar="DIR",
    help="Session directory (created; must not hold another session).",
)
@_list_option("--scheme", str, "Quantizer schemes")
@_list_option("--bits", int, "Bit depths")
@_list_option(
    "--rate", lambda text: RATE.convert(text, None, None), "Processing rates in Hz"
)
@_list_option("--dither", str, "Dither kinds (none, rpdf, tpdf)")
@click.option(
    "--condition",
    "condition_specs",
    multiple=True,
    metavar="NAME=OPTIONS",
    help='A named condition, e.g. "tel=scheme=mulaw,bits=8,rate=8000". Repeatable.',
)
@click.option(
    "--file",
    "file_specs",
    multiple=True,
    metavar="NAME=PATH",
    help="An existing file as a condition (one reference only). Repeatable.",
)
@click.option(
    "--design",
    type=click.Choice(DESIGNS),
    default="both",
    show_default=True,
    help="Which test sets to build.",
)
@click.option(
    "--trials",
    type=click.IntRange(1, 1000),
    default=16,
    show_default=True,
    help="ABX trials per reference and condition.",
)
@click.option(
    "--excerpt",
    metavar="START:DUR",
    help="Cut this excerpt (seconds) from every stimulus, with 20 ms fades.",
)
@click.option(
    "--mid-anchor", is_flag=True, help="Add the 7 kHz low-pass MUSHRA anchor."
)
@seed_option("Seeds dither, blinded names, orders and X.")
@click.option(
    "--export",
    "exports",
    multiple=True,
    type=click.Choice(["webmushra", "beaqlejs"]),
    help="Also write a configuration for this tool. Repeatable.",
)
@click.option(
    "--subtype",
    type=click.Choice(["PCM_16", "PCM_24"]),
    default="PCM_16",
    show_default=True,
    help="WAV sample format of the stimuli.",
)
@click.option(
    "--pad",
    is_flag=True,
    help="Let a --file differ in length from the reference (padded or cut).",
)
@click.option(
    "--allow-back",
    is_flag=True,
    help="Give the page a Back button (listeners may change answers).",
)
@click.option(
    "--max-per-trial",
    type=click.IntRange(2, 12),
    default=None,
    metavar="N",
    help="Split the conditions over MUSHRA trials of at most N stimuli (hidden "
    "reference and anchors included; without it more than 12 is an error).",
)
@force_option("Replace an earlier adcsim session in DIR (only the files it wrote).")
@converter_options
def listen(
    references: Sequence[str],
    out_dir: str,
    scheme: list[str] | None,
    bits: list[int] | None,
    rate: list[int] | None,
    dither: list[str] | None,
    condition_specs: Sequence[str],
    file_specs: Sequence[str],
    design: str,
    trials: int,
    excerpt: str | None,
    mid_anchor: bool,
    seed: int,
    exports: Sequence[str],
    subtype: str,
    pad: bool,
    allow_back: bool,
    max_per_trial: int | None,
    force: bool,
    **converter_values: Any,
) -> None:
    """Build a blind MUSHRA and ABX listening test that runs in any browser.

    Renders every condition against each REFERENCE, matches loudness (ITU-R
    BS.1770-4), hides the stimuli under random names in a seeded random order,
    and writes DIR/index.html (opens from the file system), DIR/key.json (keep
    it from listeners) and DIR/README.txt. Conditions are the cross product of
    --scheme, --bits, --rate and --dither, plus any --condition and --file.
    The converter options (--jitter, --noise-lsb, ...) apply to every
    rendered condition; a --condition's own keys (jitter=5e-9) win.
    """
    import dataclasses

    from adcsim.listening import _conditions as parsing
    from adcsim.listening import _session as listening
    from adcsim.quantizers._registry import SCHEMES

    converter = converter_config(converter_values)
    conditions = []
    if any(v is not None for v in (scheme, bits, rate, dither)):
        for name in scheme or []:
            if name not in SCHEMES:
                raise click.BadParameter(
                    f"{name!r} is not one of: {', '.join(SCHEMES)}",
                    param_hint="--scheme",
                )
        for kind in dither or []:
            if kind not in DITHER_KINDS:
                raise click.BadParameter(
                    f"{kind!r} is not one of: {', '.join(DITHER_KINDS)}",
                    param_hint="--dither",
                )
        if bits is None and (scheme is not None or dither is not None):
            raise click.BadParameter(
                "--scheme and --dither need --bits", param_hint="--bits"
            )
        crossed = parsing.cross_conditions(
            schemes=scheme or ["uniform"],
            bits=bits or [None],
            rates=rate or [None],
            dithers=dither or ["none"],
        )
        for condition in crossed:
            try:
                conditions.append(dataclasses.replace(condition, converter=converter))
            except AdcsimError as exc:
                raise click.BadParameter(str(exc), param_hint="--bits") from None

    def parse(text: str) -> Any:
        return parsing.parse_condition(text, converter=converter)

    for spec in condition_specs:
        conditions.append(_usage(parse, spec, "--condition"))
    for spec in file_specs:
        conditions.append(_usage(parsing.parse_file_condition, spec, "--file"))
    cut = (
        None if excerpt is None else _usage(parsing.parse_excerpt, excerpt, "--excerpt")
    )
    from adcsim.io import _files as files

    files.check_path(out_dir)  # (a name too long: one line, not OSError)
    session = listening.export_listening_test(
        references,
        out_dir,
        conditions=conditions,
        design=design,
        trials=trials,
        excerpt=cut,
        mid_anchor=mid_anchor,
        seed=seed,
        export=exports,
        subtype=subtype,
        force=force,
        pad=pad,
        allow_back=allow_back,
        max_per_trial=max_per_trial,
    )
    for warning in session.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(
        f"session {session.session_id}: {session.mushra_trials} MUSHRA and "
        f"{session.abx_trials} ABX trials, {session.stimuli} stimuli, "
        f"{session.size_bytes / 1e6:.1f} MB in {out_dir}",
        err=True,
    )
    click.echo(
        f"open {session.page}; move {session.key} away before listeners start", err=True
    )


@click.command("listen-results", cls=AdcsimCommand, epilog=RESULTS_EPILOG)
@click.argument("results", nargs=-1, required=True, metavar="RESULTS...")
@click.option(
    "--key",
    "key_path",
    type=PATH,
    required=True,
    metavar="DIR/key.json",
    help="The session's key file.",
)
@report_option("Write a JSON report (- stdout).")
@csv_option("Write the scores as CSV.")
@click.option(
    "--by",
    "by",
    multiple=True,
    type=click.Choice(["item", "listener"]),
    help="Also score per item or per listener. Repeatable.",
)
@click.option(
    "--allow-incomplete",
    is_flag=True,
    help="Score results that miss trials (the notes say which) instead of refusing.",
)
@plot_option("Draw MUSHRA scores with 95% intervals (PNG, SVG, PDF).")
@force_option()
def listen_results(
    results: Sequence[str],
    key_path: str,
    report_path: str | None,
    csv_path: str | None,
    by: Sequence[str],
    allow_incomplete: bool,
    plot_path: str | None,
    force: bool,
) -> None:
    """Score a listening test: de-blind and aggregate listeners' results.

    RESULTS are the session page's JSON downloads, webMUSHRA's mushra.csv and
    paired_comparison.csv, or BeaqleJS's downloaded .txt files. Checks every
    file against the key (another session, other trials or stimuli, the same
    file twice, two files of one listener and incomplete results are refused),
    applies the ITU-R BS.1534-3 post-screening to MUSHRA (ABX keeps every
    listener), and prints MUSHRA means with 95% confidence intervals and ABX
    totals with one-sided binomial p-values per condition and pooled.
    """
    from adcsim.io import _files as files
    from adcsim.listening import _scoring as listen_scoring

    scores = listen_scoring.score_results(
        results,
        key_path,
        by=tuple(dict.fromkeys(by)),
        allow_incomplete=allow_incomplete,
    )
    for path in (csv_path, plot_path, report_path):
        if path is not None:
            files.check_output_path(path, force=force, inputs=(*results, key_path))
    if report_path is not None:
        files.write_text(report_path, scores.to_json())
    if csv_path is not None:
        files.write_text(csv_path, scores.csv())
    if plot_path is not None:
        from adcsim.figures._listening import plot_scores

        try:
            plot_scores(scores).savefig(plot_path)
        except (OSError, ValueError) as exc:
            raise AdcsimError(f"cannot write {plot_path!r}: {exc}") from exc
    click.echo(scores.table(), nl=False, err=report_path == "-")


def _usage(parse: Callable[[str], Any], text: str, hint: str) -> Any:
    """Run a parser; its `AdcsimError` is a usage error (exit 2)."""
    try:
        return parse(text)
    except AdcsimError as exc:
        raise click.BadParameter(str(exc), param_hint=hint) from None

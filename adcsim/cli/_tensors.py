"""The ``adcsim tensors`` command: post-training quantization of model weights.

Responsible for the command's options, turning them into a frozen
`adcsim.tensors._report.TensorsConfig`, checking the outputs before any
work, and writing the table (stdout, or stderr when the JSON goes to
stdout), the JSON report and the CSV. Not responsible for reading
checkpoints, quantizing or measuring (`adcsim.tensors`). Imports only click
at the top: the library is imported in the command's body.
"""

from __future__ import annotations

import click

from adcsim.cli._boundary import AdcsimCommand
from adcsim.cli._options import PATH, csv_option, force_option, report_option
from adcsim.errors import AdcsimError

# The defaults of adcsim.tensors._report.TensorsConfig, repeated so that
# --help imports no numpy (tests/cli/test_tensors_cli.py checks they agree).
_SCHEMES = "int8"
_GRANULARITY = "channel"
_GROUP_SIZE = 128
_CALIBRATION = "minmax"
_PERCENTILE = 99.999
_MIN_SIZE = 1024


def _split(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(v.strip() for value in values for v in value.split(",") if v.strip())


@click.command(
    cls=AdcsimCommand,
    epilog="""\b
Examples:
  adcsim tensors model.safetensors
  adcsim tensors model.safetensors --scheme int8,int4,uint4 --granularity group
  adcsim tensors weights.npz -s int4 --calibration mse --exclude '*.bias'
  adcsim tensors model.safetensors -s int8 --report report.json --csv table.csv
"""
)
@click.argument("checkpoints", nargs=-1, required=True, type=PATH)
@click.option(
    "-s",
    "--scheme",
    "schemes",
    multiple=True,
    default=(_SCHEMES,),
    show_default=True,
    help="Schemes, comma-separated or repeated: int2..int16 (symmetric), "
    "uint2..uint16 (affine, with a zero point).",
)
@click.option(
    "--granularity",
    type=click.Choice(["tensor", "channel", "group"]),
    default=_GRANULARITY,
    show_default=True,
    help="One scale per tensor, per channel (along --axis) or per group of "
    "--group-size elements of the last axis.",
)
@click.option(
    "--axis", type=int, default=0, show_default=True, help="The channel axis."
)
@click.option(
    "--group-size",
    type=click.IntRange(1),
    default=_GROUP_SIZE,
    show_default=True,
    help="Elements per group (--granularity group).",
)
@click.option(
    "--calibration",
    type=click.Choice(["minmax", "percentile", "mse"]),
    default=_CALIBRATION,
    show_default=True,
    help="Clipping range: the extremes, ONNX Runtime's percentile of |x|, or "
    "the clipping ratio of least squared error.",
)
@click.option(
    "--percentile",
    type=click.FloatRange(0, 100, min_open=True),
    default=_PERCENTILE,
    show_default=True,
    help="The percentile of --calibration percentile.",
)
@click.option(
    "--include",
    multiple=True,
    metavar="GLOB",
    help="Quantize only tensors whose name matches (repeatable).",
)
@click.option(
    "--exclude",
    multiple=True,
    metavar="GLOB",
    help="Leave tensors whose name matches in float (repeatable).",
)
@click.option(
    "--min-size",
    type=click.IntRange(0),
    default=_MIN_SIZE,
    show_default=True,
    help="Tensors with fewer elements (biases, norms) stay in float.",
)
@report_option("Write the JSON report here ('-': stdout).")
@csv_option("Write one CSV line per tensor and scheme here ('-': stdout).")
@force_option()
def tensors(
    checkpoints: tuple[str, ...],
    schemes: tuple[str, ...],
    granularity: str,
    axis: int,
    group_size: int,
    calibration: str,
    percentile: float,
    include: tuple[str, ...],
    exclude: tuple[str, ...],
    min_size: int,
    report_path: str | None,
    csv_path: str | None,
    force: bool,
) -> None:
    """Quantize model weights and measure the error of every tensor.

    Reads .safetensors (every dtype, bf16 and fp8 included), .npy and .npz
    checkpoints tensor by tensor, applies each scheme to every selected
    floating tensor, and prints per tensor the SQNR, its uniform-noise
    theory at the measured clipping, the max |error|, the cosine similarity
    and the bits per weight including scales and zero points; then totals
    per checkpoint (size before and after, energy-weighted SQNR).
    """
    from adcsim.io import _files as files
    from adcsim.tensors._report import TensorsConfig, measure_checkpoints

    names = _split(schemes)
    if not names:
        raise click.BadParameter("no scheme given", param_hint="'--scheme'")
    config = TensorsConfig(
        schemes=names,
        granularity=granularity,
        axis=axis,
        group_size=group_size,
        calibration=calibration,
        percentile=percentile,
        include=include,
        exclude=exclude,
        min_size=min_size,
    )
    config.tensor_schemes()  # a bad name fails before any file is read
    if report_path is not None and report_path == csv_path:
        raise AdcsimError(f"--report and --csv are both {report_path!r}")
    for path in (report_path, csv_path):
        if path is not None:
            files.check_output_path(path, force=force, inputs=checkpoints)
    report = measure_checkpoints(list(checkpoints), config)
    to_stderr = "-" in (report_path, csv_path)
    click.echo(report.table(), nl=False, err=to_stderr)
    if report_path is not None:
        files.write_text(report_path, report.to_json())
    if csv_path is not None:
        files.write_text(csv_path, report.to_csv())

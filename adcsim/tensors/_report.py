"""The report of ``adcsim tensors``: every selected tensor under every scheme.

`measure_checkpoints` reads each checkpoint tensor by tensor (one tensor in
memory at a time), applies each scheme of a `TensorsConfig`, and returns a
`TensorsReport`: one row per tensor and scheme (null metrics where a tensor
stays in float) and totals per checkpoint and scheme. Responsible for the
selection rules (``include``/``exclude`` globs, ``min_size``, floating
tensors only) and the JSON/CSV/table forms; not for reading files
(`adcsim.tensors._readers`), the schemes (`adcsim.tensors._schemes`) or
writing outputs (the command, `adcsim.cli._tensors`).
"""

from __future__ import annotations

import csv
import fnmatch
import io
import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from adcsim.tensors._metrics import tensor_metrics, uniform_theory_db
from adcsim.tensors._readers import TensorEntry, as_float, read_checkpoint
from adcsim.tensors._schemes import (
    DEFAULT_GROUP_SIZE,
    DEFAULT_PERCENTILE,
    TensorScheme,
    _Layout,
    parse_scheme,
    quantize,
)

#: Version of the JSON report's layout.
SCHEMA_VERSION = 1
#: Tensors with fewer elements stay in float by default (biases, norms).
DEFAULT_MIN_SIZE = 1024
#: The keys of each row of the report's ``tensors`` list, in order.
ROW_KEYS = (
    "file",
    "name",
    "scheme",
    "shape",
    "dtype",
    "elements",
    "quantized",
    "left_in_float",
    "sqnr_db",
    "theory_sqnr_db",
    "mse",
    "max_abs_error",
    "cosine",
    "bits_per_weight",
    "clipped",
)


@dataclass(frozen=True)
class TensorsConfig:
    """What ``adcsim tensors`` does (the CLI's defaults are read from here).

    Parameters
    ----------
    schemes : tuple of str
        Scheme names (``int8``, ``uint4``...), each applied to every tensor.
    granularity, axis, group_size, calibration, percentile
        See `TensorScheme`.
    include, exclude : tuple of str
        Glob patterns on tensor names: a tensor is selected when it matches
        an ``include`` pattern (or none is given) and no ``exclude`` one.
    min_size : int >= 0
        Tensors with fewer elements are reported, left in float.
    """

    schemes: tuple[str, ...] = ("int8",)
    granularity: str = "channel"
    axis: int = 0
    group_size: int = DEFAULT_GROUP_SIZE
    calibration: str = "minmax"
    percentile: float = DEFAULT_PERCENTILE
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    min_size: int = DEFAULT_MIN_SIZE

    def tensor_schemes(self) -> list[TensorScheme]:
        """The `TensorScheme` of each name (raises `AdcsimError` on a bad one)."""
        return [
            parse_scheme(
                name,
                granularity=self.granularity,
                axis=self.axis,
                group_size=self.group_size,
                calibration=self.calibration,
                percentile=self.percentile,
            )
            for name in self.schemes
        ]

    def selected(self, name: str) -> bool:
        """Whether the tensor ``name`` passes ``include`` and ``exclude``."""
        if self.include and not any(fnmatch.fnmatchcase(name, p) for p in self.include):
            return False
        return not any(fnmatch.fnmatchcase(name, p) for p in self.exclude)


@dataclass
class TensorsReport:
    """Rows per tensor and scheme, totals per checkpoint and scheme."""

    config: TensorsConfig
    rows: list[dict[str, Any]] = field(default_factory=list)
    checkpoints: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: schema version, versions, config, checkpoints, tensors."""
        from adcsim._version import __version__

        config = asdict(self.config)
        return {
            "schema_version": SCHEMA_VERSION,
            "adcsim_version": __version__,
            "numpy_version": np.__version__,
            "config": {
                k: list(v) if isinstance(v, tuple) else v for k, v in config.items()
            },
            "checkpoints": self.checkpoints,
            "tensors": self.rows,
        }

    def to_json(self) -> str:
        """`to_dict` as JSON (inf and NaN as null)."""
        from adcsim.run._report import plain

        return json.dumps(plain(self.to_dict()), indent=2, allow_nan=False) + "\n"

    def to_csv(self) -> str:
        """One line per tensor and scheme, the columns of `ROW_KEYS`."""
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(ROW_KEYS)
        for row in self.rows:
            values = []
            for key in ROW_KEYS:
                value = row[key]
                if key == "shape":
                    value = "x".join(str(d) for d in value)
                elif value is None or (
                    isinstance(value, float) and not math.isfinite(value)
                ):
                    value = ""
                values.append(value)
            writer.writerow(values)
        return out.getvalue()

    def table(self) -> str:
        """The terminal table: one line per row, then the totals."""
        head = f"{'tensor':32s} {'scheme':16s} {'shape':>14s} {'SQNR dB':>8s} "
        head += f"{'theory':>7s} {'max|err|':>9s} {'cosine':>8s} {'bits/w':>7s}"
        lines = [head]
        for row in self.rows:
            shape = "x".join(str(d) for d in row["shape"]) or "scalar"
            if row["quantized"]:
                cells = (
                    _num(row["sqnr_db"], 2, 8),
                    _num(row["theory_sqnr_db"], 2, 7),
                    _num(row["max_abs_error"], 5, 9, "g"),
                    _num(row["cosine"], 6, 8),
                    _num(row["bits_per_weight"], 3, 7),
                )
                tail = " ".join(cells)
            else:
                tail = f"left in float ({row['left_in_float']})"
            lines.append(
                f"{row['name'][:32]:32s} {row['scheme'][:16]:16s} {shape:>14s} {tail}"
            )
        for ck in self.checkpoints:
            for total in ck["totals"]:
                lines.append(
                    f"total {ck['file']} {total['scheme']}: "
                    f"{total['quantized_tensors']}/{ck['tensors']} tensors quantized, "
                    f"{total['size_before_bytes']} -> "
                    f"{total['size_after_bytes']} bytes, "
                    f"weighted SQNR {_num(total['weighted_sqnr_db'], 2, 0)} dB"
                )
        return "\n".join(lines) + "\n"


def _num(value: Any, digits: int, width: int, kind: str = "f") -> str:
    if value is None:
        return f"{'-':>{width}s}"
    return f"{value:>{width}.{digits}{kind}}"


def _reason(entry: TensorEntry, config: TensorsConfig) -> str | None:
    """Why ``entry`` stays in float, or None when it is quantized."""
    if not config.selected(entry.name):
        return "excluded"
    if not entry.is_float:
        return "not floating"
    if entry.size < config.min_size:
        return "min-size"
    return None


def _row(path: str, entry: TensorEntry, scheme: TensorScheme) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(ROW_KEYS)
    row.update(
        file=path,
        name=entry.name,
        scheme=scheme.label,
        shape=list(entry.shape),
        dtype=entry.dtype,
        elements=entry.size,
        quantized=False,
    )
    return row


def measure_checkpoints(
    paths: list[str],
    config: TensorsConfig,
    progress: Callable[[int], None] | None = None,
) -> TensorsReport:
    """Quantize every selected tensor of ``paths`` under each scheme; measure.

    Parameters
    ----------
    paths : list of str
        Checkpoints (see `read_checkpoint`).
    config : TensorsConfig
    progress : callable, optional
        Called with the stored bytes of each tensor once it is done.

    Returns
    -------
    TensorsReport

    Raises
    ------
    AdcsimError
        A bad scheme, an unreadable checkpoint, a tensor holding NaN or inf.

    Examples
    --------
    >>> import os, tempfile
    >>> rng = np.random.default_rng(0)
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "m.npz")
    ...     np.savez(path, w=rng.standard_normal((64, 64)), b=np.zeros(64))
    ...     report = measure_checkpoints([path], TensorsConfig(schemes=("int8",)))
    >>> [(r["name"], r["left_in_float"]) for r in report.rows]
    [('w', None), ('b', 'min-size')]
    >>> w = report.rows[0]  # close to the uniform noise formula, 8 + 32/64 bits
    >>> abs(w["sqnr_db"] - w["theory_sqnr_db"]) < 0.2, w["bits_per_weight"]
    (True, 8.5)
    """
    schemes = config.tensor_schemes()
    report = TensorsReport(config)
    for path in paths:
        entries = read_checkpoint(path)
        totals = {
            s.label: {"signal": 0.0, "noise": 0.0, "after": 0.0, "quantized": 0}
            for s in schemes
        }
        before = 0
        for entry in entries:
            before += entry.nbytes
            reason = _reason(entry, config)
            x = None if reason else as_float(entry.load())
            for scheme in schemes:
                row = _row(path, entry, scheme)
                total = totals[scheme.label]
                if x is None:
                    row["left_in_float"] = reason
                    total["after"] += entry.nbytes
                else:
                    _measure(row, x, scheme, total)
                report.rows.append(row)
            if progress is not None:
                progress(entry.nbytes)
        report.checkpoints.append(
            {
                "file": path,
                "tensors": len(entries),
                "elements": sum(e.size for e in entries),
                "totals": [
                    {
                        "scheme": label,
                        "quantized_tensors": t["quantized"],
                        "size_before_bytes": before,
                        "size_after_bytes": int(math.ceil(t["after"])),
                        "weighted_sqnr_db": _weighted(t["signal"], t["noise"]),
                    }
                    for label, t in totals.items()
                ],
            }
        )
    return report


def _weighted(signal: float, noise: float) -> float | None:
    if signal == 0:
        return None
    if noise == 0:
        return math.inf
    return 10.0 * math.log10(signal / noise)


def _measure(
    row: dict[str, Any],
    x: np.ndarray[Any, Any],
    scheme: TensorScheme,
    total: dict[str, Any],
) -> None:
    q = quantize(x, scheme)
    y = q.dequantize()
    metrics = tensor_metrics(x, y)
    layout = _Layout(x.shape, scheme)
    steps = layout.from_groups(
        np.broadcast_to(q.scales.reshape(-1, 1), layout.to_groups(x).shape)
    )
    bpw = q.bits_per_weight()
    row.update(
        quantized=True,
        sqnr_db=metrics["sqnr_db"],
        theory_sqnr_db=uniform_theory_db(x, steps),
        mse=metrics["mse"],
        max_abs_error=metrics["max_abs_error"],
        cosine=metrics["cosine"],
        bits_per_weight=bpw,
        clipped=q.clipped,
    )
    total["signal"] += metrics["signal_energy"]
    total["noise"] += metrics["noise_energy"]
    total["after"] += x.size * bpw / 8
    total["quantized"] += 1

"""Lloyd-Max codebooks: the designed levels and thresholds, as data and JSON.

Responsible for `Codebook`: validating and freezing a designed N-bit
quantizer's output levels and decision thresholds (with the design's MSE and
iteration count), and saving and loading it as JSON (``--codebook``). Not
responsible for designing one (`adcsim.quantizers._lloydmax`) or for applying
one to a signal (`adcsim.quantizers._lloydmax_scheme.LloydMaxQuantizer`).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from adcsim.errors import AdcsimError

#: Largest supported depth: 65536 levels.
MAX_BITS = 16
#: Version of the JSON codebook format written by `Codebook.to_dict`.
CODEBOOK_SCHEMA_VERSION = 1


class _InvalidCodebook(ValueError):
    """A codebook field is malformed; callers add the context (file or class)."""


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _as_vector(name: str, value: object, size: int) -> NDArray[np.float64]:
    try:
        vector = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _InvalidCodebook(f"{name} must be a list of numbers") from None
    if vector.shape != (size,):
        raise _InvalidCodebook(
            f"{name} must hold {size} numbers, got shape {vector.shape}"
        )
    if not np.isfinite(vector).all():
        raise _InvalidCodebook(f"{name} must be finite")
    vector.setflags(write=False)
    return vector


def _check_fields(
    bits: object,
    levels: object,
    thresholds: object,
    design_mse: object,
    iterations: object,
    converged: object,
) -> tuple[int, NDArray[np.float64], NDArray[np.float64], float, int, bool]:
    """Validate and normalize the fields of a `Codebook`; raise `_InvalidCodebook`."""
    if (
        isinstance(bits, bool)
        or not isinstance(bits, (int, np.integer))
        or not 1 <= bits <= MAX_BITS
    ):
        raise _InvalidCodebook(f"bits={bits!r} must be an integer in [1, {MAX_BITS}]")
    count = 1 << int(bits)
    y = _as_vector("levels", levels, count)
    t = _as_vector("thresholds", thresholds, count - 1)
    # levels[i] < thresholds[i] <= levels[i + 1]: every level lies in its own
    # cell [thresholds[i - 1], thresholds[i]), so Q(level) == level.
    bad = np.flatnonzero((y[:-1] >= t) | (t > y[1:]))
    if bad.size:
        i = int(bad[0])
        raise _InvalidCodebook(
            "levels must ascend with thresholds between them, but not "
            f"levels[{i}]={float(y[i])!r} < thresholds[{i}]={float(t[i])!r} "
            f"<= levels[{i + 1}]={float(y[i + 1])!r}"
        )
    if not (
        isinstance(design_mse, (int, float, np.floating))
        and not isinstance(design_mse, bool)
        and math.isfinite(design_mse)
        and design_mse >= 0
    ):
        raise _InvalidCodebook(
            f"design_mse={design_mse!r} must be a finite number >= 0"
        )
    if (
        isinstance(iterations, bool)
        or not isinstance(iterations, (int, np.integer))
        or iterations < 0
    ):
        raise _InvalidCodebook(f"iterations={iterations!r} must be an integer >= 0")
    if not isinstance(converged, (bool, np.bool_)):
        raise _InvalidCodebook(f"converged={converged!r} must be true or false")
    return int(bits), y, t, float(design_mse), int(iterations), bool(converged)


_DICT_KEYS = (
    "schema_version",
    "bits",
    "levels",
    "thresholds",
    "design_mse",
    "iterations",
    "converged",
)


@dataclass(frozen=True, eq=False)
class Codebook:
    """A designed N-bit scalar quantizer: output levels and decision thresholds.

    Sample ``x`` falls in cell ``i``, the number of thresholds ``<= x``, and is
    reproduced as ``levels[i]``. Construction validates and freezes the fields
    (the arrays become read-only float64 copies).

    Parameters
    ----------
    bits : int in [1, 16]
        Depth N.
    levels : array_like of float, shape (2**N,)
        Output levels, strictly ascending, finite.
    thresholds : array_like of float, shape (2**N - 1,)
        Decision thresholds with ``levels[i] < thresholds[i] <= levels[i + 1]``
        (Lloyd-Max designs put them at the midpoints).
    design_mse : float >= 0
        Mean squared error on the training data (full-scale units).
    iterations : int >= 0
        Lloyd iterations the design ran.
    converged : bool
        Whether the design met its tolerance within ``max_iter`` iterations.

    Raises
    ------
    AdcsimError
        A field has the wrong type, shape or order, or is not finite.

    See Also
    --------
    design_lloyd_max : designs a codebook from data.
    LloydMaxTrainer : the streaming form of the design.

    Examples
    --------
    >>> cb = Codebook(bits=1, levels=[-0.5, 0.5], thresholds=[0.0],
    ...               design_mse=0.0, iterations=0, converged=True)
    >>> cb.to_dict()["levels"]
    [-0.5, 0.5]
    >>> Codebook.from_dict(cb.to_dict()) == cb
    True
    >>> Codebook(bits=1, levels=[0.5, -0.5], thresholds=[0.0], design_mse=0.0,
    ...          iterations=0, converged=True)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    adcsim.errors.AdcsimError: codebook: levels must ascend ... levels[1]=-0.5
    """

    bits: int
    levels: NDArray[np.float64]
    thresholds: NDArray[np.float64]
    design_mse: float
    iterations: int
    converged: bool

    def __post_init__(self) -> None:
        try:
            fields = _check_fields(
                self.bits,
                self.levels,
                self.thresholds,
                self.design_mse,
                self.iterations,
                self.converged,
            )
        except _InvalidCodebook as exc:
            raise AdcsimError(f"codebook: {exc}") from None
        for name, value in zip(
            ("bits", "levels", "thresholds", "design_mse", "iterations", "converged"),
            fields,
        ):
            object.__setattr__(self, name, value)

    def __eq__(self, other: object) -> bool:
        """Exact equality of every field (arrays element by element)."""
        if not isinstance(other, Codebook):
            return NotImplemented
        return (
            self.bits == other.bits
            and np.array_equal(self.levels, other.levels)
            and np.array_equal(self.thresholds, other.thresholds)
            and self.design_mse == other.design_mse
            and self.iterations == other.iterations
            and self.converged == other.converged
        )

    def __repr__(self) -> str:
        return (
            f"Codebook(bits={self.bits}, design_mse={self.design_mse!r}, "
            f"iterations={self.iterations}, converged={self.converged})"
        )

    def to_dict(self) -> dict[str, Any]:
        """The codebook as plain JSON types, in a stable key order.

        Floats survive a JSON round trip exactly (``json`` writes ``repr``).
        """
        return {
            "schema_version": CODEBOOK_SCHEMA_VERSION,
            "bits": self.bits,
            "levels": self.levels.tolist(),
            "thresholds": self.thresholds.tolist(),
            "design_mse": self.design_mse,
            "iterations": self.iterations,
            "converged": self.converged,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Codebook:
        """Rebuild a codebook from `to_dict` output, validating every field.

        Raises
        ------
        AdcsimError
            A key is missing or unknown, or a field is malformed.
        """
        try:
            return cls._from_dict(data)
        except _InvalidCodebook as exc:
            raise AdcsimError(f"codebook: {exc}") from None

    @classmethod
    def _from_dict(cls, data: object) -> Codebook:
        if not isinstance(data, Mapping):
            raise _InvalidCodebook("expected a JSON object")
        missing = [key for key in _DICT_KEYS if key not in data]
        if missing:
            raise _InvalidCodebook(f"missing key {missing[0]!r}")
        unknown = sorted(str(key) for key in data if key not in _DICT_KEYS)
        if unknown:
            raise _InvalidCodebook(f"unknown key {unknown[0]!r}")
        version = data["schema_version"]
        if version != CODEBOOK_SCHEMA_VERSION or not _is_number(version):
            raise _InvalidCodebook(
                f"schema_version={version!r} is not {CODEBOOK_SCHEMA_VERSION}"
            )
        for name in ("levels", "thresholds"):
            values = data[name]
            if not isinstance(values, list) or not all(_is_number(v) for v in values):
                raise _InvalidCodebook(f"{name} must be a list of numbers")
        if not _is_number(data["design_mse"]):
            raise _InvalidCodebook(
                f"design_mse={data['design_mse']!r} must be a finite number >= 0"
            )
        fields = _check_fields(
            data["bits"],
            data["levels"],
            data["thresholds"],
            data["design_mse"],
            data["iterations"],
            data["converged"],
        )
        return cls(*fields)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the codebook as JSON, atomically.

        The text goes to a temporary file in the same directory, which then
        replaces ``path`` (``os.replace``), so a reader never sees a partial
        file. An existing file is overwritten.

        Raises
        ------
        AdcsimError
            The file cannot be written; the message names it.

        See Also
        --------
        load : the inverse.
        """
        path = Path(path)
        text = json.dumps(self.to_dict(), indent=1) + "\n"
        import secrets

        tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
        try:
            # O_EXCL: never write through someone else's file; mode 0o666 lets
            # the umask decide the permissions, as for any other output.
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except OSError as exc:
            if tmp.exists():
                tmp.unlink()
            raise AdcsimError(
                f"cannot write codebook '{path}': {_reason(exc)}"
            ) from exc

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Codebook:
        """Read a codebook written by `save`, validating shape, order and values.

        Raises
        ------
        AdcsimError
            The file is missing, unreadable, not JSON, or not a valid codebook;
            the message names the file.

        See Also
        --------
        save : the inverse.
        """
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError as exc:
            raise AdcsimError(f"cannot read codebook '{path}': no such file") from exc
        except OSError as exc:
            raise AdcsimError(f"cannot read codebook '{path}': {_reason(exc)}") from exc
        except UnicodeDecodeError as exc:
            raise AdcsimError(f"cannot read codebook '{path}': not UTF-8 text") from exc
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise AdcsimError(
                f"cannot read codebook '{path}': not valid JSON "
                f"({exc.msg.lower()} at line {exc.lineno})"
            ) from exc
        try:
            return cls._from_dict(data)
        except _InvalidCodebook as exc:
            raise AdcsimError(f"invalid codebook '{path}': {exc}") from None


def _reason(exc: OSError) -> str:
    """A one-line lowercase reason for an OS error."""
    return (exc.strerror or type(exc).__name__).lower()

"""Checkpoint readers: ``.safetensors``, ``.npy`` and ``.npz``, tensor by tensor.

`read_checkpoint` lists a checkpoint's tensors as `TensorEntry` objects whose
`TensorEntry.load` maps (or reads) one tensor at a time, so a 1-GB file never
sits in memory whole. Responsible for checking every header against the file
(a hostile file gives one `AdcsimError` naming it); not for quantizing or
measuring (`adcsim.tensors._schemes`, `adcsim.tensors._metrics`).

The safetensors format is read with numpy from its documented layout
(huggingface/safetensors ``README.md``: an 8-byte little-endian header length
N, N bytes of JSON mapping each name to ``dtype``, ``shape`` and
``data_offsets`` relative to the byte after the header, an optional
``__metadata__`` of strings) rather than through the ``safetensors`` package:
its numpy loader cannot return bf16 or fp8 tensors (numpy has no such dtype;
``ml_dtypes`` does), and ``np.memmap`` of the data region gives each tensor
zero-copy, in 40 lines, with no further dependency.
"""

from __future__ import annotations

import json
import math
import os
import struct
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from adcsim.errors import AdcsimError

#: The format's own limit on the header (huggingface/safetensors, 100 MB).
MAX_HEADER_BYTES = 100_000_000

# safetensors dtype names -> numpy dtype (a string: ml_dtypes' names resolve
# through `_numpy_dtype`, which imports it only when such a tensor is there).
_SAFETENSORS_DTYPES = {
    "F64": "float64",
    "F32": "float32",
    "F16": "float16",
    "BF16": "bfloat16",
    "F8_E4M3": "float8_e4m3fn",
    "F8_E5M2": "float8_e5m2",
    "I64": "int64",
    "I32": "int32",
    "I16": "int16",
    "I8": "int8",
    "U64": "uint64",
    "U32": "uint32",
    "U16": "uint16",
    "U8": "uint8",
    "BOOL": "bool",
}
_ML_DTYPES = {"bfloat16", "float8_e4m3fn", "float8_e5m2"}


def _numpy_dtype(name: str) -> np.dtype[Any]:
    """The numpy dtype ``name``, bf16 and fp8 through ``ml_dtypes``."""
    if name in _ML_DTYPES:
        try:
            import ml_dtypes
        except ImportError as exc:
            raise AdcsimError(
                f"{name} tensors need ml_dtypes: pip install adcsim[tensors]"
            ) from exc
        return np.dtype(getattr(ml_dtypes, name))
    return np.dtype(name).newbyteorder("<")


@dataclass(frozen=True)
class TensorEntry:
    """One tensor of a checkpoint, described before it is read.

    Attributes
    ----------
    name : str
        The tensor's name (``layer.0.weight``; an ``.npy`` file's is its stem).
    dtype : str
        Its stored type (``float16``, ``bfloat16``, ``float8_e4m3fn``...).
    shape : tuple of int
    nbytes : int
        Its stored size in bytes.
    load : callable
        Returns the tensor as a read-only numpy array (memory-mapped where the
        format allows).
    """

    name: str
    dtype: str
    shape: tuple[int, ...]
    nbytes: int
    load: Callable[[], np.ndarray[Any, Any]]

    @property
    def size(self) -> int:
        """Number of elements."""
        return math.prod(self.shape)

    @property
    def is_float(self) -> bool:
        """Whether the tensor holds floating-point values (what is quantized)."""
        return self.dtype.startswith(("float", "bfloat"))


def read_checkpoint(path: str) -> list[TensorEntry]:
    """The tensors of ``path`` (``.safetensors``, ``.npy``, ``.npz``), in file order.

    Parameters
    ----------
    path : str
        A checkpoint file; its extension names the format.

    Returns
    -------
    list of TensorEntry
        Each loads its tensor on demand.

    Raises
    ------
    AdcsimError
        A missing, unreadable, truncated or malformed file, or an unknown format.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "w.npz")
    ...     np.savez(path, a=np.ones((2, 3), np.float32), b=np.zeros(4))
    ...     entries = read_checkpoint(path)
    ...     entries = [(e.name, e.shape, float(e.load().sum())) for e in entries]
    >>> entries
    [('a', (2, 3), 6.0), ('b', (4,), 0.0)]
    """
    from adcsim.io._files import check_input_path

    check_input_path(path)
    lower = path.lower()
    if lower.endswith(".safetensors"):
        return _read_safetensors(path)
    if lower.endswith(".npy"):
        return [_read_npy(path)]
    if lower.endswith(".npz"):
        return _read_npz(path)
    raise AdcsimError(
        f"cannot read {path!r}: unknown checkpoint format (allowed: .safetensors, "
        ".npy, .npz)"
    )


def _bad(path: str, why: str) -> AdcsimError:
    return AdcsimError(f"cannot read {path!r}: {why}")


def _read_safetensors(path: str) -> list[TensorEntry]:
    size = os.path.getsize(path)
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise _bad(path, "truncated safetensors header")
            (length,) = struct.unpack("<Q", head)
            if length > MAX_HEADER_BYTES or 8 + length > size:
                raise _bad(
                    path,
                    f"safetensors header of {length} bytes does not fit in the "
                    f"{size}-byte file",
                )
            text = f.read(length)
    except OSError as exc:
        raise _bad(path, (exc.strerror or str(exc)).lower()) from exc
    try:
        header = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _bad(path, f"safetensors header is not valid JSON ({exc})") from exc
    if not isinstance(header, dict):
        raise _bad(path, "safetensors header is not a JSON object")
    start = 8 + length
    data_size = size - start
    entries = []
    for name, info in header.items():
        if name == "__metadata__":
            continue
        entries.append(_safetensors_entry(path, name, info, start, data_size))
    entries.sort(key=lambda e: e[1])
    return [e[0] for e in entries]


def _safetensors_entry(
    path: str, name: str, info: object, start: int, data_size: int
) -> tuple[TensorEntry, int]:
    where = f"tensor {name!r}"
    if not isinstance(info, dict):
        raise _bad(path, f"{where}: entry is not an object")
    stored = info.get("dtype")
    if stored not in _SAFETENSORS_DTYPES:
        raise _bad(
            path,
            f"{where}: dtype={stored!r} is not supported (allowed: "
            f"{', '.join(_SAFETENSORS_DTYPES)})",
        )
    shape = info.get("shape")
    if not (
        isinstance(shape, list)
        and all(
            isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape
        )
    ):
        raise _bad(path, f"{where}: shape={shape!r} must be a list of integers >= 0")
    offsets = info.get("data_offsets")
    if not (
        isinstance(offsets, list)
        and len(offsets) == 2
        and all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
        and 0 <= offsets[0] <= offsets[1] <= data_size
    ):
        raise _bad(
            path,
            f"{where}: data_offsets={offsets!r} out of the {data_size}-byte data",
        )
    dtype_name = _SAFETENSORS_DTYPES[str(stored)]
    dtype = _numpy_dtype(dtype_name)
    count = math.prod(shape)  # Python ints: a huge shape cannot overflow
    begin, end = offsets
    if count * dtype.itemsize != end - begin:
        raise _bad(
            path,
            f"{where}: shape {tuple(shape)} of {stored} needs "
            f"{count * dtype.itemsize} bytes, data_offsets give {end - begin}",
        )

    def load() -> np.ndarray[Any, Any]:
        if count == 0:
            return np.zeros(shape, dtype=dtype)
        mapped = np.memmap(
            path, dtype=dtype, mode="r", offset=start + begin, shape=tuple(shape)
        )
        return mapped

    entry = TensorEntry(name, dtype_name, tuple(shape), end - begin, load)
    return entry, begin


def _check_array(path: str, name: str, array: np.ndarray[Any, Any]) -> None:
    if array.dtype.hasobject or array.dtype.fields is not None:
        raise _bad(path, f"tensor {name!r}: dtype {array.dtype} is not numeric")


def _read_npy(path: str) -> TensorEntry:
    name = os.path.splitext(os.path.basename(path))[0]
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise _bad(path, f"not a valid .npy file ({exc})") from exc
    _check_array(path, name, array)
    return TensorEntry(
        name, str(array.dtype), tuple(array.shape), array.nbytes, lambda: array
    )


def _read_npz(path: str) -> list[TensorEntry]:
    try:
        archive = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError, zipfile.BadZipFile) as exc:
        raise _bad(path, f"not a valid .npz file ({exc})") from exc
    if not isinstance(archive, np.lib.npyio.NpzFile):
        raise _bad(path, "not an .npz archive")
    entries = []
    with archive:
        zipped = archive.zip
        assert zipped is not None  # an open NpzFile has its archive
        for name in archive.files:
            # The member's header gives dtype and shape; its data waits for load.
            try:
                with zipped.open(f"{name}.npy") as member:
                    version = np.lib.format.read_magic(member)
                    if version == (1, 0):
                        header = np.lib.format.read_array_header_1_0(member)
                    else:
                        header = np.lib.format.read_array_header_2_0(member)
                    shape, _, dtype = header
            except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
                raise _bad(path, f"tensor {name!r}: bad member ({exc})") from exc
            if dtype.hasobject or dtype.fields is not None:
                raise _bad(path, f"tensor {name!r}: dtype {dtype} is not numeric")
            nbytes = math.prod(shape) * dtype.itemsize
            entries.append(
                TensorEntry(
                    name, str(dtype), tuple(shape), nbytes, _npz_loader(path, name)
                )
            )
    return entries


def _npz_loader(path: str, name: str) -> Callable[[], np.ndarray[Any, Any]]:
    def load() -> np.ndarray[Any, Any]:
        # Opened for each tensor: no archive stays open between tensors.
        try:
            with np.load(path, allow_pickle=False) as archive:
                return np.asarray(archive[name])
        except (ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile) as exc:
            raise _bad(path, f"tensor {name!r}: {exc}") from exc

    return load


def as_float(array: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """``array`` as float64 values (bf16 and fp8 widen exactly)."""
    return np.asarray(array, dtype=np.float64)

"""The JSON report of one run: a dataclass and its stable serialization.

Responsible for the report's shape (key order, plain numbers, ``null`` for NaN
and infinities); not for computing any figure.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

SCHEMA_VERSION = 1


def plain(value: Any) -> Any:
    """JSON-ready copy: numpy scalars to Python, NaN and infinities to None.

    Examples
    --------
    >>> plain({"a": float("nan"), "b": [1.5, float("inf")], "c": (2,)})
    {'a': None, 'b': [1.5, None], 'c': [2]}
    """
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        return plain(value.tolist())
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


@dataclass
class Report:
    """Everything adcsim says about one input.

    Attributes mirror the JSON keys: ``input`` {path, sample_rate, channels,
    frames, subtype}, ``output`` {path, sample_rate, subtype}, ``settings``,
    ``stages`` (name, active, counters), ``metrics`` (all channels together),
    ``channels`` (the same keys per channel), ``notes``, ``provenance``.
    """

    input: dict[str, Any]
    output: dict[str, Any]
    settings: dict[str, Any]
    metrics: dict[str, Any]
    channels: list[dict[str, Any]]
    stages: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    provenance: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON types, in stable key order."""
        from adcsim import __version__

        result: dict[str, Any] = plain(
            {
                "schema_version": SCHEMA_VERSION,
                "adcsim_version": __version__,
                "provenance": self.provenance,
                "input": self.input,
                "output": self.output,
                "settings": self.settings,
                "stages": self.stages,
                "metrics": self.metrics,
                "channels": self.channels,
                **self.extra,
                "notes": self.notes,
            }
        )
        return result

    def to_json(self, *, indent: int | None = 2) -> str:
        """Serialize; ``indent=None`` gives one line (JSON Lines)."""
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        return text + "\n"

"""Stimuli of listening conditions with converter impairments (issue 13).

Responsible for rendering a `adcsim.listening._conditions.Condition` whose
converter options are set through the same chain ``adcsim quantize`` runs
(`adcsim.run._process.build_chain`: sampling, gain/offset, noise, dither,
quantizer), so that a listener hears what ``quantize`` writes; the stimulus is
then resampled back to the reference's rate. Not responsible for ideal
conditions (`adcsim.listening._conditions.render_condition` renders those) or for
the session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import NDArray

if TYPE_CHECKING:
    from adcsim.listening._conditions import Condition
    from adcsim.run._config import QuantizeConfig


def _config(condition: Condition, seed: int) -> QuantizeConfig:
    from adcsim.run._config import QuantizeConfig

    assert condition.bits is not None
    return QuantizeConfig(
        bits=condition.bits,
        scheme=condition.scheme,
        rate=condition.rate,
        dither=condition.dither,
        seed=seed,
        params=dict(condition.params),
        converter=condition.converter,
    )


def check_converted(condition: Condition) -> None:
    """Check the condition's converter options with its scheme, depth and rate.

    Raises
    ------
    AdcsimError
        As `adcsim.run._config.QuantizeConfig.validate`, prefixed with the
        condition's name.
    """
    from adcsim.errors import AdcsimError

    try:
        _config(condition, 0).validate()
    except AdcsimError as exc:
        raise AdcsimError(f"condition {condition.name!r}: {exc}") from None


def render_converted(
    x: NDArray[np.float64], *, rate: int, condition: Condition, seed: int
) -> NDArray[np.float64]:
    """``x`` through the quantize chain of ``condition``, back at ``rate``.

    ``lloydmax`` designs its codebook on the ideally resampled stimulus.

    Examples
    --------
    >>> from adcsim.listening._conditions import Condition
    >>> from adcsim.stages._converter import ConverterConfig
    >>> c = Condition(name="off", bits=8, converter=ConverterConfig(offset_lsb=1))
    >>> y = render_converted(np.zeros((4, 1)), rate=8000, condition=c, seed=0)
    >>> (y * 128).ravel().tolist()
    [1.0, 1.0, 1.0, 1.0]
    """
    from adcsim.quantizers._registry import make_quantizer
    from adcsim.run._process import build_chain
    from adcsim.stages._chain import StreamInfo
    from adcsim.stages._resample import resample

    config = _config(condition, seed).validate()
    params = dict(config.params)
    if config.scheme == "lloydmax":
        from adcsim.quantizers._lloydmax import design_lloyd_max

        ideal = (
            x
            if config.rate is None
            else resample(x, in_rate=rate, out_rate=config.rate)
        )
        params["codebook"] = design_lloyd_max(ideal, bits=config.bits)
    quantizer = make_quantizer(config.scheme, bits=config.bits, **params)
    chain, _, _ = build_chain(
        config, quantizer, StreamInfo(rate=rate, channels=x.shape[1])
    )
    codes = [block for block in chain.run([np.asarray(x, dtype=np.float64)])]
    y = quantizer.decode(np.concatenate(codes)) if codes else np.zeros((0, x.shape[1]))
    work_rate = config.rate or rate
    if work_rate != rate:
        y = resample(y, in_rate=work_rate, out_rate=rate)
    out = np.asarray(y, dtype=np.float64)
    if out.shape[0] >= x.shape[0]:
        return out[: x.shape[0]]
    return np.concatenate([out, np.zeros((x.shape[0] - out.shape[0], x.shape[1]))])

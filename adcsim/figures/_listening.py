"""The figure of a scored listening test (MUSHRA means with 95 % intervals).

Builds a `matplotlib.figure.Figure` (never pyplot, so no GUI backend and no
global state); the caller saves it. Not responsible for scoring
(`adcsim.listening._scoring`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adcsim.listening._scoring import ListeningScores


def plot_scores(scores: ListeningScores) -> Any:
    """MUSHRA mean per label with its 95 % interval; ABX p-values beside it.

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> from adcsim.listening._scoring import ListeningScores
    >>> row = {"label": "a", "n": 3, "mean": 50.0, "ci_low": 40.0, "ci_high": 60.0}
    >>> fig = plot_scores(ListeningScores("s", ["x"], {}, [row], []))
    >>> len(fig.axes)
    1
    """
    from matplotlib.figure import Figure

    panels = [bool(scores.mushra), bool(scores.abx)]
    fig = Figure(figsize=(4.0 + 3.0 * sum(panels), 4.0), layout="constrained")
    axes = fig.subplots(1, max(1, sum(panels)), squeeze=False)[0]
    index = 0
    if scores.mushra:
        ax = axes[index]
        index += 1
        labels = [r["label"] for r in scores.mushra]
        means = [r["mean"] for r in scores.mushra]
        low = [
            r["mean"] - (r["ci_low"] if r["ci_low"] is not None else r["mean"])
            for r in scores.mushra
        ]
        high = [
            (r["ci_high"] if r["ci_high"] is not None else r["mean"]) - r["mean"]
            for r in scores.mushra
        ]
        ax.errorbar(range(len(labels)), means, yerr=[low, high], fmt="o", capsize=4)
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_ylim(0, 100)
        ax.set_yticks([0, 20, 40, 60, 80, 100])
        ax.grid(axis="y", alpha=0.4)
        ax.set_ylabel("MUSHRA score (mean, 95% CI)")
        ax.set_title("MUSHRA")
    if scores.abx:
        ax = axes[index]
        labels = [r["condition"] for r in scores.abx]
        ax.bar(
            range(len(labels)), [100 * r["correct"] / r["trials"] for r in scores.abx]
        )
        ax.axhline(50, color="0.4", linestyle="--", linewidth=1)
        for i, r in enumerate(scores.abx):
            ax.annotate(
                f"p={r['p_value']:.2g}", (i, 2), ha="center", fontsize=8, color="white"
            )
        ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
        ax.set_ylim(0, 100)
        ax.set_ylabel("ABX correct (%)")
        ax.set_title("ABX")
    # MUSHRA scores only the listeners the post-screening kept; ABX all of them.
    n, kept = len(scores.listeners), len(scores.listeners) - len(scores.excluded)
    fig.suptitle(
        f"session {scores.session_id}: MUSHRA {kept} listener(s)"
        + (f" ({n - kept} excluded)" if kept != n else "")
        + (f", ABX {n}" if scores.abx else "")
    )
    return fig

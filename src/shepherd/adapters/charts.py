"""Charts of checks for Slack: old vs new, the deploy moment marked. matplotlib, imported lazily."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from shepherd.domain.watch import Outcome, StoredCheck, WatchMode

COLORS = {"old": "#7a7a7a", "new": "#e01e5a", "deploy": "#4a90d9"}
MAX_PANELS = 4


class MatplotlibCharts:
    def render(self, checks: Sequence[StoredCheck], *, deploy_at: datetime, title: str) -> bytes:
        import matplotlib

        matplotlib.use("Agg")  # no display, no GUI toolkit
        from matplotlib import pyplot as plt

        shown = _most_interesting(checks)
        fig, axes = plt.subplots(len(shown), 1, figsize=(8, 2.4 * len(shown) + 0.6), squeeze=False)
        try:
            for ax, check in zip(axes[:, 0], shown, strict=True):
                _panel(ax, check, deploy_at)
            return _png(fig, title, fontsize=11)
        finally:
            plt.close(fig)


class MatplotlibDeliveryChart:
    """Deploys per week (reached production / failed) and the median lead time, for the digest."""

    def weeks(self, groups: list[dict[str, object]], *, title: str) -> bytes:
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot as plt

        labels = [str(g["since"])[5:10] for g in groups]
        failed = [int(g["change_failure_rate"]["failed"]) for g in groups]  # type: ignore[index]
        total = [int(g["deploys"]) for g in groups]  # type: ignore[call-overload]
        lead = [g["lead_time"]["median_hours"] for g in groups]  # type: ignore[index]
        fig, ax = plt.subplots(figsize=(8, 3))
        try:
            ok = [t - f for t, f in zip(total, failed, strict=True)]
            ax.bar(labels, ok, color=COLORS["deploy"], label="deploys")
            ax.bar(labels, failed, bottom=ok, color=COLORS["new"], label="failed")
            ax.set_ylabel("deploys")
            ax.tick_params(axis="x", labelsize=7)
            hours = ax.twinx()
            hours.plot(
                labels, [h if h is not None else float("nan") for h in lead], color=COLORS["old"], marker="o"
            )
            hours.set_ylabel("lead time, median (h)")
            ax.legend(loc="upper left", fontsize=7)
            return _png(fig, title, fontsize=10)
        finally:
            plt.close(fig)


def _png(fig: Any, title: str, *, fontsize: int) -> bytes:
    fig.suptitle(title, fontsize=fontsize, x=0.01, ha="left")
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    return buffer.getvalue()


def _most_interesting(checks: Sequence[StoredCheck]) -> list[StoredCheck]:
    order = {Outcome.FAIL: 0, Outcome.INCONCLUSIVE: 1, Outcome.NODATA: 2, Outcome.PASS: 3}
    ranked = sorted(checks, key=lambda c: order[c.result.outcome])
    return ranked[:MAX_PANELS] or list(checks[:1])


def _panel(ax: object, check: StoredCheck, deploy_at: datetime) -> None:
    from matplotlib.axes import Axes

    assert isinstance(ax, Axes)
    old_label = "old version" if check.mode == WatchMode.CANARY else "before the deploy"
    new_label = "new version" if check.mode == WatchMode.CANARY else "after the deploy"
    for points, label, color in (
        (check.baseline, old_label, COLORS["old"]),
        (check.candidate, new_label, COLORS["new"]),
    ):
        if points:
            minutes = [(p.t - deploy_at.timestamp()) / 60 for p in points]
            ax.plot(minutes, [p.v for p in points], label=label, color=color, linewidth=1.6)
    ax.axvline(0.0, color=COLORS["deploy"], linestyle="--", linewidth=1, label="deploy")
    ax.set_xlabel("minutes since the deploy", fontsize=8)
    verdict = check.result.outcome.value.upper()
    ax.set_title(f"{check.result.name} — {verdict}: {check.result.reason}", fontsize=9, loc="left", wrap=True)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    ax.tick_params(labelsize=8)

"""Geometry of the leaderboard's pass@k charts; the template draws it as inline SVG.

The x axis is log(k), as pass@k curves are usually read: the early ks, where curves differ
most, get most of the width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

WIDTH, HEIGHT = 560, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 150, 14, 40   # margins; the legend sits in the right one
# Okabe-Ito: distinguishable with every common colour-vision deficiency.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442",
           "#000000")
MAX_POINTS = 20   # beyond this many ks, a log-spaced selection (n itself included)


def color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def curve_ks(n: int) -> list[int]:
    """The ks a curve is drawn at: every k up to MAX_POINTS, else log-spaced from 1 to n."""
    if n <= MAX_POINTS:
        return list(range(1, n + 1))
    return sorted({round(n ** (i / (MAX_POINTS - 1))) for i in range(MAX_POINTS)} | {1, n})


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Series:
    name: str
    color: str
    points: list[Point]

    @property
    def path(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    plot: tuple[float, float, float, float]    # x0, y0, x1, y1 of the plot area
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    series: list[Series]
    legend_x: float


def passk_chart(curves: list[tuple[str, str, list[tuple[int, float]]]]) -> Chart | None:
    """Chart of (name, colour, [(k, pass@k)]) curves; None when no curve goes past k = 1."""
    k_max = max((k for _, _, points in curves for k, _ in points), default=1)
    if k_max < 2:
        return None
    x0, y0, x1, y1 = LEFT, TOP, WIDTH - RIGHT, HEIGHT - BOTTOM

    def x(k: int) -> float:
        return x0 + (x1 - x0) * math.log(k) / math.log(k_max)

    def y(value: float) -> float:
        return y1 - (y1 - y0) * value

    series = [Series(name, colour, [Point(x(k), y(v), f"{name}: pass@{k} = {v:.3f}")
                                    for k, v in points])
              for name, colour, points in curves]
    ticks = [k for k in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if k < k_max] + [k_max]
    if k_max <= 10:
        ticks = list(range(1, k_max + 1))
    return Chart(WIDTH, HEIGHT, (x0, y0, x1, y1), [(x(k), str(k)) for k in ticks],
                 [(y(v / 4), f"{v / 4:.2f}") for v in range(5)], series, x1 + 12)

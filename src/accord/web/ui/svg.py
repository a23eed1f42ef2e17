"""Pictures drawn on the server as inline SVG: a relationship graph and bar charts.

Only geometry is computed here; the templates (``_svg.html``) write the elements, so every label
goes through Jinja2's autoescaping. Colours are SVG presentation attributes, not ``style``, which the
console's Content-Security-Policy (``style-src 'self'``) would block. Each picture has a text
equivalent on its page (a table), and is an ``img`` with a title for assistive technology.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

GRAPH_WIDTH, GRAPH_HEIGHT = 720, 440
MAX_NODES = 24  # around one object; the table beside the picture lists them all
TYPE_COLOURS = {  # fill of a node by STIX type (text is dark on each: WCAG AA)
    "indicator": "#ffd8a8", "malware": "#ffc9c9", "attack-pattern": "#d0bfff", "threat-actor": "#fcc2d7",
    "intrusion-set": "#fcc2d7", "campaign": "#eebefa", "vulnerability": "#ffec99", "tool": "#c5f6fa",
    "identity": "#d3f9d8", "sighting": "#b2f2bb", "report": "#dee2e6", "incident": "#ffa8a8",
    "course-of-action": "#a5d8ff", "infrastructure": "#c3fae8",
}
OTHER_COLOUR = "#e9ecef"


def short(text: str, size: int = 26) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


@dataclass(frozen=True, slots=True)
class Node:
    x: float
    y: float
    label: str
    type: str
    fill: str


@dataclass(frozen=True, slots=True)
class Edge:
    x1: float
    y1: float
    x2: float
    y2: float
    label: str
    lx: float
    ly: float


@dataclass(frozen=True, slots=True)
class Graph:
    width: int
    height: int
    centre: Node
    nodes: list[Node]
    edges: list[Edge]
    hidden: int  # neighbours not drawn (beyond MAX_NODES)


def graph(centre_type: str, centre_label: str, around: Sequence[tuple[str, str, str, bool]]) -> Graph:
    """The object in the middle and its neighbours on a circle: ``around`` is (type, label,
    relation, outgoing) per neighbour. Edges stop short of the boxes so the arrowheads show."""
    cx, cy = GRAPH_WIDTH / 2, GRAPH_HEIGHT / 2
    shown = list(around)[:MAX_NODES]
    rx, ry = GRAPH_WIDTH / 2 - 100, GRAPH_HEIGHT / 2 - 40
    nodes, edges = [], []
    for n, (kind, label, relation, outgoing) in enumerate(shown):
        angle = -math.pi / 2 + 2 * math.pi * n / max(len(shown), 1)
        x, y = cx + rx * math.cos(angle), cy + ry * math.sin(angle)
        nodes.append(Node(round(x, 1), round(y, 1), short(label), kind, TYPE_COLOURS.get(kind, OTHER_COLOUR)))
        # from 22% to 78% of the way, so neither box hides the line's ends
        ax, ay, bx, by = cx + (x - cx) * .22, cy + (y - cy) * .22, cx + (x - cx) * .78, cy + (y - cy) * .78
        if not outgoing:
            ax, ay, bx, by = bx, by, ax, ay
        edges.append(Edge(round(ax, 1), round(ay, 1), round(bx, 1), round(by, 1), short(relation, 20),
                          round(cx + (x - cx) * .5, 1), round(cy + (y - cy) * .5 - 4, 1)))
    centre = Node(cx, cy, short(centre_label, 32), centre_type, TYPE_COLOURS.get(centre_type, OTHER_COLOUR))
    return Graph(GRAPH_WIDTH, GRAPH_HEIGHT, centre, nodes, edges, max(len(around) - MAX_NODES, 0))


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: int
    tick: bool  # label drawn under this bar (every few bars on a long axis)


@dataclass(frozen=True, slots=True)
class Chart:
    width: int
    height: int
    top: int  # the largest value, written on the axis
    bars: list[Bar]
    base: float  # y of the axis
    left: float


def bars(points: Sequence[tuple[str, int]], width: int = 720, height: int = 220) -> Chart:
    """A bar chart of (label, value): the axis starts at zero, the tallest bar fills the height."""
    left, bottom, top_margin = 48.0, 36.0, 12.0
    top = max((v for _, v in points), default=0)
    span = max(top, 1)
    slot = (width - left - 8) / max(len(points), 1)
    every = max(1, math.ceil(len(points) / 12))
    base = height - bottom
    out = []
    for n, (label, value) in enumerate(points):
        h = (base - top_margin) * value / span
        out.append(Bar(round(left + n * slot + slot * .1, 1), round(base - h, 1), round(slot * .8, 1), round(h, 1),
                       label, value, n % every == 0))
    return Chart(width, height, top, out, base, left)

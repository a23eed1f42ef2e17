"""Coordination warnings (missed deadlines, protected-sector victims) ride the early-warning stream:
to whoever may read them, whatever their indicator filter, and to nobody else."""

from __future__ import annotations

from accord.coordination import sweep
from accord.federation.early_warning import Graph, derive, visible
from accord.federation.model import WarningFilter
from tests.conftest import Node
from tests.coordination.helpers import T0, as_, sensor_objects


def test_a_protected_sector_warning_reaches_readers_only(node: Node) -> None:
    isac = as_(node.store, "health-isac-analyst")
    isac.write(sensor_objects(isac, "198.51.100.9"))
    assert sweep.sweep(isac, now=T0).norms_warnings == 1
    with node.store.read() as tx:
        rows = tx.outbound(0, 10_000)
        warnings = [(r, w, c) for r, w, c in derive(tx, rows, Graph()) if w.type == "x-accord-warning"]
        assert len(warnings) == 1
        row, warning, confidence = warnings[0]
        assert warning.priority in ("high", "top") and warning.name
        strict = WarningFilter(types=frozenset({"indicator"}), min_confidence=90)
        energy, outsider = tx.get_org("energy-co"), tx.get_org("outsider")
        assert visible(tx, energy.id, tx.groups_of(energy.id), strict, row, warning, confidence, Graph())
        assert not visible(tx, outsider.id, frozenset(), WarningFilter(), row, warning, confidence, Graph())

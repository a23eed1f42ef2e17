from __future__ import annotations

import numpy as np
import pytest

from accord.sensor.anomaly.errors import SchemaMismatchError
from accord.sensor.anomaly.features import UNSEEN, Encoder, FeatureSchema
from accord.sensor.anomaly.flows import FlowTable

from .conftest import synthetic


def test_heavy_tailed_counts_take_log1p_and_shares_do_not() -> None:
    encoder = Encoder.fit(synthetic(500, seed=1))
    logged = dict(zip(encoder.schema.numeric, encoder.log.tolist(), strict=True))
    assert logged == {"bytes": True, "pkts": True, "host_dst_ports": True, "error_rate": False}


def test_unseen_category_lights_its_own_column() -> None:
    table = synthetic(500, seed=2)
    encoder = Encoder.fit(table)
    odd = FlowTable(table.numeric, {**table.categorical, "service": np.full(len(table), "gopher")})
    x = encoder.transform(odd)
    column = encoder.names.index(("service", UNSEEN))
    assert (x[:, column] == 1).all()


def test_decode_inverts_the_numeric_encoding() -> None:
    table = synthetic(300, seed=3)
    encoder = Encoder.fit(table)
    z = encoder.transform(table)[:, : len(encoder.schema.numeric)].astype(np.float64)
    np.testing.assert_allclose(encoder.decode(z)[:, 0], table.numeric["bytes"], rtol=1e-4)


def test_other_columns_are_a_schema_error_naming_them() -> None:
    schema = FeatureSchema.of(synthetic(10, seed=4))
    other = FlowTable({"duration": np.zeros(3)}, {"proto": np.array(["tcp"] * 3)})
    with pytest.raises(SchemaMismatchError, match="missing numeric columns bytes, pkts") as caught:
        schema.check(other)
    assert "unexpected numeric columns duration" in str(caught.value)

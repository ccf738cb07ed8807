"""The Feast side of the compatibility suite: the same entities, views, feature service and
push source as test/feast/strata-repo.ts declares for Strata (keep the two in step)."""

from datetime import timedelta

from feast import Entity, FeatureService, FeatureView, Field, FileSource, PushSource, ValueType
from feast.types import (
    Array,
    Bool,
    Bytes,
    Float32,
    Float64,
    Int32,
    Int64,
    String,
    UnixTimestamp,
)

driver = Entity(name="driver", join_keys=["driver_id"], value_type=ValueType.INT64)

# Feast wants a batch source behind every view; nothing here reads it (no materialization).
batch = FileSource(
    name="compat_batch",
    path="data/unused.parquet",
    timestamp_field="event_timestamp",
)

driver_stats_push = PushSource(name="driver_stats_push", batch_source=batch)

driver_stats = FeatureView(
    name="driver_stats",
    entities=[driver],
    ttl=timedelta(days=3650),
    schema=[
        Field(name="conv_rate", dtype=Float64),
        Field(name="acc_rate", dtype=Float32),
        Field(name="trips", dtype=Int64),
        Field(name="label", dtype=String),
    ],
    source=driver_stats_push,
    online=True,
)

SCALARS = {
    "int32": Int32,
    "int64": Int64,
    "float32": Float32,
    "float64": Float64,
    "string": String,
    "bytes": Bytes,
    "bool": Bool,
    "ts": UnixTimestamp,
}

all_types = FeatureView(
    name="all_types",
    entities=[driver],
    ttl=timedelta(days=3650),
    schema=[Field(name=f"f_{name}", dtype=dtype) for name, dtype in SCALARS.items()]
    + [Field(name=f"l_{name}", dtype=Array(dtype)) for name, dtype in SCALARS.items()],
    source=batch,
    online=True,
)

driver_service = FeatureService(
    name="driver_service",
    features=[driver_stats[["conv_rate", "trips"]]],
)

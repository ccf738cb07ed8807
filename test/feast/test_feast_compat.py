"""Feast's own SDK against Strata and against `feast serve` of the same repo and data.

Run by `npm run test:feast` (scripts/test-feast.ts), which starts both servers and sets:
STRATA_URL, FEAST_URL, FEAST_REPO_DIR (the applied Feast repo: its registry is the SDK's),
FEAST_PROJECT, and Strata API keys STRATA_WRITE_KEY (reads and writes), STRATA_READ_KEY
(reads only) and STRATA_SERVICE_KEY (feature service driver_service only).

Both SDK clients use Feast's `remote` online store. The one for Strata sends its API key as
the bearer token of Feast's `oidc` client auth (`token_env_var`). Where the outcome should
match, a test runs the same SDK call against both servers and compares: the reference is
Feast itself. Where Strata differs on purpose, the test asserts both behaviours (see
docs/feast-compatibility.md).
"""

import base64
import copy
import json
import os
from datetime import datetime, timedelta, timezone

import pandas as pd
import pytest
import requests
from feast import FeatureService, FeatureStore, RepoConfig
from feast.data_source import PushMode
from feast.errors import (
    FeastObjectNotFoundException,
    FeastPermissionError,
    FeatureServiceNotFoundException,
    FeatureViewNotFoundException,
    PushSourceNotFoundException,
)
from feast.infra.online_stores.remote import RemoteOnlineStore
from feast.protos.feast.types.EntityKey_pb2 import EntityKey
from feast.protos.feast.types.Value_pb2 import Value

STRATA_URL = os.environ["STRATA_URL"]
FEAST_URL = os.environ["FEAST_URL"]
REPO_DIR = os.environ["FEAST_REPO_DIR"]
PROJECT = os.environ["FEAST_PROJECT"]

BIG = 2**53 + 1  # 9007199254740993: a double cannot hold it
# Whole seconds, a minute ago: within every view's ttl, and Feast's timestamps are seconds.
EVENT = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(minutes=1)
TS = datetime(2026, 1, 1, tzinfo=timezone.utc)

STATS = ["conv_rate", "acc_rate", "trips", "label"]
SCALARS = ["int32", "int64", "float32", "float64", "string", "bytes", "bool", "ts"]
ALL_TYPES = [f"f_{t}" for t in SCALARS] + [f"l_{t}" for t in SCALARS]

DRIVER_STATS = {
    "driver_id": [1001, 1002, BIG],
    # 142.0 is the whole-number float64 that must come back as a float.
    "conv_rate": [142.0, None, 0.25],
    "acc_rate": [0.1, None, 2.5],
    "trips": [12, None, BIG],
    # Feast's SDK writes no row whose features are all null: one value each keeps the row.
    "label": ["a", "nulls", "big"],
}
ALL_TYPES_ROWS = {
    "driver_id": [1001, 1003],
    "f_int32": [-7, None],
    "f_int64": [BIG, None],
    "f_float32": [0.1, None],
    "f_float64": [3.0, None],
    "f_string": ["héllo", None],
    "f_bytes": [b"\x00\x01\xff", None],
    "f_bool": [True, False],
    "f_ts": [TS, None],
    "l_int32": [[1, -2], None],
    "l_int64": [[BIG, 5], None],
    "l_float32": [[0.1, 2.0], None],
    "l_float64": [[1.0, 0.5], None],
    "l_string": [["x", "y"], None],
    "l_bytes": [[b"\x01", b"\x02"], None],
    "l_bool": [[True, False], None],
    "l_ts": [[TS], None],
}


def remote_store(tmp_path_factory, name, url, token_env_var=None):
    """A FeatureStore whose online store is the server at `url`, with the applied registry."""
    config = {
        "project": PROJECT,
        "registry": os.path.join(REPO_DIR, "data", "registry.db"),
        "provider": "local",
        "online_store": {"type": "remote", "path": url},
        "entity_key_serialization_version": 3,
    }
    if token_env_var:
        config["auth"] = {"type": "oidc", "token_env_var": token_env_var}
    return FeatureStore(config=RepoConfig(repo_path=tmp_path_factory.mktemp(name), **config))


@pytest.fixture(scope="session")
def strata(tmp_path_factory):
    return remote_store(tmp_path_factory, "strata", STRATA_URL, "STRATA_WRITE_KEY")


@pytest.fixture(scope="session")
def feast(tmp_path_factory):
    return remote_store(tmp_path_factory, "feast", FEAST_URL)


@pytest.fixture(scope="session")
def servers(strata, feast):
    """Both servers, seeded with the same rows: Feast through its own Redis online store,
    Strata through its own /push (each server's native write path, not the endpoint tested)."""
    local = FeatureStore(repo_path=REPO_DIR)
    for view, columns in (("driver_stats", DRIVER_STATS), ("all_types", ALL_TYPES_ROWS)):
        # One row at a time: a column mixing None and ints is made float by pandas and
        # pyarrow on Feast's side, which would round 2^53 + 1.
        for i in range(len(columns["driver_id"])):
            row = {k: [v[i]] for k, v in columns.items()}
            local.write_to_online_store(view, frame({**row, "event_timestamp": [EVENT]}))
            strata_push(view, {**row, "event_timestamp": [EVENT.isoformat()]})
    return {"strata": strata, "feast": feast}


def frame(columns):
    """A DataFrame holding the values as given (object columns), event times as UTC times."""
    df = pd.DataFrame(columns, dtype=object)
    df["event_timestamp"] = pd.to_datetime(df["event_timestamp"], utc=True)
    return df


def strata_json(value):
    """A value as Strata's /push takes it: bytes base64, times epoch milliseconds."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, datetime):
        return int(value.timestamp() * 1000)
    if isinstance(value, list):
        return [strata_json(v) for v in value]
    return value


def strata_push(view, columns):
    body = {
        "push_source_name": view,
        "df": {k: [strata_json(v) for v in vs] for k, vs in columns.items()},
        "to": "online",
        "wait": "applied",
    }
    response = requests.post(
        f"{STRATA_URL}/push",
        json=body,
        headers={"Authorization": f"Bearer {os.environ['STRATA_WRITE_KEY']}"},
    )
    assert response.status_code == 200, response.text


def read(store, features, entity_rows, **kwargs):
    """to_dict() of an SDK read, plus each feature's statuses."""
    response = store.get_online_features(features=features, entity_rows=entity_rows, **kwargs)
    statuses = {
        name: [FIELD_STATUS[s] for s in result.statuses]
        for name, result in zip(response.proto.metadata.feature_names.val, response.proto.results)
    }
    return response.to_dict(), statuses


FIELD_STATUS = {0: "INVALID", 1: "PRESENT", 2: "NULL_VALUE", 3: "NOT_FOUND", 4: "OUTSIDE_MAX_AGE"}


def read_both(servers, features, entity_rows, **kwargs):
    return (
        read(servers["strata"], features, entity_rows, **kwargs),
        read(servers["feast"], features, entity_rows, **kwargs),
    )


def assert_same_values(strata_values, feast_values):
    """Same names, values and Python types (so 142.0 is a float on both sides)."""
    assert sorted(strata_values) == sorted(feast_values)
    for name in feast_values:
        assert strata_values[name] == feast_values[name], name
        assert [type(v) for v in strata_values[name]] == [type(v) for v in feast_values[name]], name


def stats_refs(features=STATS):
    return [f"driver_stats:{f}" for f in features]


# Reads -------------------------------------------------------------------------------------


def test_read_by_feature_list_matches_feast(servers):
    (s, _), (f, _) = read_both(servers, stats_refs(), [{"driver_id": 1001}])
    assert_same_values(s, f)
    assert s["conv_rate"] == [142.0] and isinstance(s["conv_rate"][0], float)
    # Float32 as a float32 holds it, as Feast stores it.
    assert s["acc_rate"] == [0.10000000149011612]


def test_read_by_feature_service_matches_feast(servers):
    (s, _), (f, _) = (
        read(store, store.get_feature_service("driver_service"), [{"driver_id": 1001}])
        for store in (servers["strata"], servers["feast"])
    )
    assert_same_values(s, f)
    assert sorted(s) == ["conv_rate", "driver_id", "trips"]


def test_full_feature_names_match_feast(servers):
    (s, _), (f, _) = read_both(
        servers, stats_refs(), [{"driver_id": 1001}, {"driver_id": 1002}], full_feature_names=True
    )
    assert_same_values(s, f)
    assert "driver_stats__conv_rate" in s


def test_request_order_of_feature_names(servers):
    """Strata names features in request order; Feast 0.67 in an order of its own (a set's)."""
    features = stats_refs(["trips", "label", "conv_rate", "acc_rate"])
    names = list(read(servers["strata"], features, [{"driver_id": 1001}])[0])
    assert names == ["driver_id", "trips", "label", "conv_rate", "acc_rate"]


def test_missing_entity_values_match_feast_and_strata_says_not_found(servers):
    (s, s_status), (f, f_status) = read_both(servers, stats_refs(), [{"driver_id": 424242}])
    assert_same_values(s, f)
    assert s["conv_rate"] == [None]
    # Deliberate difference: Feast's Redis store answers PRESENT for a row it does not have.
    assert s_status["conv_rate"] == ["NOT_FOUND"] and f_status["conv_rate"] == ["PRESENT"]


def test_null_values_match_feast_and_strata_says_null_value(servers):
    (s, s_status), (f, f_status) = read_both(servers, stats_refs(), [{"driver_id": 1002}])
    assert_same_values(s, f)
    assert s["conv_rate"] == [None] and s["trips"] == [None] and s["label"] == ["nulls"]
    # Deliberate difference: Feast's Redis store answers PRESENT for a stored null.
    assert s_status["trips"] == ["NULL_VALUE"] and f_status["trips"] == ["PRESENT"]


def test_nulls_of_every_value_type_match_feast(servers):
    features = [f"all_types:{f}" for f in ALL_TYPES]
    (s, s_status), (f, _) = read_both(servers, features, [{"driver_id": 1003}])
    assert_same_values(s, f)
    nulls = [name for name in ALL_TYPES if name != "f_bool"]
    assert all(s[name] == [None] and s_status[name] == ["NULL_VALUE"] for name in nulls)
    assert s["f_bool"] == [False]


def test_every_value_type_matches_feast(servers):
    features = [f"all_types:{f}" for f in ALL_TYPES]
    (s, _), (f, _) = read_both(servers, features, [{"driver_id": 1001}])
    ts = ["f_ts", "l_ts"]
    assert_same_values({k: v for k, v in s.items() if k not in ts}, {k: v for k, v in f.items() if k not in ts})
    assert s["f_float32"] == [0.10000000149011612] and s["f_float64"] == [3.0]
    assert s["l_float64"] == [[1.0, 0.5]] and isinstance(s["l_float64"][0][0], float)
    assert s["f_int64"] == [BIG] and s["l_int64"] == [[BIG, 5]]
    assert s["f_bytes"] == [base64.b64encode(b"\x00\x01\xff").decode()]
    # Deliberate difference: Strata's unix_timestamp is epoch milliseconds, Feast's seconds.
    assert f["f_ts"] == [int(TS.timestamp())] and s["f_ts"] == [int(TS.timestamp()) * 1000]
    assert s["l_ts"] == [[int(TS.timestamp()) * 1000]]


@pytest.mark.parametrize("key", [BIG, str(BIG)], ids=["number", "string"])
def test_int64_join_key_beyond_2_53_matches_feast(servers, key):
    (s, _), (f, _) = read_both(servers, stats_refs(), [{"driver_id": key}])
    assert s["label"] == ["big"] and s["trips"] == [BIG]
    assert_same_values(s, f)


def test_float_json_is_unambiguous_like_feasts(servers):
    """The raw JSON: a whole Float64 is written 142.0 by both servers, Int64 exact."""
    body = {"features": stats_refs(["conv_rate", "trips"]), "entities": {"driver_id": [1001, BIG]}}
    texts = {}
    for name, url, headers in (
        ("strata", STRATA_URL, {"Authorization": f"Bearer {os.environ['STRATA_READ_KEY']}"}),
        ("feast", FEAST_URL, {}),
    ):
        response = requests.post(f"{url}/get-online-features", json=body, headers=headers)
        assert response.status_code == 200, response.text
        texts[name] = response.text
        values = {
            n: r["values"]
            for n, r in zip(response.json()["metadata"]["feature_names"], response.json()["results"])
        }
        assert values["conv_rate"] == [142.0, 0.25] and type(values["conv_rate"][0]) is float
        assert values["trips"] == [12, BIG]
    assert "142.0" in texts["strata"] and "9007199254740993" in texts["strata"]


# Writes ------------------------------------------------------------------------------------


def test_write_to_online_store_then_read_back_matches_feast(servers):
    rows = {
        "driver_id": [2001, BIG + 2],
        "conv_rate": [7.0, 0.5],
        "acc_rate": [0.3, 1.0],
        "trips": [3, BIG],
        "label": ["written", None],
    }
    df = frame({**rows, "event_timestamp": [EVENT] * 2})
    entity_rows = [{"driver_id": 2001}, {"driver_id": BIG + 2}]
    read_back = {}
    for name, store in servers.items():
        store.write_to_online_store("driver_stats", df)
        # Read at once, no retry: Strata's write answers once the rows are readable (wait "applied").
        read_back[name] = read(store, stats_refs(), entity_rows)
    (s, _), (f, _) = read_back["strata"], read_back["feast"]
    assert_same_values(s, f)
    assert s["conv_rate"] == [7.0, 0.5] and s["trips"] == [3, BIG]


def test_write_with_missing_floats_matches_feast(servers):
    """pandas holds a missing float as NaN, the common way a df carries a null float."""
    df = pd.DataFrame(
        {
            "driver_id": [2004, 2005],
            "conv_rate": [float("nan"), 1.5],
            "acc_rate": [0.5, float("nan")],
            "trips": [1, 2],
            "label": ["nan", "nan"],
            "event_timestamp": pd.to_datetime([EVENT, EVENT], utc=True),
        }
    )
    for store in servers.values():
        store.write_to_online_store("driver_stats", df)
    (s, _), (f, _) = read_both(servers, stats_refs(), [{"driver_id": 2004}, {"driver_id": 2005}])
    assert_same_values(s, f)


def test_write_every_value_type_to_a_critical_view_matches_feast(servers):
    columns = {**{k: v[:1] for k, v in ALL_TYPES_ROWS.items()}, "driver_id": [2002]}
    # The SDK's JSON transport cannot carry bytes (json.dumps refuses them), whichever server.
    columns = {k: v for k, v in columns.items() if k not in ("f_bytes", "l_bytes")}
    df = frame({**columns, "f_bytes": [None], "l_bytes": [None], "event_timestamp": [EVENT]})
    for store in servers.values():
        store.write_to_online_store("all_types", df)
    (s, _), (f, _) = read_both(servers, [f"all_types:{f}" for f in ALL_TYPES], [{"driver_id": 2002}])
    ts = ["f_ts", "l_ts"]
    assert_same_values({k: v for k, v in s.items() if k not in ts}, {k: v for k, v in f.items() if k not in ts})
    assert s["f_int64"] == [BIG] and s["f_float32"] == [0.10000000149011612]
    # Feast's SDK sends UnixTimestamp as epoch seconds; Strata stores (and serves) milliseconds.
    assert s["f_ts"] == [f["f_ts"][0] * 1000]


def test_write_with_bytes_is_refused_by_the_sdk_itself(servers):
    df = frame({**{k: v[:1] for k, v in ALL_TYPES_ROWS.items()}, "driver_id": [2003], "event_timestamp": [EVENT]})
    for store in servers.values():
        with pytest.raises(TypeError, match="bytes is not JSON serializable"):
            store.write_to_online_store("all_types", df)


def test_push_to_an_online_push_source_then_read_back_matches_feast(servers):
    df = frame(
        {
            "driver_id": [3001],
            "conv_rate": [99.0],
            "acc_rate": [0.7],
            "trips": [41],
            "label": ["pushed"],
            "event_timestamp": [EVENT],
        }
    )
    for store in servers.values():
        store.push("driver_stats_push", df, to=PushMode.ONLINE)
    (s, _), (f, _) = read_both(servers, stats_refs(), [{"driver_id": 3001}])
    assert_same_values(s, f)
    assert s["label"] == ["pushed"] and s["conv_rate"] == [99.0]


# Errors ------------------------------------------------------------------------------------


def raised(store, call):
    with pytest.raises(Exception) as info:
        call(store)
    return info.value


def assert_both_raise(servers, cls, call):
    for name, store in servers.items():
        error = raised(store, call)
        assert type(error) is cls, f"{name}: {type(error).__name__}: {error}"


def test_unknown_feature_view_raises_feature_view_not_found(servers):
    assert_both_raise(
        servers,
        FeatureViewNotFoundException,
        lambda store: store.get_online_features(features=["ghost_view:x"], entity_rows=[{"driver_id": 1}]),
    )


def test_unknown_feature_service_raises_feature_service_not_found(servers):
    def call(store):
        ghost = FeatureService(name="ghost_service", features=[store.get_feature_view("driver_stats")])
        return store.get_online_features(features=ghost, entity_rows=[{"driver_id": 1}])

    assert_both_raise(servers, FeatureServiceNotFoundException, call)


def test_push_to_an_unknown_push_source_raises_push_source_not_found(servers):
    """The SDK resolves push sources in its own registry, so this one never reaches a server."""
    df = frame({"driver_id": [1], "event_timestamp": [EVENT]})
    assert_both_raise(
        servers,
        PushSourceNotFoundException,
        lambda store: store.push("ghost_push", df, to=PushMode.ONLINE),
    )


def ghost_write(store):
    """What write_to_online_store sends, for a view the server does not know (the SDK's own
    registry knows every view, so write_to_online_store itself never reaches a server with one)."""
    ghost = copy.copy(store.get_feature_view("driver_stats"))
    ghost.name = "ghost_view"
    key = EntityKey(join_keys=["driver_id"], entity_values=[Value(int64_val=1)])
    values = {
        "conv_rate": Value(double_val=1.0),
        "acc_rate": Value(float_val=1.0),
        "trips": Value(int64_val=1),
        "label": Value(string_val="x"),
    }
    RemoteOnlineStore().online_write_batch(store.config, ghost, [(key, values, EVENT, None)], None)


def test_write_to_an_unknown_view_raises_feast_object_not_found(servers):
    assert_both_raise(servers, FeastObjectNotFoundException, ghost_write)


def test_unknown_feature_of_a_known_view_is_a_plain_error_on_both(servers):
    """Feast answers 500 with a plain message, so its SDK retries, then raises RetryError;
    Strata answers 400 STRATA_E_UNKNOWN_FEATURE, which the SDK raises as a RuntimeError."""
    call = lambda store: store.get_online_features(features=["driver_stats:nope"], entity_rows=[{"driver_id": 1}])
    strata_error = raised(servers["strata"], call)
    assert type(strata_error) is RuntimeError and "STRATA_E_UNKNOWN_FEATURE" in str(strata_error)
    assert type(raised(servers["feast"], call)).__name__ == "RetryError"


def test_strata_permission_errors_raise_feast_permission_error(tmp_path_factory):
    """Feast serve runs without auth here, so only Strata's side: a read-only key writing,
    and a key limited to a feature service reading a list of features."""
    reader = remote_store(tmp_path_factory, "reader", STRATA_URL, "STRATA_READ_KEY")
    with pytest.raises(FeastPermissionError, match="STRATA_E_FORBIDDEN"):
        ghost_write(reader)
    service_only = remote_store(tmp_path_factory, "service", STRATA_URL, "STRATA_SERVICE_KEY")
    with pytest.raises(FeastPermissionError, match="STRATA_E_FORBIDDEN"):
        service_only.get_online_features(features=stats_refs(), entity_rows=[{"driver_id": 1001}])
    read(service_only, service_only.get_feature_service("driver_service"), [{"driver_id": 1001}])


def test_strata_clients_still_get_strata_errors(servers):
    """A request that is not the SDK's gets Strata's {"error": {...}} body and status."""
    response = requests.post(
        f"{STRATA_URL}/get-online-features",
        json={"features": ["ghost_view:x"], "entities": {"driver_id": [1]}},
        headers={"Authorization": f"Bearer {os.environ['STRATA_READ_KEY']}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "STRATA_E_UNKNOWN_VIEW"
    sdk_shaped = requests.post(
        f"{STRATA_URL}/get-online-features",
        json={"features": ["ghost_view:x"], "entities": {"driver_id": [1]}, "include_feature_view_version_metadata": False},
        headers={"Authorization": f"Bearer {os.environ['STRATA_READ_KEY']}"},
    )
    assert sdk_shaped.status_code == 404
    assert json.loads(sdk_shaped.json())["class"] == "FeatureViewNotFoundException"

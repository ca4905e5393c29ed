"""Requests and answers of feature logging, drift monitoring and similarity search, as plain
Python: the request messages built from dicts (typed by the view's declared columns), the
answers as dicts. No server here; client.py sends them."""

from __future__ import annotations

import datetime as _dt
from typing import Any, Dict, List, Mapping, Optional, Sequence, Union

from google.protobuf import timestamp_pb2

from granary_feature_store.proto.granary.metadata.v1 import feature_view_pb2, monitoring_pb2
from granary_feature_store.proto.granary.offline.v1 import offline_service_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2
from granary_feature_store.values import Row, _micros, column_of, decode, named_columns

__all__ = ["compute_drift_request", "equality_filter", "log_features_request", "neighbors_from_reply", "report_to_dict", "timestamp"]

_DOUBLE = types_pb2.DataType(scalar=types_pb2.SCALAR_TYPE_DOUBLE)
# What each built-in model-dependent transformation outputs (libs/catalogue-rules: transformation-functions.ts).
_TRANSFORMED = {
    feature_view_pb2.TRANSFORMATION_FUNCTION_MIN_MAX_SCALER: _DOUBLE,
    feature_view_pb2.TRANSFORMATION_FUNCTION_STANDARD_SCALER: _DOUBLE,
    feature_view_pb2.TRANSFORMATION_FUNCTION_ROBUST_SCALER: _DOUBLE,
    feature_view_pb2.TRANSFORMATION_FUNCTION_LABEL_ENCODER: types_pb2.DataType(scalar=types_pb2.SCALAR_TYPE_INT64),
    feature_view_pb2.TRANSFORMATION_FUNCTION_ONE_HOT_ENCODER: types_pb2.DataType(scalar=types_pb2.SCALAR_TYPE_FLOAT, list=True),
}
_STATUS = {
    monitoring_pb2.DRIFT_STATUS_UNSPECIFIED: "UNSPECIFIED",
    monitoring_pb2.DRIFT_STATUS_OK: "OK",
    monitoring_pb2.DRIFT_STATUS_DRIFT: "DRIFT",
    monitoring_pb2.DRIFT_STATUS_INSUFFICIENT_DATA: "INSUFFICIENT_DATA",
}


def timestamp(value: Any, what: str) -> timestamp_pb2.Timestamp:
    """A datetime (naive means UTC), a date or epoch microseconds as a protobuf Timestamp."""
    micros = _micros(value, what)
    return timestamp_pb2.Timestamp(seconds=micros // 1_000_000, nanos=(micros % 1_000_000) * 1000)


def _datetime(ts: timestamp_pb2.Timestamp) -> Optional[_dt.datetime]:
    if ts.seconds == 0 and ts.nanos == 0:
        return None
    return _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(seconds=ts.seconds, microseconds=ts.nanos // 1000)


def _time_range(start: Any, end: Any, what: str) -> types_pb2.TimeRange:
    r = types_pb2.TimeRange(start=timestamp(start, f"{what} start"))
    if end is not None:
        r.end.CopyFrom(timestamp(end, f"{what} end"))
    return r


def log_features_request(
    view: feature_view_pb2.FeatureView,
    vectors: Sequence[Row],
    predictions: Optional[Sequence[Any]] = None,
    *,
    transformed: Optional[Sequence[Row]] = None,
    request_parameters: Optional[Sequence[Row]] = None,
    model: str = "",
    model_version: int = 0,
    training_dataset_version: int = 0,
    log_time: Any = None,
) -> offline_service_pb2.LogFeaturesRequest:
    """A LogFeaturesRequest of `view`: `vectors` are dicts of serving keys and untransformed output
    columns (as get_feature_vector returns them, plus the keys); `predictions` one value per vector
    (the view's only label, or "prediction") or one dict of label -> value per vector."""
    n = len(vectors)
    if n == 0:
        raise ValueError("log_features takes at least one vector")
    for what, rows in (("predictions", predictions), ("transformed", transformed), ("request_parameters", request_parameters)):
        if rows is not None and len(rows) != n:
            raise ValueError(f"{len(rows)} {what} for {n} vectors: give one per vector")
    labels = [c for c in view.output_columns if c.role == feature_view_pb2.COLUMN_ROLE_LABEL]
    key_types = {k.name: k.type for k in view.serving_keys}
    feature_types = {c.name: c.type for c in view.output_columns if c.role != feature_view_pb2.COLUMN_ROLE_LABEL}
    unknown = [name for row in vectors for name in row if name not in key_types and name not in feature_types]
    if unknown:
        raise ValueError(f'"{unknown[0]}" is neither a serving key nor a feature of view "{view.name}" (features: {", ".join(feature_types)})')
    keys = [{k: v for k, v in row.items() if k in key_types} for row in vectors]
    features = [{k: v for k, v in row.items() if k in feature_types} for row in vectors]
    request = offline_service_pb2.LogFeaturesRequest(
        project=view.project,
        feature_view=types_pb2.FeatureViewRef(name=view.name, version=view.version),
        row_count=n,
        serving_keys=named_columns(key_types, keys, f'serving key of view "{view.name}"'),
        untransformed=named_columns(feature_types, features, f'feature of view "{view.name}"'),
        model=model,
        model_version=model_version,
        training_dataset_version=training_dataset_version,
        source="client",
    )
    if transformed is not None:
        types = {c.name: _TRANSFORMED[c.transformation] for c in view.output_columns if c.transformation in _TRANSFORMED}
        request.transformed.extend(named_columns(types, transformed, f'transformed column of view "{view.name}"'))
    if request_parameters is not None:
        types = {p.name: p.type for f in view.on_demand_features for p in f.request_parameters}
        request.request_parameters.extend(named_columns(types, request_parameters, f'request parameter of view "{view.name}"'))
    if predictions is not None:
        types = {c.name: c.type for c in labels} or {"prediction": _DOUBLE}
        if all(isinstance(p, Mapping) for p in predictions):
            rows: List[Row] = list(predictions)  # type: ignore[arg-type]
        elif len(types) == 1:
            (name,) = types
            rows = [{name: p} for p in predictions]
        else:
            raise ValueError(f'view "{view.name}" has labels {", ".join(types)}: give each prediction as a dict of label -> value')
        request.predictions.extend(named_columns(types, rows, f'prediction (label) of view "{view.name}"'))
    if log_time is not None:
        request.log_time.CopyFrom(timestamp(log_time, "log_time"))
    return request


def compute_drift_request(
    view: feature_view_pb2.FeatureView,
    *,
    start: Any,
    end: Any = None,
    training_dataset_version: Optional[int] = None,
    reference_start: Any = None,
    reference_end: Any = None,
    columns: Sequence[str] = (),
) -> offline_service_pb2.ComputeDriftRequest:
    """A ComputeDriftRequest: the window [start, end) of log times against a training dataset
    version (0 or None: the latest) or an earlier window [reference_start, reference_end)."""
    request = offline_service_pb2.ComputeDriftRequest(
        project=view.project,
        feature_view=types_pb2.FeatureViewRef(name=view.name, version=view.version),
        window=_time_range(start, end, "window"),
        columns=list(columns),
    )
    if reference_start is not None or reference_end is not None:
        if training_dataset_version is not None:
            raise ValueError("give either training_dataset_version or reference_start/reference_end, not both")
        if reference_start is None or reference_end is None:
            raise ValueError("a reference window needs both reference_start and reference_end")
        request.reference_window.CopyFrom(_time_range(reference_start, reference_end, "reference window"))
    else:
        request.training_dataset_version = training_dataset_version or 0
    return request


def _optional(message: Any, field: str) -> Optional[float]:
    return getattr(message, field) if message.HasField(field) else None


def report_to_dict(report: monitoring_pb2.MonitoringReport) -> Dict[str, Any]:
    """A MonitoringReport as a dict: status "OK", "DRIFT" or "INSUFFICIENT_DATA", and per feature
    psi, ks (None when not computed), null shares, counts, status and the exceeded statistics."""
    reference: Dict[str, Any]
    if report.WhichOneof("reference") == "reference_window":
        reference = {"window": {"start": _datetime(report.reference_window.start), "end": _datetime(report.reference_window.end)}}
    else:
        reference = {"training_dataset_version": report.training_dataset_version}
    return {
        "id": report.id,
        "feature_view": {"name": report.feature_view.name, "version": report.feature_view.version},
        "window": {"start": _datetime(report.window.start), "end": _datetime(report.window.end)},
        "reference": reference,
        "row_count": report.row_count,
        "reference_row_count": report.reference_row_count,
        "status": _STATUS.get(report.status, "UNSPECIFIED"),
        "created": _datetime(report.create_time),
        "features": [
            {
                "column": f.column,
                "categorical": f.categorical,
                "psi": _optional(f, "psi"),
                "ks": _optional(f, "ks"),
                "null_share": f.null_share,
                "reference_null_share": f.reference_null_share,
                "count": f.count,
                "reference_count": f.reference_count,
                "status": _STATUS.get(f.status, "UNSPECIFIED"),
                "exceeded": list(f.exceeded),
            }
            for f in report.features
        ],
    }


_VALUE_KIND = {
    types_pb2.SCALAR_TYPE_BOOL: "bool_value",
    types_pb2.SCALAR_TYPE_INT32: "int32_value",
    types_pb2.SCALAR_TYPE_INT64: "int64_value",
    types_pb2.SCALAR_TYPE_FLOAT: "float_value",
    types_pb2.SCALAR_TYPE_DOUBLE: "double_value",
    types_pb2.SCALAR_TYPE_STRING: "string_value",
    types_pb2.SCALAR_TYPE_BYTES: "bytes_value",
}


def equality_filter(types: Mapping[str, types_pb2.DataType], where: Mapping[str, Any], what: str) -> Optional[feature_view_pb2.Filter]:
    """`{"column": value, ...}` as a Filter ANDing `column = value`, typed by `types`; None for no conditions."""
    conditions = []
    for name, value in where.items():
        data_type = types.get(name)
        if data_type is None:
            raise ValueError(f'{what} has no column "{name}" to filter on (columns: {", ".join(types)})')
        condition = feature_view_pb2.Condition(column=name, operator=feature_view_pb2.FILTER_OPERATOR_EQ)
        if value is None:
            condition.operator = feature_view_pb2.FILTER_OPERATOR_IS_NULL
        elif data_type.scalar == types_pb2.SCALAR_TYPE_TIMESTAMP and not data_type.list:
            condition.value.timestamp_value.CopyFrom(timestamp(value, f'filter on "{name}"'))
        elif data_type.scalar in _VALUE_KIND and not data_type.list:
            # column_of converts and checks the value as a column of that type would.
            data = column_of(data_type, [value], name)
            setattr(condition.value, _VALUE_KIND[data_type.scalar], decode(data)[0])
        else:
            raise ValueError(f'filter on "{name}": only scalar columns can be filtered on')
        conditions.append(feature_view_pb2.Filter(condition=condition))
    if not conditions:
        return None
    if len(conditions) == 1:
        return conditions[0]
    return feature_view_pb2.Filter(**{"and": feature_view_pb2.FilterList(filters=conditions)})


def neighbors_from_reply(reply: Any, include_vectors: bool) -> List[Dict[str, Any]]:
    """A FindNeighborsResponse as one dict per neighbour, nearest first: its "key" (a dict of the
    group's primary key or the view's serving keys), its "distance", and its "vector" (a dict; None
    where a value is not PRESENT) when asked for."""
    from granary_feature_store.values import vectors_to_rows, vectors_to_statuses

    keys = [(column.name, decode(column.data)) for column in reply.keys]
    out: List[Dict[str, Any]] = []
    for i in range(reply.count):
        item: Dict[str, Union[Dict[str, Any], float, None]] = {
            "key": {name: values[i] if i < len(values) else None for name, values in keys},
            "distance": reply.distances[i] if i < len(reply.distances) else None,
        }
        out.append(item)
    if include_vectors:
        rows = vectors_to_rows(reply.vectors)
        statuses = vectors_to_statuses(reply.vectors)
        for i, item in enumerate(out):
            item["vector"] = rows[i] if i < len(rows) else None
            item["statuses"] = statuses[i] if i < len(statuses) else None
    return out

"""Columnar values (granary.types.v1.ColumnData) from and to plain Python lists.

    from granary_client.columns import columnar, int64s, doubles, strings, timestamps, vectors_to_rows

    rows = columnar(id=int64s([1, 2]), score=doubles([0.5, None]), event_time=timestamps([now, now]))
    # -> ColumnarRows(row_count=2, columns=[...]); None marks a null (ColumnData.null_indexes)

A null entry holds the type's zero value on the wire; readers use null_indexes or statuses.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Callable, Dict, List, Optional, Sequence

from granary.types.v1 import types_pb2

__all__ = [
    "bools", "int32s", "int64s", "floats", "doubles", "strings", "bytes_", "timestamps", "dates",
    "columnar", "named", "decode", "vectors_to_rows",
]

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_EPOCH_DATE = _dt.date(1970, 1, 1)


def _column(field: str, array: Any, values: Sequence[Any], zero: Any, convert: Callable[[Any], Any] = lambda v: v) -> types_pb2.ColumnData:
    nulls = [i for i, v in enumerate(values) if v is None]
    data = types_pb2.ColumnData(null_indexes=nulls)
    getattr(data, field).CopyFrom(array(values=[zero if v is None else convert(v) for v in values]))
    return data


def _micros(value: Any) -> int:
    """Microseconds since the epoch of a datetime (naive means UTC) or an int already in micros."""
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
        return (aware - _EPOCH) // _dt.timedelta(microseconds=1)
    return int(value)


def _days(value: Any) -> int:
    """Days since 1970-01-01 of a date (a datetime counts by its date) or an int already in days."""
    if isinstance(value, _dt.datetime):
        value = value.date()
    return (value - _EPOCH_DATE).days if isinstance(value, _dt.date) else int(value)


def bools(values: Sequence[Optional[bool]]) -> types_pb2.ColumnData:
    return _column("bools", types_pb2.BoolArray, values, False)


def int32s(values: Sequence[Optional[int]]) -> types_pb2.ColumnData:
    return _column("int32s", types_pb2.Int32Array, values, 0)


def int64s(values: Sequence[Optional[int]]) -> types_pb2.ColumnData:
    return _column("int64s", types_pb2.Int64Array, values, 0)


def floats(values: Sequence[Optional[float]]) -> types_pb2.ColumnData:
    return _column("floats", types_pb2.FloatArray, values, 0.0)


def doubles(values: Sequence[Optional[float]]) -> types_pb2.ColumnData:
    return _column("doubles", types_pb2.DoubleArray, values, 0.0)


def strings(values: Sequence[Optional[str]]) -> types_pb2.ColumnData:
    return _column("strings", types_pb2.StringArray, values, "")


def bytes_(values: Sequence[Optional[bytes]]) -> types_pb2.ColumnData:
    return _column("bytes", types_pb2.BytesArray, values, b"")


def timestamps(values: Sequence[Any]) -> types_pb2.ColumnData:
    """Datetimes (naive means UTC) or ints in microseconds since the epoch."""
    return _column("timestamps", types_pb2.Int64Array, values, 0, _micros)


def dates(values: Sequence[Any]) -> types_pb2.ColumnData:
    """Dates or ints in days since 1970-01-01."""
    return _column("dates", types_pb2.Int32Array, values, 0, _days)


def named(name: str, data: types_pb2.ColumnData) -> types_pb2.NamedColumn:
    return types_pb2.NamedColumn(name=name, data=data)


def columnar(**columns: types_pb2.ColumnData) -> types_pb2.ColumnarRows:
    """ColumnarRows from keyword columns of equal length."""
    counts = {len(decode(data)) for data in columns.values()}
    if len(counts) > 1:
        raise ValueError(f"columns differ in length: {sorted(counts)}")
    return types_pb2.ColumnarRows(
        row_count=counts.pop() if counts else 0,
        columns=[named(name, data) for name, data in columns.items()],
    )


def decode(data: types_pb2.ColumnData) -> List[Any]:
    """The values of a column as Python objects: timestamps as UTC datetimes, dates as dates,
    lists as lists, and None at null_indexes."""
    kind = data.WhichOneof("values")
    if kind is None:
        return []
    if kind == "lists":
        items = decode(data.lists.items)
        offsets = list(data.lists.offsets)
        values: List[Any] = [items[offsets[i]:offsets[i + 1]] for i in range(len(offsets) - 1)]
    else:
        values = list(getattr(data, kind).values)
        if kind == "timestamps":
            values = [_EPOCH + _dt.timedelta(microseconds=v) for v in values]
        elif kind == "dates":
            values = [_EPOCH_DATE + _dt.timedelta(days=v) for v in values]
    for i in data.null_indexes:
        values[i] = None
    return values


def vectors_to_rows(vectors: Any) -> List[Dict[str, Any]]:
    """A granary.online.v1.FeatureVectors as one dict per entity, in the view's column order;
    a value whose status is not PRESENT (NULL, NOT_FOUND, EXPIRED) is None."""
    present = types_pb2.VALUE_STATUS_PRESENT
    rows: List[Dict[str, Any]] = [{} for _ in range(vectors.row_count)]
    for column in vectors.columns:
        values = decode(column.values)
        for i, row in enumerate(rows):
            ok = i < len(column.statuses) and column.statuses[i] == present
            row[column.name] = values[i] if ok and i < len(values) else None
    return rows

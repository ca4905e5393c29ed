"""Python values to and from Granary's columnar wire format (granary.types.v1.ColumnData).

Rows go out as columns: ``rows_to_columns(schema, rows)`` turns a list of dicts into a
``ColumnarRows`` typed by the group's declared columns, and ``column_of(type, values)`` does one
column. The declared type decides the conversion, because the services accept a column only in its
own array (an int64 column refuses ``int32s``, a float column ``doubles``)::

    int                 -> INT32, INT64, FLOAT, DOUBLE, TIMESTAMP (µs since the epoch), DATE (days)
    float               -> FLOAT, DOUBLE
    bool                -> BOOL only (never counted as an int)
    str                 -> STRING, BYTES (UTF-8), INT64 (decimal digits)
    bytes               -> BYTES
    datetime            -> TIMESTAMP (naive means UTC), DATE (its date)
    date                -> DATE, TIMESTAMP (midnight UTC)
    list / tuple        -> a list column of the item type (items may not be None)
    None                -> null (ColumnData.null_indexes; the array holds the type's zero there)

A value that does not fit raises ``TypeError`` or ``ValueError`` naming the column and the row.

Coming back, ``decode(data)`` reads a column as Python objects (timestamps as aware UTC datetimes,
dates as dates, lists as lists, None at null_indexes) and ``vectors_to_rows`` reads a lookup's
``FeatureVectors`` as one dict per entity. The untyped builders (``int64s``, ``doubles``, ...,
``columnar``) remain for hand-made requests.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from granary_feature_store.proto.granary.types.v1 import types_pb2

__all__ = [
    "Row",
    "column_of",
    "named_columns",
    "rows_to_columns",
    "decode",
    "vectors_to_rows",
    "vectors_to_statuses",
    "bools",
    "int32s",
    "int64s",
    "floats",
    "doubles",
    "strings",
    "bytes_",
    "timestamps",
    "dates",
    "columnar",
    "named",
]

Row = Mapping[str, Any]
"""A row keyed by column name."""

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)
_EPOCH_DATE = _dt.date(1970, 1, 1)
_INT32 = (-(2**31), 2**31 - 1)
_INT64 = (-(2**63), 2**63 - 1)
_FLOAT32_MAX = 3.4028234663852886e38

_S = types_pb2.ScalarType


def _describe(value: Any) -> str:
    return f"{type(value).__name__} {value!r}" if len(repr(value)) <= 40 else type(value).__name__


def _int(value: Any, bounds: Tuple[int, int], what: str, allow_digits: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if allow_digits and isinstance(value, str) and value.lstrip("-").isdigit():
            value = int(value)
        else:
            raise TypeError(f"{what}: expected an int, got {_describe(value)}")
    if not bounds[0] <= value <= bounds[1]:
        raise ValueError(f"{what}: {value} is out of range [{bounds[0]}, {bounds[1]}]")
    return value


def _float(value: Any, what: str, single: bool) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what}: expected a float or an int, got {_describe(value)}")
    out = float(value)
    if single and math.isfinite(out) and abs(out) > _FLOAT32_MAX:
        raise ValueError(f"{what}: {value} does not fit a 32-bit float")
    return out


def _micros(value: Any, what: str) -> int:
    """Microseconds since the epoch of a datetime (naive means UTC), a date (midnight UTC) or an int."""
    if isinstance(value, _dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=_dt.timezone.utc)
        return (aware - _EPOCH) // _dt.timedelta(microseconds=1)
    if isinstance(value, _dt.date):
        return (value - _EPOCH_DATE).days * 86_400_000_000
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(value, _INT64, what)
    raise TypeError(f"{what}: expected a datetime, got {_describe(value)}")


def _days(value: Any, what: str) -> int:
    """Days since 1970-01-01 of a date (a datetime counts by its UTC date) or an int."""
    if isinstance(value, _dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(_dt.timezone.utc)
        value = value.date()
    if isinstance(value, _dt.date):
        return (value - _EPOCH_DATE).days
    if isinstance(value, int) and not isinstance(value, bool):
        return _int(value, _INT32, what)
    raise TypeError(f"{what}: expected a date, got {_describe(value)}")


def _bool(value: Any, what: str) -> bool:
    if not isinstance(value, bool):
        raise TypeError(f"{what}: expected a bool, got {_describe(value)}")
    return value


def _str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what}: expected a str, got {_describe(value)}")
    return value


def _bytes(value: Any, what: str) -> bytes:
    if isinstance(value, str):
        return value.encode("utf-8")
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"{what}: expected bytes, got {_describe(value)}")
    return bytes(value)


# ScalarType -> (ColumnData field, array message, zero value, converter)
_SCALARS: Dict[int, Tuple[str, Any, Any, Callable[[Any, str], Any]]] = {
    _S.SCALAR_TYPE_BOOL: ("bools", types_pb2.BoolArray, False, _bool),
    _S.SCALAR_TYPE_INT32: ("int32s", types_pb2.Int32Array, 0, lambda v, w: _int(v, _INT32, w)),
    _S.SCALAR_TYPE_INT64: ("int64s", types_pb2.Int64Array, 0, lambda v, w: _int(v, _INT64, w, allow_digits=True)),
    _S.SCALAR_TYPE_FLOAT: ("floats", types_pb2.FloatArray, 0.0, lambda v, w: _float(v, w, single=True)),
    _S.SCALAR_TYPE_DOUBLE: ("doubles", types_pb2.DoubleArray, 0.0, lambda v, w: _float(v, w, single=False)),
    _S.SCALAR_TYPE_STRING: ("strings", types_pb2.StringArray, "", _str),
    _S.SCALAR_TYPE_BYTES: ("bytes", types_pb2.BytesArray, b"", _bytes),
    _S.SCALAR_TYPE_TIMESTAMP: ("timestamps", types_pb2.Int64Array, 0, _micros),
    _S.SCALAR_TYPE_DATE: ("dates", types_pb2.Int32Array, 0, _days),
}


def column_of(data_type: types_pb2.DataType, values: Sequence[Any], name: str = "value") -> types_pb2.ColumnData:
    """One column of `values` (None for a null) as the declared `data_type` carries it on the wire."""
    if data_type.list:
        item_type = types_pb2.DataType(scalar=data_type.scalar)
        offsets: List[int] = [0]
        items: List[Any] = []
        nulls: List[int] = []
        for row, value in enumerate(values):
            if value is None:
                nulls.append(row)
            elif isinstance(value, (list, tuple)):
                for k, item in enumerate(value):
                    if item is None:
                        raise ValueError(f'column "{name}" row {row}: item {k} of the list is None; lists hold values only (use [] or None for the whole value)')
                    items.append(item)
                if data_type.dimension and len(value) != data_type.dimension:
                    raise ValueError(f'column "{name}" row {row}: expected {data_type.dimension} items, got {len(value)}')
            else:
                raise TypeError(f'column "{name}" row {row}: expected a list, got {_describe(value)}')
            offsets.append(len(items))
        data = types_pb2.ColumnData(null_indexes=nulls)
        data.lists.offsets.extend(offsets)
        data.lists.items.CopyFrom(column_of(item_type, items, f"{name}[]"))
        return data
    spec = _SCALARS.get(data_type.scalar)
    if spec is None:
        raise ValueError(f'column "{name}" has no scalar type ({types_pb2.ScalarType.Name(data_type.scalar)})')
    field, array, zero, convert = spec
    nulls = []
    out: List[Any] = []
    for row, value in enumerate(values):
        if value is None:
            nulls.append(row)
            out.append(zero)
        else:
            out.append(convert(value, f'column "{name}" row {row}'))
    data = types_pb2.ColumnData(null_indexes=nulls)
    getattr(data, field).CopyFrom(array(values=out))
    return data


def named_columns(types: Mapping[str, types_pb2.DataType], rows: Sequence[Row], what: str) -> List[types_pb2.NamedColumn]:
    """A named column for every key any row has (a row without it gives None), typed by `types`."""
    names: Dict[str, None] = {}
    for row in rows:
        names.update(dict.fromkeys(row))
    columns = []
    for name in names:
        data_type = types.get(name)
        if data_type is None:
            raise ValueError(f'{what} "{name}" is not one of: {", ".join(types) or "(none)"}')
        columns.append(types_pb2.NamedColumn(name=name, data=column_of(data_type, [row.get(name) for row in rows], name)))
    return columns


def rows_to_columns(schema: Iterable[types_pb2.Column], rows: Sequence[Row]) -> types_pb2.ColumnarRows:
    """Rows (dicts) as ColumnarRows typed by a feature group's columns. A column no row has is left
    out (the service stores its default, or null); a key the group has no column for raises."""
    types = {column.name: column.type for column in schema}
    return types_pb2.ColumnarRows(row_count=len(rows), columns=named_columns(types, rows, "column"))


# ---- reading --------------------------------------------------------------------------------


def decode(data: types_pb2.ColumnData) -> List[Any]:
    """The values of a column as Python objects: timestamps as UTC datetimes, dates as dates,
    lists as lists, and None at null_indexes."""
    kind = data.WhichOneof("values")
    if kind is None:
        return []
    if kind == "lists":
        items = decode(data.lists.items)
        offsets = list(data.lists.offsets)
        values: List[Any] = [items[offsets[i] : offsets[i + 1]] for i in range(len(offsets) - 1)]
    else:
        values = list(getattr(data, kind).values)
        if kind == "timestamps":
            values = [_EPOCH + _dt.timedelta(microseconds=v) for v in values]
        elif kind == "dates":
            values = [_EPOCH_DATE + _dt.timedelta(days=v) for v in values]
    for i in data.null_indexes:
        if i < len(values):
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


def vectors_to_statuses(vectors: Any) -> List[Dict[str, str]]:
    """The status of each value of a FeatureVectors, one dict per entity: "PRESENT", "NULL",
    "NOT_FOUND" (no row for the key) or "EXPIRED" (older than the group's online TTL)."""
    rows: List[Dict[str, str]] = [{} for _ in range(vectors.row_count)]
    for column in vectors.columns:
        for i, row in enumerate(rows):
            status = column.statuses[i] if i < len(column.statuses) else types_pb2.VALUE_STATUS_UNSPECIFIED
            row[column.name] = types_pb2.ValueStatus.Name(status).replace("VALUE_STATUS_", "")
    return rows


# ---- untyped builders, for hand-made requests -----------------------------------------------


def _column(scalar: "types_pb2.ScalarType", values: Sequence[Any]) -> types_pb2.ColumnData:
    return column_of(types_pb2.DataType(scalar=scalar), values)


def bools(values: Sequence[Optional[bool]]) -> types_pb2.ColumnData:
    return _column(_S.SCALAR_TYPE_BOOL, values)


def int32s(values: Sequence[Optional[int]]) -> types_pb2.ColumnData:
    return _column(_S.SCALAR_TYPE_INT32, values)


def int64s(values: Sequence[Optional[int]]) -> types_pb2.ColumnData:
    return _column(_S.SCALAR_TYPE_INT64, values)


def floats(values: Sequence[Optional[float]]) -> types_pb2.ColumnData:
    return _column(_S.SCALAR_TYPE_FLOAT, values)


def doubles(values: Sequence[Optional[float]]) -> types_pb2.ColumnData:
    return _column(_S.SCALAR_TYPE_DOUBLE, values)


def strings(values: Sequence[Optional[str]]) -> types_pb2.ColumnData:
    return _column(_S.SCALAR_TYPE_STRING, values)


def bytes_(values: Sequence[Optional[bytes]]) -> types_pb2.ColumnData:
    return _column(_S.SCALAR_TYPE_BYTES, values)


def timestamps(values: Sequence[Any]) -> types_pb2.ColumnData:
    """Datetimes (naive means UTC) or ints in microseconds since the epoch."""
    return _column(_S.SCALAR_TYPE_TIMESTAMP, values)


def dates(values: Sequence[Any]) -> types_pb2.ColumnData:
    """Dates or ints in days since 1970-01-01."""
    return _column(_S.SCALAR_TYPE_DATE, values)


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

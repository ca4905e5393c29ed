from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
SCALAR_TYPE_BOOL: ScalarType
SCALAR_TYPE_BYTES: ScalarType
SCALAR_TYPE_DATE: ScalarType
SCALAR_TYPE_DOUBLE: ScalarType
SCALAR_TYPE_FLOAT: ScalarType
SCALAR_TYPE_INT32: ScalarType
SCALAR_TYPE_INT64: ScalarType
SCALAR_TYPE_STRING: ScalarType
SCALAR_TYPE_TIMESTAMP: ScalarType
SCALAR_TYPE_UNSPECIFIED: ScalarType
VALUE_STATUS_EXPIRED: ValueStatus
VALUE_STATUS_NOT_FOUND: ValueStatus
VALUE_STATUS_NULL: ValueStatus
VALUE_STATUS_PRESENT: ValueStatus
VALUE_STATUS_UNSPECIFIED: ValueStatus

class ArrowChunk(_message.Message):
    __slots__ = ["ipc"]
    IPC_FIELD_NUMBER: _ClassVar[int]
    ipc: bytes
    def __init__(self, ipc: _Optional[bytes] = ...) -> None: ...

class BoolArray(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[bool]
    def __init__(self, values: _Optional[_Iterable[bool]] = ...) -> None: ...

class BytesArray(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, values: _Optional[_Iterable[bytes]] = ...) -> None: ...

class Column(_message.Message):
    __slots__ = ["default_value", "description", "name", "type"]
    DEFAULT_VALUE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    default_value: Value
    description: str
    name: str
    type: DataType
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[DataType, _Mapping]] = ..., description: _Optional[str] = ..., default_value: _Optional[_Union[Value, _Mapping]] = ...) -> None: ...

class ColumnData(_message.Message):
    __slots__ = ["bools", "bytes", "dates", "doubles", "floats", "int32s", "int64s", "lists", "null_indexes", "strings", "timestamps"]
    BOOLS_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    DATES_FIELD_NUMBER: _ClassVar[int]
    DOUBLES_FIELD_NUMBER: _ClassVar[int]
    FLOATS_FIELD_NUMBER: _ClassVar[int]
    INT32S_FIELD_NUMBER: _ClassVar[int]
    INT64S_FIELD_NUMBER: _ClassVar[int]
    LISTS_FIELD_NUMBER: _ClassVar[int]
    NULL_INDEXES_FIELD_NUMBER: _ClassVar[int]
    STRINGS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMPS_FIELD_NUMBER: _ClassVar[int]
    bools: BoolArray
    bytes: BytesArray
    dates: Int32Array
    doubles: DoubleArray
    floats: FloatArray
    int32s: Int32Array
    int64s: Int64Array
    lists: ListArray
    null_indexes: _containers.RepeatedScalarFieldContainer[int]
    strings: StringArray
    timestamps: Int64Array
    def __init__(self, bools: _Optional[_Union[BoolArray, _Mapping]] = ..., int32s: _Optional[_Union[Int32Array, _Mapping]] = ..., int64s: _Optional[_Union[Int64Array, _Mapping]] = ..., floats: _Optional[_Union[FloatArray, _Mapping]] = ..., doubles: _Optional[_Union[DoubleArray, _Mapping]] = ..., strings: _Optional[_Union[StringArray, _Mapping]] = ..., bytes: _Optional[_Union[BytesArray, _Mapping]] = ..., timestamps: _Optional[_Union[Int64Array, _Mapping]] = ..., dates: _Optional[_Union[Int32Array, _Mapping]] = ..., lists: _Optional[_Union[ListArray, _Mapping]] = ..., null_indexes: _Optional[_Iterable[int]] = ...) -> None: ...

class ColumnarRows(_message.Message):
    __slots__ = ["columns", "row_count"]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[NamedColumn]
    row_count: int
    def __init__(self, row_count: _Optional[int] = ..., columns: _Optional[_Iterable[_Union[NamedColumn, _Mapping]]] = ...) -> None: ...

class DataType(_message.Message):
    __slots__ = ["dimension", "list", "scalar"]
    DIMENSION_FIELD_NUMBER: _ClassVar[int]
    LIST_FIELD_NUMBER: _ClassVar[int]
    SCALAR_FIELD_NUMBER: _ClassVar[int]
    dimension: int
    list: bool
    scalar: ScalarType
    def __init__(self, scalar: _Optional[_Union[ScalarType, str]] = ..., list: bool = ..., dimension: _Optional[int] = ...) -> None: ...

class DoubleArray(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class FeatureGroupRef(_message.Message):
    __slots__ = ["name", "version"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class FeatureViewRef(_message.Message):
    __slots__ = ["name", "version"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    version: int
    def __init__(self, name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class FloatArray(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, values: _Optional[_Iterable[float]] = ...) -> None: ...

class Int32Array(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class Int64Array(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, values: _Optional[_Iterable[int]] = ...) -> None: ...

class ListArray(_message.Message):
    __slots__ = ["items", "offsets"]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    OFFSETS_FIELD_NUMBER: _ClassVar[int]
    items: ColumnData
    offsets: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, offsets: _Optional[_Iterable[int]] = ..., items: _Optional[_Union[ColumnData, _Mapping]] = ...) -> None: ...

class ListValue(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[Value]
    def __init__(self, values: _Optional[_Iterable[_Union[Value, _Mapping]]] = ...) -> None: ...

class NamedColumn(_message.Message):
    __slots__ = ["data", "name"]
    DATA_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    data: ColumnData
    name: str
    def __init__(self, name: _Optional[str] = ..., data: _Optional[_Union[ColumnData, _Mapping]] = ...) -> None: ...

class StringArray(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, values: _Optional[_Iterable[str]] = ...) -> None: ...

class TimeRange(_message.Message):
    __slots__ = ["end", "start"]
    END_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    end: _timestamp_pb2.Timestamp
    start: _timestamp_pb2.Timestamp
    def __init__(self, start: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Value(_message.Message):
    __slots__ = ["bool_value", "bytes_value", "date_value", "double_value", "float_value", "int32_value", "int64_value", "list_value", "string_value", "timestamp_value"]
    BOOL_VALUE_FIELD_NUMBER: _ClassVar[int]
    BYTES_VALUE_FIELD_NUMBER: _ClassVar[int]
    DATE_VALUE_FIELD_NUMBER: _ClassVar[int]
    DOUBLE_VALUE_FIELD_NUMBER: _ClassVar[int]
    FLOAT_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT32_VALUE_FIELD_NUMBER: _ClassVar[int]
    INT64_VALUE_FIELD_NUMBER: _ClassVar[int]
    LIST_VALUE_FIELD_NUMBER: _ClassVar[int]
    STRING_VALUE_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_VALUE_FIELD_NUMBER: _ClassVar[int]
    bool_value: bool
    bytes_value: bytes
    date_value: int
    double_value: float
    float_value: float
    int32_value: int
    int64_value: int
    list_value: ListValue
    string_value: str
    timestamp_value: _timestamp_pb2.Timestamp
    def __init__(self, bool_value: bool = ..., int32_value: _Optional[int] = ..., int64_value: _Optional[int] = ..., float_value: _Optional[float] = ..., double_value: _Optional[float] = ..., string_value: _Optional[str] = ..., bytes_value: _Optional[bytes] = ..., timestamp_value: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., date_value: _Optional[int] = ..., list_value: _Optional[_Union[ListValue, _Mapping]] = ...) -> None: ...

class ScalarType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ValueStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

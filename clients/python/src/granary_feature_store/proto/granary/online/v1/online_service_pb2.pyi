from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.metadata.v1 import feature_view_pb2 as _feature_view_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
DURABILITY_COMMITTED: Durability
DURABILITY_FLUSHED: Durability
DURABILITY_UNSPECIFIED: Durability

class DeadLetter(_message.Message):
    __slots__ = ["data", "file_time", "headers", "original_sequence", "reason", "sequence", "subject"]
    class HeadersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    DATA_FIELD_NUMBER: _ClassVar[int]
    FILE_TIME_FIELD_NUMBER: _ClassVar[int]
    HEADERS_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    file_time: _timestamp_pb2.Timestamp
    headers: _containers.ScalarMap[str, str]
    original_sequence: int
    reason: str
    sequence: int
    subject: str
    def __init__(self, sequence: _Optional[int] = ..., subject: _Optional[str] = ..., reason: _Optional[str] = ..., original_sequence: _Optional[int] = ..., file_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., headers: _Optional[_Mapping[str, str]] = ..., data: _Optional[bytes] = ...) -> None: ...

class DeleteRowsRequest(_message.Message):
    __slots__ = ["durability", "feature_group", "keys", "project"]
    DURABILITY_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    durability: Durability
    feature_group: _types_pb2.FeatureGroupRef
    keys: _types_pb2.ColumnarRows
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., keys: _Optional[_Union[_types_pb2.ColumnarRows, _Mapping]] = ..., durability: _Optional[_Union[Durability, str]] = ...) -> None: ...

class DeleteRowsResponse(_message.Message):
    __slots__ = ["deleted_count", "log_sequence"]
    DELETED_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOG_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    deleted_count: int
    log_sequence: int
    def __init__(self, deleted_count: _Optional[int] = ..., log_sequence: _Optional[int] = ...) -> None: ...

class EntityRows(_message.Message):
    __slots__ = ["passed_features", "request_parameters", "row_count", "serving_keys"]
    PASSED_FEATURES_FIELD_NUMBER: _ClassVar[int]
    REQUEST_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    SERVING_KEYS_FIELD_NUMBER: _ClassVar[int]
    passed_features: _containers.RepeatedCompositeFieldContainer[_types_pb2.NamedColumn]
    request_parameters: _containers.RepeatedCompositeFieldContainer[_types_pb2.NamedColumn]
    row_count: int
    serving_keys: _containers.RepeatedCompositeFieldContainer[_types_pb2.NamedColumn]
    def __init__(self, row_count: _Optional[int] = ..., serving_keys: _Optional[_Iterable[_Union[_types_pb2.NamedColumn, _Mapping]]] = ..., passed_features: _Optional[_Iterable[_Union[_types_pb2.NamedColumn, _Mapping]]] = ..., request_parameters: _Optional[_Iterable[_Union[_types_pb2.NamedColumn, _Mapping]]] = ...) -> None: ...

class EventTimeColumn(_message.Message):
    __slots__ = ["feature_group", "micros"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    MICROS_FIELD_NUMBER: _ClassVar[int]
    feature_group: _types_pb2.FeatureGroupRef
    micros: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., micros: _Optional[_Iterable[int]] = ...) -> None: ...

class FeatureColumn(_message.Message):
    __slots__ = ["name", "statuses", "type", "values"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    STATUSES_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    statuses: _containers.RepeatedScalarFieldContainer[_types_pb2.ValueStatus]
    type: _types_pb2.DataType
    values: _types_pb2.ColumnData
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[_types_pb2.DataType, _Mapping]] = ..., values: _Optional[_Union[_types_pb2.ColumnData, _Mapping]] = ..., statuses: _Optional[_Iterable[_Union[_types_pb2.ValueStatus, str]]] = ...) -> None: ...

class FeatureLoggingStatus(_message.Message):
    __slots__ = ["dropped", "logged", "queued"]
    DROPPED_FIELD_NUMBER: _ClassVar[int]
    LOGGED_FIELD_NUMBER: _ClassVar[int]
    QUEUED_FIELD_NUMBER: _ClassVar[int]
    dropped: int
    logged: int
    queued: int
    def __init__(self, logged: _Optional[int] = ..., dropped: _Optional[int] = ..., queued: _Optional[int] = ...) -> None: ...

class FeatureVectorOptions(_message.Message):
    __slots__ = ["include_event_times", "include_inference_helpers", "min_log_sequence", "training_dataset_version", "untransformed"]
    INCLUDE_EVENT_TIMES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INFERENCE_HELPERS_FIELD_NUMBER: _ClassVar[int]
    MIN_LOG_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    UNTRANSFORMED_FIELD_NUMBER: _ClassVar[int]
    include_event_times: bool
    include_inference_helpers: bool
    min_log_sequence: int
    training_dataset_version: int
    untransformed: bool
    def __init__(self, untransformed: bool = ..., include_event_times: bool = ..., include_inference_helpers: bool = ..., training_dataset_version: _Optional[int] = ..., min_log_sequence: _Optional[int] = ...) -> None: ...

class FeatureVectors(_message.Message):
    __slots__ = ["columns", "event_times", "row_count"]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIMES_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[FeatureColumn]
    event_times: _containers.RepeatedCompositeFieldContainer[EventTimeColumn]
    row_count: int
    def __init__(self, row_count: _Optional[int] = ..., columns: _Optional[_Iterable[_Union[FeatureColumn, _Mapping]]] = ..., event_times: _Optional[_Iterable[_Union[EventTimeColumn, _Mapping]]] = ...) -> None: ...

class FindNeighborsRequest(_message.Message):
    __slots__ = ["column", "exact", "feature_group", "feature_view", "filter", "include_vectors", "k", "options", "project", "query"]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    EXACT_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_VECTORS_FIELD_NUMBER: _ClassVar[int]
    K_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    column: str
    exact: bool
    feature_group: _types_pb2.FeatureGroupRef
    feature_view: _types_pb2.FeatureViewRef
    filter: _feature_view_pb2.Filter
    include_vectors: bool
    k: int
    options: FeatureVectorOptions
    project: str
    query: _containers.RepeatedScalarFieldContainer[float]
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., column: _Optional[str] = ..., query: _Optional[_Iterable[float]] = ..., k: _Optional[int] = ..., filter: _Optional[_Union[_feature_view_pb2.Filter, _Mapping]] = ..., include_vectors: bool = ..., options: _Optional[_Union[FeatureVectorOptions, _Mapping]] = ..., exact: bool = ...) -> None: ...

class FindNeighborsResponse(_message.Message):
    __slots__ = ["count", "distances", "keys", "vectors"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    DISTANCES_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    count: int
    distances: _containers.RepeatedScalarFieldContainer[float]
    keys: _containers.RepeatedCompositeFieldContainer[_types_pb2.NamedColumn]
    vectors: FeatureVectors
    def __init__(self, count: _Optional[int] = ..., keys: _Optional[_Iterable[_Union[_types_pb2.NamedColumn, _Mapping]]] = ..., distances: _Optional[_Iterable[float]] = ..., vectors: _Optional[_Union[FeatureVectors, _Mapping]] = ...) -> None: ...

class GetFeatureVectorsRequest(_message.Message):
    __slots__ = ["entities", "feature_view", "options", "project"]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    entities: EntityRows
    feature_view: _types_pb2.FeatureViewRef
    options: FeatureVectorOptions
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., entities: _Optional[_Union[EntityRows, _Mapping]] = ..., options: _Optional[_Union[FeatureVectorOptions, _Mapping]] = ...) -> None: ...

class GetFeatureVectorsResponse(_message.Message):
    __slots__ = ["vectors"]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    vectors: FeatureVectors
    def __init__(self, vectors: _Optional[_Union[FeatureVectors, _Mapping]] = ...) -> None: ...

class GetModelFeatureVectorsRequest(_message.Message):
    __slots__ = ["alias", "entities", "model", "options", "project", "version"]
    ALIAS_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    alias: str
    entities: EntityRows
    model: str
    options: FeatureVectorOptions
    project: str
    version: int
    def __init__(self, project: _Optional[str] = ..., model: _Optional[str] = ..., alias: _Optional[str] = ..., version: _Optional[int] = ..., entities: _Optional[_Union[EntityRows, _Mapping]] = ..., options: _Optional[_Union[FeatureVectorOptions, _Mapping]] = ...) -> None: ...

class GetModelFeatureVectorsResponse(_message.Message):
    __slots__ = ["feature_view", "model_version", "training_dataset_version", "vectors"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    VECTORS_FIELD_NUMBER: _ClassVar[int]
    feature_view: _types_pb2.FeatureViewRef
    model_version: int
    training_dataset_version: int
    vectors: FeatureVectors
    def __init__(self, vectors: _Optional[_Union[FeatureVectors, _Mapping]] = ..., model_version: _Optional[int] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., training_dataset_version: _Optional[int] = ...) -> None: ...

class GetReplicaStatusRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetReplicaStatusResponse(_message.Message):
    __slots__ = ["applied_sequence", "feature_logging", "lag", "log", "log_sequence", "replica", "within_bound"]
    APPLIED_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    FEATURE_LOGGING_FIELD_NUMBER: _ClassVar[int]
    LAG_FIELD_NUMBER: _ClassVar[int]
    LOG_FIELD_NUMBER: _ClassVar[int]
    LOG_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    REPLICA_FIELD_NUMBER: _ClassVar[int]
    WITHIN_BOUND_FIELD_NUMBER: _ClassVar[int]
    applied_sequence: int
    feature_logging: FeatureLoggingStatus
    lag: int
    log: str
    log_sequence: int
    replica: str
    within_bound: bool
    def __init__(self, replica: _Optional[str] = ..., log: _Optional[str] = ..., applied_sequence: _Optional[int] = ..., log_sequence: _Optional[int] = ..., lag: _Optional[int] = ..., within_bound: bool = ..., feature_logging: _Optional[_Union[FeatureLoggingStatus, _Mapping]] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ["limit", "project"]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    project: str
    def __init__(self, project: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ["dead_letters"]
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[DeadLetter]
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[DeadLetter, _Mapping]]] = ...) -> None: ...

class WriteRowsRequest(_message.Message):
    __slots__ = ["arrow_ipc", "columns", "durability", "feature_group", "project"]
    ARROW_IPC_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    DURABILITY_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    arrow_ipc: bytes
    columns: _types_pb2.ColumnarRows
    durability: Durability
    feature_group: _types_pb2.FeatureGroupRef
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., columns: _Optional[_Union[_types_pb2.ColumnarRows, _Mapping]] = ..., arrow_ipc: _Optional[bytes] = ..., durability: _Optional[_Union[Durability, str]] = ...) -> None: ...

class WriteRowsResponse(_message.Message):
    __slots__ = ["ignored_count", "log_sequence", "written_count"]
    IGNORED_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOG_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    WRITTEN_COUNT_FIELD_NUMBER: _ClassVar[int]
    ignored_count: int
    log_sequence: int
    written_count: int
    def __init__(self, written_count: _Optional[int] = ..., ignored_count: _Optional[int] = ..., log_sequence: _Optional[int] = ...) -> None: ...

class Durability(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

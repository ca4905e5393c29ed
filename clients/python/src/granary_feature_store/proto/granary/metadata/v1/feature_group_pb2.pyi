from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
DISTANCE_METRIC_COSINE: DistanceMetric
DISTANCE_METRIC_INNER_PRODUCT: DistanceMetric
DISTANCE_METRIC_L2: DistanceMetric
DISTANCE_METRIC_UNSPECIFIED: DistanceMetric
VALIDATION_POLICY_FAIL: ValidationPolicy
VALIDATION_POLICY_UNSPECIFIED: ValidationPolicy
VALIDATION_POLICY_WARN: ValidationPolicy

class BetweenRule(_message.Message):
    __slots__ = ["max", "min"]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    max: float
    min: float
    def __init__(self, min: _Optional[float] = ..., max: _Optional[float] = ...) -> None: ...

class EmbeddingIndex(_message.Message):
    __slots__ = ["column", "metric"]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    column: str
    metric: DistanceMetric
    def __init__(self, column: _Optional[str] = ..., metric: _Optional[_Union[DistanceMetric, str]] = ...) -> None: ...

class FeatureGroup(_message.Message):
    __slots__ = ["columns", "create_time", "created_by", "custom_metadata", "description", "embedding_indexes", "etag", "event_time", "id", "name", "offline_retention", "online_enabled", "online_ttl", "partition_key", "primary_key", "project", "statistics_config", "tags", "update_time", "validation_rules", "version"]
    class CustomMetadataEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_METADATA_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EMBEDDING_INDEXES_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_RETENTION_FIELD_NUMBER: _ClassVar[int]
    ONLINE_ENABLED_FIELD_NUMBER: _ClassVar[int]
    ONLINE_TTL_FIELD_NUMBER: _ClassVar[int]
    PARTITION_KEY_FIELD_NUMBER: _ClassVar[int]
    PRIMARY_KEY_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_CONFIG_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_RULES_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[_types_pb2.Column]
    create_time: _timestamp_pb2.Timestamp
    created_by: str
    custom_metadata: _containers.ScalarMap[str, str]
    description: str
    embedding_indexes: _containers.RepeatedCompositeFieldContainer[EmbeddingIndex]
    etag: str
    event_time: str
    id: int
    name: str
    offline_retention: _duration_pb2.Duration
    online_enabled: bool
    online_ttl: _duration_pb2.Duration
    partition_key: _containers.RepeatedScalarFieldContainer[str]
    primary_key: _containers.RepeatedScalarFieldContainer[str]
    project: str
    statistics_config: StatisticsConfig
    tags: _containers.RepeatedScalarFieldContainer[str]
    update_time: _timestamp_pb2.Timestamp
    validation_rules: _containers.RepeatedCompositeFieldContainer[ValidationRule]
    version: int
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., description: _Optional[str] = ..., columns: _Optional[_Iterable[_Union[_types_pb2.Column, _Mapping]]] = ..., primary_key: _Optional[_Iterable[str]] = ..., event_time: _Optional[str] = ..., partition_key: _Optional[_Iterable[str]] = ..., online_enabled: bool = ..., online_ttl: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., tags: _Optional[_Iterable[str]] = ..., custom_metadata: _Optional[_Mapping[str, str]] = ..., statistics_config: _Optional[_Union[StatisticsConfig, _Mapping]] = ..., validation_rules: _Optional[_Iterable[_Union[ValidationRule, _Mapping]]] = ..., id: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., created_by: _Optional[str] = ..., offline_retention: _Optional[_Union[_duration_pb2.Duration, _Mapping]] = ..., embedding_indexes: _Optional[_Iterable[_Union[EmbeddingIndex, _Mapping]]] = ...) -> None: ...

class NotNullRule(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RegexMatchRule(_message.Message):
    __slots__ = ["pattern"]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    pattern: str
    def __init__(self, pattern: _Optional[str] = ...) -> None: ...

class StatisticsConfig(_message.Message):
    __slots__ = ["columns", "correlations", "enabled", "histograms"]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    CORRELATIONS_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAMS_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    correlations: bool
    enabled: bool
    histograms: bool
    def __init__(self, enabled: bool = ..., histograms: bool = ..., correlations: bool = ..., columns: _Optional[_Iterable[str]] = ...) -> None: ...

class UniqueRule(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ValidationRule(_message.Message):
    __slots__ = ["between", "column", "name", "not_null", "policy", "regex_match", "unique", "values_in_set"]
    BETWEEN_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOT_NULL_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    REGEX_MATCH_FIELD_NUMBER: _ClassVar[int]
    UNIQUE_FIELD_NUMBER: _ClassVar[int]
    VALUES_IN_SET_FIELD_NUMBER: _ClassVar[int]
    between: BetweenRule
    column: str
    name: str
    not_null: NotNullRule
    policy: ValidationPolicy
    regex_match: RegexMatchRule
    unique: UniqueRule
    values_in_set: ValuesInSetRule
    def __init__(self, name: _Optional[str] = ..., column: _Optional[str] = ..., policy: _Optional[_Union[ValidationPolicy, str]] = ..., between: _Optional[_Union[BetweenRule, _Mapping]] = ..., not_null: _Optional[_Union[NotNullRule, _Mapping]] = ..., unique: _Optional[_Union[UniqueRule, _Mapping]] = ..., values_in_set: _Optional[_Union[ValuesInSetRule, _Mapping]] = ..., regex_match: _Optional[_Union[RegexMatchRule, _Mapping]] = ...) -> None: ...

class ValuesInSetRule(_message.Message):
    __slots__ = ["values"]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    values: _containers.RepeatedCompositeFieldContainer[_types_pb2.Value]
    def __init__(self, values: _Optional[_Iterable[_Union[_types_pb2.Value, _Mapping]]] = ...) -> None: ...

class DistanceMetric(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ValidationPolicy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

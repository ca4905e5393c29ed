from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

COLUMN_ROLE_FEATURE: ColumnRole
COLUMN_ROLE_INFERENCE_HELPER: ColumnRole
COLUMN_ROLE_LABEL: ColumnRole
COLUMN_ROLE_ON_DEMAND: ColumnRole
COLUMN_ROLE_TRAINING_HELPER: ColumnRole
COLUMN_ROLE_UNSPECIFIED: ColumnRole
DESCRIPTOR: _descriptor.FileDescriptor
FILTER_OPERATOR_EQ: FilterOperator
FILTER_OPERATOR_GE: FilterOperator
FILTER_OPERATOR_GT: FilterOperator
FILTER_OPERATOR_IN: FilterOperator
FILTER_OPERATOR_IS_NOT_NULL: FilterOperator
FILTER_OPERATOR_IS_NULL: FilterOperator
FILTER_OPERATOR_LE: FilterOperator
FILTER_OPERATOR_LT: FilterOperator
FILTER_OPERATOR_NE: FilterOperator
FILTER_OPERATOR_UNSPECIFIED: FilterOperator
JOIN_TYPE_INNER: JoinType
JOIN_TYPE_LEFT: JoinType
JOIN_TYPE_UNSPECIFIED: JoinType
SELECTION_MODE_ALL: SelectionMode
SELECTION_MODE_EXCEPT: SelectionMode
SELECTION_MODE_INCLUDE: SelectionMode
SELECTION_MODE_UNSPECIFIED: SelectionMode
TRANSFORMATION_FUNCTION_LABEL_ENCODER: TransformationFunction
TRANSFORMATION_FUNCTION_MIN_MAX_SCALER: TransformationFunction
TRANSFORMATION_FUNCTION_ONE_HOT_ENCODER: TransformationFunction
TRANSFORMATION_FUNCTION_ROBUST_SCALER: TransformationFunction
TRANSFORMATION_FUNCTION_STANDARD_SCALER: TransformationFunction
TRANSFORMATION_FUNCTION_UNSPECIFIED: TransformationFunction

class Condition(_message.Message):
    __slots__ = ["column", "operator", "value", "values"]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    column: str
    operator: FilterOperator
    value: _types_pb2.Value
    values: _containers.RepeatedCompositeFieldContainer[_types_pb2.Value]
    def __init__(self, column: _Optional[str] = ..., operator: _Optional[_Union[FilterOperator, str]] = ..., value: _Optional[_Union[_types_pb2.Value, _Mapping]] = ..., values: _Optional[_Iterable[_Union[_types_pb2.Value, _Mapping]]] = ...) -> None: ...

class DriftThresholds(_message.Message):
    __slots__ = ["ks", "null_share_increase", "psi"]
    KS_FIELD_NUMBER: _ClassVar[int]
    NULL_SHARE_INCREASE_FIELD_NUMBER: _ClassVar[int]
    PSI_FIELD_NUMBER: _ClassVar[int]
    ks: float
    null_share_increase: float
    psi: float
    def __init__(self, psi: _Optional[float] = ..., ks: _Optional[float] = ..., null_share_increase: _Optional[float] = ...) -> None: ...

class FeatureDriftThresholds(_message.Message):
    __slots__ = ["column", "thresholds"]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    column: str
    thresholds: DriftThresholds
    def __init__(self, column: _Optional[str] = ..., thresholds: _Optional[_Union[DriftThresholds, _Mapping]] = ...) -> None: ...

class FeatureLogging(_message.Message):
    __slots__ = ["online_enabled", "sample_rate"]
    ONLINE_ENABLED_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_RATE_FIELD_NUMBER: _ClassVar[int]
    online_enabled: bool
    sample_rate: float
    def __init__(self, online_enabled: bool = ..., sample_rate: _Optional[float] = ...) -> None: ...

class FeatureView(_message.Message):
    __slots__ = ["create_time", "description", "etag", "id", "inference_helper_columns", "labels", "logging", "logging_feature_group", "monitoring", "name", "on_demand_features", "output_columns", "project", "query", "resolved", "serving_keys", "tags", "training_helper_columns", "transformations", "update_time", "version"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INFERENCE_HELPER_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    LOGGING_FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    LOGGING_FIELD_NUMBER: _ClassVar[int]
    MONITORING_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ON_DEMAND_FEATURES_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    RESOLVED_FIELD_NUMBER: _ClassVar[int]
    SERVING_KEYS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_HELPER_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    TRANSFORMATIONS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    description: str
    etag: str
    id: int
    inference_helper_columns: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.RepeatedScalarFieldContainer[str]
    logging: FeatureLogging
    logging_feature_group: _types_pb2.FeatureGroupRef
    monitoring: MonitoringConfig
    name: str
    on_demand_features: _containers.RepeatedCompositeFieldContainer[OnDemandFeature]
    output_columns: _containers.RepeatedCompositeFieldContainer[OutputColumn]
    project: str
    query: Query
    resolved: ResolvedView
    serving_keys: _containers.RepeatedCompositeFieldContainer[ServingKey]
    tags: _containers.RepeatedScalarFieldContainer[str]
    training_helper_columns: _containers.RepeatedScalarFieldContainer[str]
    transformations: _containers.RepeatedCompositeFieldContainer[Transformation]
    update_time: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., description: _Optional[str] = ..., query: _Optional[_Union[Query, _Mapping]] = ..., labels: _Optional[_Iterable[str]] = ..., on_demand_features: _Optional[_Iterable[_Union[OnDemandFeature, _Mapping]]] = ..., transformations: _Optional[_Iterable[_Union[Transformation, _Mapping]]] = ..., inference_helper_columns: _Optional[_Iterable[str]] = ..., training_helper_columns: _Optional[_Iterable[str]] = ..., tags: _Optional[_Iterable[str]] = ..., output_columns: _Optional[_Iterable[_Union[OutputColumn, _Mapping]]] = ..., serving_keys: _Optional[_Iterable[_Union[ServingKey, _Mapping]]] = ..., id: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ..., resolved: _Optional[_Union[ResolvedView, _Mapping]] = ..., logging: _Optional[_Union[FeatureLogging, _Mapping]] = ..., monitoring: _Optional[_Union[MonitoringConfig, _Mapping]] = ..., logging_feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ...) -> None: ...

class Filter(_message.Message):
    __slots__ = ["condition"]
    AND_FIELD_NUMBER: _ClassVar[int]
    CONDITION_FIELD_NUMBER: _ClassVar[int]
    OR_FIELD_NUMBER: _ClassVar[int]
    condition: Condition
    def __init__(self, condition: _Optional[_Union[Condition, _Mapping]] = ..., **kwargs) -> None: ...

class FilterList(_message.Message):
    __slots__ = ["filters"]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    filters: _containers.RepeatedCompositeFieldContainer[Filter]
    def __init__(self, filters: _Optional[_Iterable[_Union[Filter, _Mapping]]] = ...) -> None: ...

class Join(_message.Message):
    __slots__ = ["left_on", "on", "prefix", "query", "right_on", "type"]
    LEFT_ON_FIELD_NUMBER: _ClassVar[int]
    ON_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    RIGHT_ON_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    left_on: _containers.RepeatedScalarFieldContainer[str]
    on: _containers.RepeatedScalarFieldContainer[str]
    prefix: str
    query: Query
    right_on: _containers.RepeatedScalarFieldContainer[str]
    type: JoinType
    def __init__(self, query: _Optional[_Union[Query, _Mapping]] = ..., on: _Optional[_Iterable[str]] = ..., left_on: _Optional[_Iterable[str]] = ..., right_on: _Optional[_Iterable[str]] = ..., prefix: _Optional[str] = ..., type: _Optional[_Union[JoinType, str]] = ...) -> None: ...

class KeySource(_message.Message):
    __slots__ = ["column", "parent_column", "parent_key_part", "serving_key", "serving_key_override"]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    PARENT_COLUMN_FIELD_NUMBER: _ClassVar[int]
    PARENT_KEY_PART_FIELD_NUMBER: _ClassVar[int]
    SERVING_KEY_FIELD_NUMBER: _ClassVar[int]
    SERVING_KEY_OVERRIDE_FIELD_NUMBER: _ClassVar[int]
    column: str
    parent_column: str
    parent_key_part: int
    serving_key: str
    serving_key_override: str
    def __init__(self, column: _Optional[str] = ..., serving_key: _Optional[str] = ..., parent_key_part: _Optional[int] = ..., parent_column: _Optional[str] = ..., serving_key_override: _Optional[str] = ...) -> None: ...

class MonitoringConfig(_message.Message):
    __slots__ = ["default_thresholds", "features"]
    DEFAULT_THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    default_thresholds: DriftThresholds
    features: _containers.RepeatedCompositeFieldContainer[FeatureDriftThresholds]
    def __init__(self, default_thresholds: _Optional[_Union[DriftThresholds, _Mapping]] = ..., features: _Optional[_Iterable[_Union[FeatureDriftThresholds, _Mapping]]] = ...) -> None: ...

class OnDemandFeature(_message.Message):
    __slots__ = ["expression", "name", "request_parameters", "type"]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUEST_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    expression: str
    name: str
    request_parameters: _containers.RepeatedCompositeFieldContainer[RequestParameter]
    type: _types_pb2.DataType
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[_types_pb2.DataType, _Mapping]] = ..., expression: _Optional[str] = ..., request_parameters: _Optional[_Iterable[_Union[RequestParameter, _Mapping]]] = ...) -> None: ...

class OutputColumn(_message.Message):
    __slots__ = ["feature_group", "name", "role", "source_column", "transformation", "type"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_COLUMN_FIELD_NUMBER: _ClassVar[int]
    TRANSFORMATION_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    feature_group: _types_pb2.FeatureGroupRef
    name: str
    role: ColumnRole
    source_column: str
    transformation: TransformationFunction
    type: _types_pb2.DataType
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[_types_pb2.DataType, _Mapping]] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., source_column: _Optional[str] = ..., role: _Optional[_Union[ColumnRole, str]] = ..., transformation: _Optional[_Union[TransformationFunction, str]] = ...) -> None: ...

class Query(_message.Message):
    __slots__ = ["feature_group", "filter", "joins", "selection"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    JOINS_FIELD_NUMBER: _ClassVar[int]
    SELECTION_FIELD_NUMBER: _ClassVar[int]
    feature_group: _types_pb2.FeatureGroupRef
    filter: Filter
    joins: _containers.RepeatedCompositeFieldContainer[Join]
    selection: Selection
    def __init__(self, feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., selection: _Optional[_Union[Selection, _Mapping]] = ..., joins: _Optional[_Iterable[_Union[Join, _Mapping]]] = ..., filter: _Optional[_Union[Filter, _Mapping]] = ...) -> None: ...

class RequestParameter(_message.Message):
    __slots__ = ["name", "type"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    name: str
    type: _types_pb2.DataType
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[_types_pb2.DataType, _Mapping]] = ...) -> None: ...

class ResolvedColumn(_message.Message):
    __slots__ = ["group", "key_part", "source_column"]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    KEY_PART_FIELD_NUMBER: _ClassVar[int]
    SOURCE_COLUMN_FIELD_NUMBER: _ClassVar[int]
    group: int
    key_part: int
    source_column: str
    def __init__(self, group: _Optional[int] = ..., source_column: _Optional[str] = ..., key_part: _Optional[int] = ...) -> None: ...

class ResolvedGroup(_message.Message):
    __slots__ = ["feature_group", "filter", "join_type", "key_sources", "left_on", "parent", "prefix", "read_columns", "right_on"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    JOIN_TYPE_FIELD_NUMBER: _ClassVar[int]
    KEY_SOURCES_FIELD_NUMBER: _ClassVar[int]
    LEFT_ON_FIELD_NUMBER: _ClassVar[int]
    PARENT_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    READ_COLUMNS_FIELD_NUMBER: _ClassVar[int]
    RIGHT_ON_FIELD_NUMBER: _ClassVar[int]
    feature_group: _types_pb2.FeatureGroupRef
    filter: Filter
    join_type: JoinType
    key_sources: _containers.RepeatedCompositeFieldContainer[KeySource]
    left_on: _containers.RepeatedScalarFieldContainer[str]
    parent: int
    prefix: str
    read_columns: _containers.RepeatedScalarFieldContainer[str]
    right_on: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., parent: _Optional[int] = ..., prefix: _Optional[str] = ..., left_on: _Optional[_Iterable[str]] = ..., right_on: _Optional[_Iterable[str]] = ..., join_type: _Optional[_Union[JoinType, str]] = ..., filter: _Optional[_Union[Filter, _Mapping]] = ..., key_sources: _Optional[_Iterable[_Union[KeySource, _Mapping]]] = ..., read_columns: _Optional[_Iterable[str]] = ...) -> None: ...

class ResolvedView(_message.Message):
    __slots__ = ["columns", "groups"]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[ResolvedColumn]
    groups: _containers.RepeatedCompositeFieldContainer[ResolvedGroup]
    def __init__(self, groups: _Optional[_Iterable[_Union[ResolvedGroup, _Mapping]]] = ..., columns: _Optional[_Iterable[_Union[ResolvedColumn, _Mapping]]] = ...) -> None: ...

class Selection(_message.Message):
    __slots__ = ["columns", "mode"]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    MODE_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    mode: SelectionMode
    def __init__(self, mode: _Optional[_Union[SelectionMode, str]] = ..., columns: _Optional[_Iterable[str]] = ...) -> None: ...

class ServingKey(_message.Message):
    __slots__ = ["column", "feature_group", "name", "required", "type"]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    column: str
    feature_group: _types_pb2.FeatureGroupRef
    name: str
    required: bool
    type: _types_pb2.DataType
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[_types_pb2.DataType, _Mapping]] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., column: _Optional[str] = ..., required: bool = ...) -> None: ...

class Transformation(_message.Message):
    __slots__ = ["column", "function"]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    column: str
    function: TransformationFunction
    def __init__(self, column: _Optional[str] = ..., function: _Optional[_Union[TransformationFunction, str]] = ...) -> None: ...

class TransformationFunctionInfo(_message.Message):
    __slots__ = ["description", "function", "input_types", "name", "output_type", "parameters"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_FIELD_NUMBER: _ClassVar[int]
    INPUT_TYPES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    description: str
    function: TransformationFunction
    input_types: _containers.RepeatedScalarFieldContainer[_types_pb2.ScalarType]
    name: str
    output_type: _types_pb2.DataType
    parameters: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, function: _Optional[_Union[TransformationFunction, str]] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., parameters: _Optional[_Iterable[str]] = ..., input_types: _Optional[_Iterable[_Union[_types_pb2.ScalarType, str]]] = ..., output_type: _Optional[_Union[_types_pb2.DataType, _Mapping]] = ...) -> None: ...

class SelectionMode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class JoinType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class FilterOperator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class TransformationFunction(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class ColumnRole(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.metadata.v1 import feature_view_pb2 as _feature_view_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
DRIFT_STATUS_DRIFT: DriftStatus
DRIFT_STATUS_INSUFFICIENT_DATA: DriftStatus
DRIFT_STATUS_OK: DriftStatus
DRIFT_STATUS_UNSPECIFIED: DriftStatus

class FeatureDrift(_message.Message):
    __slots__ = ["categorical", "column", "count", "exceeded", "ks", "null_share", "psi", "reference_count", "reference_null_share", "status", "thresholds", "type"]
    CATEGORICAL_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    EXCEEDED_FIELD_NUMBER: _ClassVar[int]
    KS_FIELD_NUMBER: _ClassVar[int]
    NULL_SHARE_FIELD_NUMBER: _ClassVar[int]
    PSI_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_COUNT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_NULL_SHARE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    categorical: bool
    column: str
    count: int
    exceeded: _containers.RepeatedScalarFieldContainer[str]
    ks: float
    null_share: float
    psi: float
    reference_count: int
    reference_null_share: float
    status: DriftStatus
    thresholds: _feature_view_pb2.DriftThresholds
    type: _types_pb2.DataType
    def __init__(self, column: _Optional[str] = ..., type: _Optional[_Union[_types_pb2.DataType, _Mapping]] = ..., categorical: bool = ..., psi: _Optional[float] = ..., ks: _Optional[float] = ..., null_share: _Optional[float] = ..., reference_null_share: _Optional[float] = ..., count: _Optional[int] = ..., reference_count: _Optional[int] = ..., status: _Optional[_Union[DriftStatus, str]] = ..., exceeded: _Optional[_Iterable[str]] = ..., thresholds: _Optional[_Union[_feature_view_pb2.DriftThresholds, _Mapping]] = ...) -> None: ...

class MonitoringReport(_message.Message):
    __slots__ = ["create_time", "created_by", "feature_view", "features", "id", "project", "reference_row_count", "reference_window", "row_count", "status", "training_dataset_version", "window"]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_WINDOW_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    created_by: str
    feature_view: _types_pb2.FeatureViewRef
    features: _containers.RepeatedCompositeFieldContainer[FeatureDrift]
    id: int
    project: str
    reference_row_count: int
    reference_window: _types_pb2.TimeRange
    row_count: int
    status: DriftStatus
    training_dataset_version: int
    window: _types_pb2.TimeRange
    def __init__(self, id: _Optional[int] = ..., project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., window: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., training_dataset_version: _Optional[int] = ..., reference_window: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., row_count: _Optional[int] = ..., reference_row_count: _Optional[int] = ..., status: _Optional[_Union[DriftStatus, str]] = ..., features: _Optional[_Iterable[_Union[FeatureDrift, _Mapping]]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ...) -> None: ...

class DriftStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ColumnStatistics(_message.Message):
    __slots__ = ["approx_distinct", "categories", "column", "count", "histogram", "max", "mean", "min", "null_count", "p25", "p50", "p75", "stddev", "top_values"]
    APPROX_DISTINCT_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    HISTOGRAM_FIELD_NUMBER: _ClassVar[int]
    MAX_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    NULL_COUNT_FIELD_NUMBER: _ClassVar[int]
    P25_FIELD_NUMBER: _ClassVar[int]
    P50_FIELD_NUMBER: _ClassVar[int]
    P75_FIELD_NUMBER: _ClassVar[int]
    STDDEV_FIELD_NUMBER: _ClassVar[int]
    TOP_VALUES_FIELD_NUMBER: _ClassVar[int]
    approx_distinct: int
    categories: _containers.RepeatedScalarFieldContainer[str]
    column: str
    count: int
    histogram: _containers.RepeatedCompositeFieldContainer[HistogramBin]
    max: float
    mean: float
    min: float
    null_count: int
    p25: float
    p50: float
    p75: float
    stddev: float
    top_values: _containers.RepeatedCompositeFieldContainer[TopValue]
    def __init__(self, column: _Optional[str] = ..., count: _Optional[int] = ..., null_count: _Optional[int] = ..., min: _Optional[float] = ..., max: _Optional[float] = ..., mean: _Optional[float] = ..., stddev: _Optional[float] = ..., approx_distinct: _Optional[int] = ..., p25: _Optional[float] = ..., p50: _Optional[float] = ..., p75: _Optional[float] = ..., histogram: _Optional[_Iterable[_Union[HistogramBin, _Mapping]]] = ..., top_values: _Optional[_Iterable[_Union[TopValue, _Mapping]]] = ..., categories: _Optional[_Iterable[str]] = ...) -> None: ...

class CommitSubject(_message.Message):
    __slots__ = ["commit_id", "feature_group"]
    COMMIT_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    commit_id: int
    feature_group: _types_pb2.FeatureGroupRef
    def __init__(self, feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., commit_id: _Optional[int] = ...) -> None: ...

class Correlation(_message.Message):
    __slots__ = ["coefficient", "column_a", "column_b"]
    COEFFICIENT_FIELD_NUMBER: _ClassVar[int]
    COLUMN_A_FIELD_NUMBER: _ClassVar[int]
    COLUMN_B_FIELD_NUMBER: _ClassVar[int]
    coefficient: float
    column_a: str
    column_b: str
    def __init__(self, column_a: _Optional[str] = ..., column_b: _Optional[str] = ..., coefficient: _Optional[float] = ...) -> None: ...

class HistogramBin(_message.Message):
    __slots__ = ["count", "lower", "upper"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    LOWER_FIELD_NUMBER: _ClassVar[int]
    UPPER_FIELD_NUMBER: _ClassVar[int]
    count: int
    lower: float
    upper: float
    def __init__(self, lower: _Optional[float] = ..., upper: _Optional[float] = ..., count: _Optional[int] = ...) -> None: ...

class Statistics(_message.Message):
    __slots__ = ["columns", "compute_time", "correlations", "project", "row_count", "subject"]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    COMPUTE_TIME_FIELD_NUMBER: _ClassVar[int]
    CORRELATIONS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[ColumnStatistics]
    compute_time: _timestamp_pb2.Timestamp
    correlations: _containers.RepeatedCompositeFieldContainer[Correlation]
    project: str
    row_count: int
    subject: StatisticsSubject
    def __init__(self, project: _Optional[str] = ..., subject: _Optional[_Union[StatisticsSubject, _Mapping]] = ..., columns: _Optional[_Iterable[_Union[ColumnStatistics, _Mapping]]] = ..., row_count: _Optional[int] = ..., compute_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., correlations: _Optional[_Iterable[_Union[Correlation, _Mapping]]] = ...) -> None: ...

class StatisticsSubject(_message.Message):
    __slots__ = ["commit", "feature_group", "training_dataset"]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_FIELD_NUMBER: _ClassVar[int]
    commit: CommitSubject
    feature_group: _types_pb2.FeatureGroupRef
    training_dataset: TrainingDatasetSubject
    def __init__(self, feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., commit: _Optional[_Union[CommitSubject, _Mapping]] = ..., training_dataset: _Optional[_Union[TrainingDatasetSubject, _Mapping]] = ...) -> None: ...

class TopValue(_message.Message):
    __slots__ = ["count", "value"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    count: int
    value: str
    def __init__(self, value: _Optional[str] = ..., count: _Optional[int] = ...) -> None: ...

class TrainingDatasetSubject(_message.Message):
    __slots__ = ["feature_view", "version"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    feature_view: _types_pb2.FeatureViewRef
    version: int
    def __init__(self, feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.metadata.v1 import feature_view_pb2 as _feature_view_pb2
from granary_feature_store.proto.granary.metadata.v1 import statistics_pb2 as _statistics_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DATASET_SPLIT_TEST: DatasetSplit
DATASET_SPLIT_TRAIN: DatasetSplit
DATASET_SPLIT_UNSPECIFIED: DatasetSplit
DATASET_SPLIT_VALIDATION: DatasetSplit
DESCRIPTOR: _descriptor.FileDescriptor
TRAINING_DATASET_STATUS_CREATING: TrainingDatasetStatus
TRAINING_DATASET_STATUS_FAILED: TrainingDatasetStatus
TRAINING_DATASET_STATUS_READY: TrainingDatasetStatus
TRAINING_DATASET_STATUS_UNSPECIFIED: TrainingDatasetStatus

class CommitWatermark(_message.Message):
    __slots__ = ["commit_id", "feature_group"]
    COMMIT_ID_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    commit_id: int
    feature_group: _types_pb2.FeatureGroupRef
    def __init__(self, feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., commit_id: _Optional[int] = ...) -> None: ...

class DatasetFile(_message.Message):
    __slots__ = ["path", "row_count", "size_bytes", "split"]
    PATH_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    path: str
    row_count: int
    size_bytes: int
    split: DatasetSplit
    def __init__(self, split: _Optional[_Union[DatasetSplit, str]] = ..., path: _Optional[str] = ..., row_count: _Optional[int] = ..., size_bytes: _Optional[int] = ...) -> None: ...

class RandomSplit(_message.Message):
    __slots__ = ["seed", "test", "train", "validation"]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TEST_FIELD_NUMBER: _ClassVar[int]
    TRAIN_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    seed: int
    test: float
    train: float
    validation: float
    def __init__(self, seed: _Optional[int] = ..., train: _Optional[float] = ..., validation: _Optional[float] = ..., test: _Optional[float] = ...) -> None: ...

class SplitSpec(_message.Message):
    __slots__ = ["random", "time"]
    RANDOM_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    random: RandomSplit
    time: TimeSplit
    def __init__(self, random: _Optional[_Union[RandomSplit, _Mapping]] = ..., time: _Optional[_Union[TimeSplit, _Mapping]] = ...) -> None: ...

class TimeSplit(_message.Message):
    __slots__ = ["test", "train", "validation"]
    TEST_FIELD_NUMBER: _ClassVar[int]
    TRAIN_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_FIELD_NUMBER: _ClassVar[int]
    test: _types_pb2.TimeRange
    train: _types_pb2.TimeRange
    validation: _types_pb2.TimeRange
    def __init__(self, train: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., validation: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., test: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ...) -> None: ...

class TrainingDataset(_message.Message):
    __slots__ = ["create_time", "description", "etag", "event_time_range", "extra_filter", "feature_view", "files", "project", "row_count", "spine_location", "split", "statistics", "status", "status_message", "tags", "update_time", "version", "watermarks"]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    EVENT_TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    EXTRA_FILTER_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    SPINE_LOCATION_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STATUS_MESSAGE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    WATERMARKS_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    description: str
    etag: str
    event_time_range: _types_pb2.TimeRange
    extra_filter: _feature_view_pb2.Filter
    feature_view: _types_pb2.FeatureViewRef
    files: _containers.RepeatedCompositeFieldContainer[DatasetFile]
    project: str
    row_count: int
    spine_location: str
    split: SplitSpec
    statistics: _containers.RepeatedCompositeFieldContainer[_statistics_pb2.ColumnStatistics]
    status: TrainingDatasetStatus
    status_message: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    update_time: _timestamp_pb2.Timestamp
    version: int
    watermarks: _containers.RepeatedCompositeFieldContainer[CommitWatermark]
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., version: _Optional[int] = ..., description: _Optional[str] = ..., event_time_range: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., spine_location: _Optional[str] = ..., extra_filter: _Optional[_Union[_feature_view_pb2.Filter, _Mapping]] = ..., split: _Optional[_Union[SplitSpec, _Mapping]] = ..., watermarks: _Optional[_Iterable[_Union[CommitWatermark, _Mapping]]] = ..., statistics: _Optional[_Iterable[_Union[_statistics_pb2.ColumnStatistics, _Mapping]]] = ..., files: _Optional[_Iterable[_Union[DatasetFile, _Mapping]]] = ..., status: _Optional[_Union[TrainingDatasetStatus, str]] = ..., status_message: _Optional[str] = ..., row_count: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class TrainingDatasetStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class DatasetSplit(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

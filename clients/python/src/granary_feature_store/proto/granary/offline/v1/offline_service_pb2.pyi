from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.metadata.v1 import commit_pb2 as _commit_pb2
from granary_feature_store.proto.granary.metadata.v1 import feature_view_pb2 as _feature_view_pb2
from granary_feature_store.proto.granary.metadata.v1 import monitoring_pb2 as _monitoring_pb2
from granary_feature_store.proto.granary.metadata.v1 import statistics_pb2 as _statistics_pb2
from granary_feature_store.proto.granary.metadata.v1 import training_dataset_pb2 as _training_dataset_pb2
from granary_feature_store.proto.granary.metadata.v1 import validation_pb2 as _validation_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class BatchDataQuery(_message.Message):
    __slots__ = ["feature_view", "include_inference_helpers", "latest", "project", "spine", "training_dataset_version", "untransformed"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_INFERENCE_HELPERS_FIELD_NUMBER: _ClassVar[int]
    LATEST_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SPINE_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    UNTRANSFORMED_FIELD_NUMBER: _ClassVar[int]
    feature_view: _types_pb2.FeatureViewRef
    include_inference_helpers: bool
    latest: bool
    project: str
    spine: Spine
    training_dataset_version: int
    untransformed: bool
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., spine: _Optional[_Union[Spine, _Mapping]] = ..., latest: bool = ..., training_dataset_version: _Optional[int] = ..., untransformed: bool = ..., include_inference_helpers: bool = ...) -> None: ...

class CheckConsistencyRequest(_message.Message):
    __slots__ = ["as_of_time", "entity_rows", "feature_view", "max_examples", "model", "model_alias", "model_version", "project", "request_parameters", "sample_size", "seed", "tolerance"]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    ENTITY_ROWS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    MAX_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    MODEL_ALIAS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_SIZE_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_FIELD_NUMBER: _ClassVar[int]
    as_of_time: _timestamp_pb2.Timestamp
    entity_rows: _types_pb2.ColumnarRows
    feature_view: _types_pb2.FeatureViewRef
    max_examples: int
    model: str
    model_alias: str
    model_version: int
    project: str
    request_parameters: _types_pb2.ColumnarRows
    sample_size: int
    seed: int
    tolerance: ConsistencyTolerance
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., sample_size: _Optional[int] = ..., entity_rows: _Optional[_Union[_types_pb2.ColumnarRows, _Mapping]] = ..., seed: _Optional[int] = ..., as_of_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., tolerance: _Optional[_Union[ConsistencyTolerance, _Mapping]] = ..., request_parameters: _Optional[_Union[_types_pb2.ColumnarRows, _Mapping]] = ..., model: _Optional[str] = ..., model_version: _Optional[int] = ..., max_examples: _Optional[int] = ..., model_alias: _Optional[str] = ...) -> None: ...

class CheckConsistencyResponse(_message.Message):
    __slots__ = ["progress", "report"]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    progress: ConsistencyProgress
    report: ConsistencyReport
    def __init__(self, progress: _Optional[_Union[ConsistencyProgress, _Mapping]] = ..., report: _Optional[_Union[ConsistencyReport, _Mapping]] = ...) -> None: ...

class CompactRequest(_message.Message):
    __slots__ = ["feature_group", "project"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_group: _types_pb2.FeatureGroupRef
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ...) -> None: ...

class CompactResponse(_message.Message):
    __slots__ = ["commit_id", "seconds", "stats"]
    COMMIT_ID_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    commit_id: int
    seconds: float
    stats: _commit_pb2.CompactionStats
    def __init__(self, commit_id: _Optional[int] = ..., stats: _Optional[_Union[_commit_pb2.CompactionStats, _Mapping]] = ..., seconds: _Optional[float] = ...) -> None: ...

class ComputeDriftRequest(_message.Message):
    __slots__ = ["columns", "feature_view", "project", "reference_window", "training_dataset_version", "window"]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_WINDOW_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    feature_view: _types_pb2.FeatureViewRef
    project: str
    reference_window: _types_pb2.TimeRange
    training_dataset_version: int
    window: _types_pb2.TimeRange
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., window: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., training_dataset_version: _Optional[int] = ..., reference_window: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., columns: _Optional[_Iterable[str]] = ...) -> None: ...

class ComputeDriftResponse(_message.Message):
    __slots__ = ["report"]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _monitoring_pb2.MonitoringReport
    def __init__(self, report: _Optional[_Union[_monitoring_pb2.MonitoringReport, _Mapping]] = ...) -> None: ...

class ComputeStatisticsRequest(_message.Message):
    __slots__ = ["feature_group", "project"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_group: _types_pb2.FeatureGroupRef
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ...) -> None: ...

class ComputeStatisticsResponse(_message.Message):
    __slots__ = ["statistics"]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    statistics: _statistics_pb2.Statistics
    def __init__(self, statistics: _Optional[_Union[_statistics_pb2.Statistics, _Mapping]] = ...) -> None: ...

class ConsistencyExample(_message.Message):
    __slots__ = ["entity", "offline_status", "offline_value", "online_status", "online_value"]
    ENTITY_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_STATUS_FIELD_NUMBER: _ClassVar[int]
    OFFLINE_VALUE_FIELD_NUMBER: _ClassVar[int]
    ONLINE_STATUS_FIELD_NUMBER: _ClassVar[int]
    ONLINE_VALUE_FIELD_NUMBER: _ClassVar[int]
    entity: _containers.RepeatedCompositeFieldContainer[EntityKeyPart]
    offline_status: _types_pb2.ValueStatus
    offline_value: _types_pb2.Value
    online_status: _types_pb2.ValueStatus
    online_value: _types_pb2.Value
    def __init__(self, entity: _Optional[_Iterable[_Union[EntityKeyPart, _Mapping]]] = ..., online_value: _Optional[_Union[_types_pb2.Value, _Mapping]] = ..., offline_value: _Optional[_Union[_types_pb2.Value, _Mapping]] = ..., online_status: _Optional[_Union[_types_pb2.ValueStatus, str]] = ..., offline_status: _Optional[_Union[_types_pb2.ValueStatus, str]] = ...) -> None: ...

class ConsistencyProgress(_message.Message):
    __slots__ = ["entities_checked", "entities_total"]
    ENTITIES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    entities_checked: int
    entities_total: int
    def __init__(self, entities_checked: _Optional[int] = ..., entities_total: _Optional[int] = ...) -> None: ...

class ConsistencyReport(_message.Message):
    __slots__ = ["as_of_time", "entities_checked", "entities_compared", "entities_mismatched", "feature_view", "features", "mismatches", "missing_both", "missing_offline", "missing_online", "model_version", "online_rows_ahead", "training_dataset_version"]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_CHECKED_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_COMPARED_FIELD_NUMBER: _ClassVar[int]
    ENTITIES_MISMATCHED_FIELD_NUMBER: _ClassVar[int]
    FEATURES_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    MISSING_BOTH_FIELD_NUMBER: _ClassVar[int]
    MISSING_OFFLINE_FIELD_NUMBER: _ClassVar[int]
    MISSING_ONLINE_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    ONLINE_ROWS_AHEAD_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    as_of_time: _timestamp_pb2.Timestamp
    entities_checked: int
    entities_compared: int
    entities_mismatched: int
    feature_view: _types_pb2.FeatureViewRef
    features: _containers.RepeatedCompositeFieldContainer[FeatureConsistency]
    mismatches: int
    missing_both: int
    missing_offline: MissingEntities
    missing_online: MissingEntities
    model_version: int
    online_rows_ahead: int
    training_dataset_version: int
    def __init__(self, feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., as_of_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., model_version: _Optional[int] = ..., training_dataset_version: _Optional[int] = ..., entities_checked: _Optional[int] = ..., entities_compared: _Optional[int] = ..., entities_mismatched: _Optional[int] = ..., mismatches: _Optional[int] = ..., missing_online: _Optional[_Union[MissingEntities, _Mapping]] = ..., missing_offline: _Optional[_Union[MissingEntities, _Mapping]] = ..., missing_both: _Optional[int] = ..., online_rows_ahead: _Optional[int] = ..., features: _Optional[_Iterable[_Union[FeatureConsistency, _Mapping]]] = ...) -> None: ...

class ConsistencyTolerance(_message.Message):
    __slots__ = ["absolute", "relative"]
    ABSOLUTE_FIELD_NUMBER: _ClassVar[int]
    RELATIVE_FIELD_NUMBER: _ClassVar[int]
    absolute: float
    relative: float
    def __init__(self, relative: _Optional[float] = ..., absolute: _Optional[float] = ...) -> None: ...

class CreateTrainingDatasetRequest(_message.Message):
    __slots__ = ["query", "spine_chunk"]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SPINE_CHUNK_FIELD_NUMBER: _ClassVar[int]
    query: TrainingDataQuery
    spine_chunk: _types_pb2.ArrowChunk
    def __init__(self, query: _Optional[_Union[TrainingDataQuery, _Mapping]] = ..., spine_chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class CreateTrainingDatasetResponse(_message.Message):
    __slots__ = ["training_dataset"]
    TRAINING_DATASET_FIELD_NUMBER: _ClassVar[int]
    training_dataset: _training_dataset_pb2.TrainingDataset
    def __init__(self, training_dataset: _Optional[_Union[_training_dataset_pb2.TrainingDataset, _Mapping]] = ...) -> None: ...

class DeleteRowsRequest(_message.Message):
    __slots__ = ["chunk", "header"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    chunk: _types_pb2.ArrowChunk
    header: InsertHeader
    def __init__(self, header: _Optional[_Union[InsertHeader, _Mapping]] = ..., chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class DeleteRowsResponse(_message.Message):
    __slots__ = ["commit_id", "rows_deleted"]
    COMMIT_ID_FIELD_NUMBER: _ClassVar[int]
    ROWS_DELETED_FIELD_NUMBER: _ClassVar[int]
    commit_id: int
    rows_deleted: int
    def __init__(self, commit_id: _Optional[int] = ..., rows_deleted: _Optional[int] = ...) -> None: ...

class EntityKeyPart(_message.Message):
    __slots__ = ["name", "value"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    name: str
    value: _types_pb2.Value
    def __init__(self, name: _Optional[str] = ..., value: _Optional[_Union[_types_pb2.Value, _Mapping]] = ...) -> None: ...

class FeatureConsistency(_message.Message):
    __slots__ = ["compared", "examples", "mismatches", "name", "not_compared_reason", "type"]
    COMPARED_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    MISMATCHES_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NOT_COMPARED_REASON_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    compared: int
    examples: _containers.RepeatedCompositeFieldContainer[ConsistencyExample]
    mismatches: int
    name: str
    not_compared_reason: str
    type: _types_pb2.DataType
    def __init__(self, name: _Optional[str] = ..., type: _Optional[_Union[_types_pb2.DataType, _Mapping]] = ..., compared: _Optional[int] = ..., mismatches: _Optional[int] = ..., examples: _Optional[_Iterable[_Union[ConsistencyExample, _Mapping]]] = ..., not_compared_reason: _Optional[str] = ...) -> None: ...

class GetBatchDataRequest(_message.Message):
    __slots__ = ["query", "spine_chunk"]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SPINE_CHUNK_FIELD_NUMBER: _ClassVar[int]
    query: BatchDataQuery
    spine_chunk: _types_pb2.ArrowChunk
    def __init__(self, query: _Optional[_Union[BatchDataQuery, _Mapping]] = ..., spine_chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class GetBatchDataResponse(_message.Message):
    __slots__ = ["chunk"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: _types_pb2.ArrowChunk
    def __init__(self, chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class GetTrainingDataRequest(_message.Message):
    __slots__ = ["query", "spine_chunk"]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    SPINE_CHUNK_FIELD_NUMBER: _ClassVar[int]
    query: TrainingDataQuery
    spine_chunk: _types_pb2.ArrowChunk
    def __init__(self, query: _Optional[_Union[TrainingDataQuery, _Mapping]] = ..., spine_chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class GetTrainingDataResponse(_message.Message):
    __slots__ = ["chunk"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: _types_pb2.ArrowChunk
    def __init__(self, chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class InsertHeader(_message.Message):
    __slots__ = ["erase", "feature_group", "project"]
    ERASE_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    erase: bool
    feature_group: _types_pb2.FeatureGroupRef
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., erase: bool = ...) -> None: ...

class InsertRequest(_message.Message):
    __slots__ = ["chunk", "header"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    HEADER_FIELD_NUMBER: _ClassVar[int]
    chunk: _types_pb2.ArrowChunk
    header: InsertHeader
    def __init__(self, header: _Optional[_Union[InsertHeader, _Mapping]] = ..., chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class InsertResponse(_message.Message):
    __slots__ = ["commit_id", "rows_inserted", "rows_updated", "validation_report"]
    COMMIT_ID_FIELD_NUMBER: _ClassVar[int]
    ROWS_INSERTED_FIELD_NUMBER: _ClassVar[int]
    ROWS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_REPORT_FIELD_NUMBER: _ClassVar[int]
    commit_id: int
    rows_inserted: int
    rows_updated: int
    validation_report: _validation_pb2.ValidationReport
    def __init__(self, commit_id: _Optional[int] = ..., rows_inserted: _Optional[int] = ..., rows_updated: _Optional[int] = ..., validation_report: _Optional[_Union[_validation_pb2.ValidationReport, _Mapping]] = ...) -> None: ...

class LogFeaturesRequest(_message.Message):
    __slots__ = ["feature_view", "log_time", "model", "model_version", "predictions", "project", "request_parameters", "row_count", "serving_keys", "source", "training_dataset_version", "transformed", "untransformed"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    LOG_TIME_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MODEL_VERSION_FIELD_NUMBER: _ClassVar[int]
    PREDICTIONS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REQUEST_PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    ROW_COUNT_FIELD_NUMBER: _ClassVar[int]
    SERVING_KEYS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    TRANSFORMED_FIELD_NUMBER: _ClassVar[int]
    UNTRANSFORMED_FIELD_NUMBER: _ClassVar[int]
    feature_view: _types_pb2.FeatureViewRef
    log_time: _timestamp_pb2.Timestamp
    model: str
    model_version: int
    predictions: _containers.RepeatedCompositeFieldContainer[_types_pb2.NamedColumn]
    project: str
    request_parameters: _containers.RepeatedCompositeFieldContainer[_types_pb2.NamedColumn]
    row_count: int
    serving_keys: _containers.RepeatedCompositeFieldContainer[_types_pb2.NamedColumn]
    source: str
    training_dataset_version: int
    transformed: _containers.RepeatedCompositeFieldContainer[_types_pb2.NamedColumn]
    untransformed: _containers.RepeatedCompositeFieldContainer[_types_pb2.NamedColumn]
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., row_count: _Optional[int] = ..., serving_keys: _Optional[_Iterable[_Union[_types_pb2.NamedColumn, _Mapping]]] = ..., untransformed: _Optional[_Iterable[_Union[_types_pb2.NamedColumn, _Mapping]]] = ..., transformed: _Optional[_Iterable[_Union[_types_pb2.NamedColumn, _Mapping]]] = ..., request_parameters: _Optional[_Iterable[_Union[_types_pb2.NamedColumn, _Mapping]]] = ..., predictions: _Optional[_Iterable[_Union[_types_pb2.NamedColumn, _Mapping]]] = ..., model: _Optional[str] = ..., model_version: _Optional[int] = ..., training_dataset_version: _Optional[int] = ..., log_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., source: _Optional[str] = ...) -> None: ...

class LogFeaturesResponse(_message.Message):
    __slots__ = ["commit_id", "logged_count", "logging_feature_group"]
    COMMIT_ID_FIELD_NUMBER: _ClassVar[int]
    LOGGED_COUNT_FIELD_NUMBER: _ClassVar[int]
    LOGGING_FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    commit_id: int
    logged_count: int
    logging_feature_group: _types_pb2.FeatureGroupRef
    def __init__(self, logged_count: _Optional[int] = ..., commit_id: _Optional[int] = ..., logging_feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ...) -> None: ...

class MissingEntities(_message.Message):
    __slots__ = ["count", "examples"]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    count: int
    examples: _containers.RepeatedCompositeFieldContainer[ConsistencyExample]
    def __init__(self, count: _Optional[int] = ..., examples: _Optional[_Iterable[_Union[ConsistencyExample, _Mapping]]] = ...) -> None: ...

class ReadChangesRequest(_message.Message):
    __slots__ = ["columns", "feature_group", "project", "window"]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedScalarFieldContainer[str]
    feature_group: _types_pb2.FeatureGroupRef
    project: str
    window: _types_pb2.TimeRange
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., window: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., columns: _Optional[_Iterable[str]] = ...) -> None: ...

class ReadChangesResponse(_message.Message):
    __slots__ = ["chunk"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: _types_pb2.ArrowChunk
    def __init__(self, chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class ReadRequest(_message.Message):
    __slots__ = ["as_of_commit", "as_of_time", "columns", "feature_group", "filter", "limit", "project"]
    AS_OF_COMMIT_FIELD_NUMBER: _ClassVar[int]
    AS_OF_TIME_FIELD_NUMBER: _ClassVar[int]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    as_of_commit: int
    as_of_time: _timestamp_pb2.Timestamp
    columns: _containers.RepeatedScalarFieldContainer[str]
    feature_group: _types_pb2.FeatureGroupRef
    filter: _feature_view_pb2.Filter
    limit: int
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., columns: _Optional[_Iterable[str]] = ..., filter: _Optional[_Union[_feature_view_pb2.Filter, _Mapping]] = ..., as_of_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., as_of_commit: _Optional[int] = ..., limit: _Optional[int] = ...) -> None: ...

class ReadResponse(_message.Message):
    __slots__ = ["chunk"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: _types_pb2.ArrowChunk
    def __init__(self, chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class ReadTrainingDatasetRequest(_message.Message):
    __slots__ = ["feature_view", "project", "split", "untransformed", "version"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    UNTRANSFORMED_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    feature_view: _types_pb2.FeatureViewRef
    project: str
    split: _training_dataset_pb2.DatasetSplit
    untransformed: bool
    version: int
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., version: _Optional[int] = ..., split: _Optional[_Union[_training_dataset_pb2.DatasetSplit, str]] = ..., untransformed: bool = ...) -> None: ...

class ReadTrainingDatasetResponse(_message.Message):
    __slots__ = ["chunk"]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    chunk: _types_pb2.ArrowChunk
    def __init__(self, chunk: _Optional[_Union[_types_pb2.ArrowChunk, _Mapping]] = ...) -> None: ...

class Spine(_message.Message):
    __slots__ = ["event_time_range", "streamed"]
    EVENT_TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    STREAMED_FIELD_NUMBER: _ClassVar[int]
    event_time_range: _types_pb2.TimeRange
    streamed: bool
    def __init__(self, event_time_range: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ..., streamed: bool = ...) -> None: ...

class TrainingDataQuery(_message.Message):
    __slots__ = ["extra_filter", "feature_view", "include_event_times", "include_training_helpers", "project", "spine", "split", "untransformed"]
    EXTRA_FILTER_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_EVENT_TIMES_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_TRAINING_HELPERS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SPINE_FIELD_NUMBER: _ClassVar[int]
    SPLIT_FIELD_NUMBER: _ClassVar[int]
    UNTRANSFORMED_FIELD_NUMBER: _ClassVar[int]
    extra_filter: _feature_view_pb2.Filter
    feature_view: _types_pb2.FeatureViewRef
    include_event_times: bool
    include_training_helpers: bool
    project: str
    spine: Spine
    split: _training_dataset_pb2.SplitSpec
    untransformed: bool
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., spine: _Optional[_Union[Spine, _Mapping]] = ..., extra_filter: _Optional[_Union[_feature_view_pb2.Filter, _Mapping]] = ..., split: _Optional[_Union[_training_dataset_pb2.SplitSpec, _Mapping]] = ..., untransformed: bool = ..., include_event_times: bool = ..., include_training_helpers: bool = ...) -> None: ...

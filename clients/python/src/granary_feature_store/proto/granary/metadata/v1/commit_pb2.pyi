from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

COMMIT_KIND_COMPACTION: CommitKind
COMMIT_KIND_DELETE: CommitKind
COMMIT_KIND_INSERT: CommitKind
COMMIT_KIND_UNSPECIFIED: CommitKind
COMMIT_STATE_COMMITTED: CommitState
COMMIT_STATE_FAILED: CommitState
COMMIT_STATE_UNSPECIFIED: CommitState
DESCRIPTOR: _descriptor.FileDescriptor
ONLINE_SYNC_STATE_NOT_APPLICABLE: OnlineSyncState
ONLINE_SYNC_STATE_PARKED: OnlineSyncState
ONLINE_SYNC_STATE_PENDING: OnlineSyncState
ONLINE_SYNC_STATE_SYNCED: OnlineSyncState
ONLINE_SYNC_STATE_UNSPECIFIED: OnlineSyncState

class Commit(_message.Message):
    __slots__ = ["compacted_through", "compaction", "erase", "failure_reason", "feature_group", "files", "id", "ingestion_time", "kind", "max_event_time", "min_event_time", "online_sync_state", "project", "retained_from", "rows_deleted", "rows_inserted", "rows_updated", "state", "tombstone_files", "validation_report_id"]
    COMPACTED_THROUGH_FIELD_NUMBER: _ClassVar[int]
    COMPACTION_FIELD_NUMBER: _ClassVar[int]
    ERASE_FIELD_NUMBER: _ClassVar[int]
    FAILURE_REASON_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    FILES_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INGESTION_TIME_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    MAX_EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    MIN_EVENT_TIME_FIELD_NUMBER: _ClassVar[int]
    ONLINE_SYNC_STATE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    RETAINED_FROM_FIELD_NUMBER: _ClassVar[int]
    ROWS_DELETED_FIELD_NUMBER: _ClassVar[int]
    ROWS_INSERTED_FIELD_NUMBER: _ClassVar[int]
    ROWS_UPDATED_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    TOMBSTONE_FILES_FIELD_NUMBER: _ClassVar[int]
    VALIDATION_REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    compacted_through: int
    compaction: CompactionStats
    erase: bool
    failure_reason: str
    feature_group: _types_pb2.FeatureGroupRef
    files: _containers.RepeatedScalarFieldContainer[str]
    id: int
    ingestion_time: _timestamp_pb2.Timestamp
    kind: CommitKind
    max_event_time: _timestamp_pb2.Timestamp
    min_event_time: _timestamp_pb2.Timestamp
    online_sync_state: OnlineSyncState
    project: str
    retained_from: _timestamp_pb2.Timestamp
    rows_deleted: int
    rows_inserted: int
    rows_updated: int
    state: CommitState
    tombstone_files: _containers.RepeatedScalarFieldContainer[str]
    validation_report_id: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., id: _Optional[int] = ..., kind: _Optional[_Union[CommitKind, str]] = ..., ingestion_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., rows_inserted: _Optional[int] = ..., rows_updated: _Optional[int] = ..., rows_deleted: _Optional[int] = ..., files: _Optional[_Iterable[str]] = ..., min_event_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., max_event_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., online_sync_state: _Optional[_Union[OnlineSyncState, str]] = ..., validation_report_id: _Optional[str] = ..., state: _Optional[_Union[CommitState, str]] = ..., failure_reason: _Optional[str] = ..., compacted_through: _Optional[int] = ..., retained_from: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., tombstone_files: _Optional[_Iterable[str]] = ..., erase: bool = ..., compaction: _Optional[_Union[CompactionStats, _Mapping]] = ...) -> None: ...

class CompactionStats(_message.Message):
    __slots__ = ["bytes_after", "bytes_before", "erased_commits", "files_after", "files_before", "rows_after", "rows_before", "rows_erased", "rows_expired"]
    BYTES_AFTER_FIELD_NUMBER: _ClassVar[int]
    BYTES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    ERASED_COMMITS_FIELD_NUMBER: _ClassVar[int]
    FILES_AFTER_FIELD_NUMBER: _ClassVar[int]
    FILES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    ROWS_AFTER_FIELD_NUMBER: _ClassVar[int]
    ROWS_BEFORE_FIELD_NUMBER: _ClassVar[int]
    ROWS_ERASED_FIELD_NUMBER: _ClassVar[int]
    ROWS_EXPIRED_FIELD_NUMBER: _ClassVar[int]
    bytes_after: int
    bytes_before: int
    erased_commits: _containers.RepeatedScalarFieldContainer[int]
    files_after: int
    files_before: int
    rows_after: int
    rows_before: int
    rows_erased: int
    rows_expired: int
    def __init__(self, files_before: _Optional[int] = ..., files_after: _Optional[int] = ..., rows_before: _Optional[int] = ..., rows_after: _Optional[int] = ..., bytes_before: _Optional[int] = ..., bytes_after: _Optional[int] = ..., rows_erased: _Optional[int] = ..., rows_expired: _Optional[int] = ..., erased_commits: _Optional[_Iterable[int]] = ...) -> None: ...

class CommitState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class CommitKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class OnlineSyncState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

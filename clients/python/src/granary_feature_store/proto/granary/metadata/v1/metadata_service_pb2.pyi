from google.protobuf import field_mask_pb2 as _field_mask_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.metadata.v1 import access_pb2 as _access_pb2
from granary_feature_store.proto.granary.metadata.v1 import change_pb2 as _change_pb2
from granary_feature_store.proto.granary.metadata.v1 import commit_pb2 as _commit_pb2
from granary_feature_store.proto.granary.metadata.v1 import feature_group_pb2 as _feature_group_pb2
from granary_feature_store.proto.granary.metadata.v1 import feature_view_pb2 as _feature_view_pb2
from granary_feature_store.proto.granary.metadata.v1 import lineage_pb2 as _lineage_pb2
from granary_feature_store.proto.granary.metadata.v1 import monitoring_pb2 as _monitoring_pb2
from granary_feature_store.proto.granary.metadata.v1 import project_pb2 as _project_pb2
from granary_feature_store.proto.granary.metadata.v1 import statistics_pb2 as _statistics_pb2
from granary_feature_store.proto.granary.metadata.v1 import training_dataset_pb2 as _training_dataset_pb2
from granary_feature_store.proto.granary.metadata.v1 import validation_pb2 as _validation_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
SEARCH_RESULT_KIND_FEATURE_GROUP: SearchResultKind
SEARCH_RESULT_KIND_FEATURE_VIEW: SearchResultKind
SEARCH_RESULT_KIND_MODEL: SearchResultKind
SEARCH_RESULT_KIND_UNSPECIFIED: SearchResultKind

class AppendFeaturesRequest(_message.Message):
    __slots__ = ["columns", "etag", "name", "project", "version"]
    COLUMNS_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    columns: _containers.RepeatedCompositeFieldContainer[_types_pb2.Column]
    etag: str
    name: str
    project: str
    version: int
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., columns: _Optional[_Iterable[_Union[_types_pb2.Column, _Mapping]]] = ..., etag: _Optional[str] = ...) -> None: ...

class AppendFeaturesResponse(_message.Message):
    __slots__ = ["feature_group"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    feature_group: _feature_group_pb2.FeatureGroup
    def __init__(self, feature_group: _Optional[_Union[_feature_group_pb2.FeatureGroup, _Mapping]] = ...) -> None: ...

class AuthenticateApiKeyRequest(_message.Message):
    __slots__ = ["secret"]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    secret: str
    def __init__(self, secret: _Optional[str] = ...) -> None: ...

class AuthenticateApiKeyResponse(_message.Message):
    __slots__ = ["api_key"]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: _access_pb2.ApiKey
    def __init__(self, api_key: _Optional[_Union[_access_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class CreateApiKeyRequest(_message.Message):
    __slots__ = ["admin", "description", "expire_time", "scopes", "user"]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    admin: bool
    description: str
    expire_time: _timestamp_pb2.Timestamp
    scopes: _containers.RepeatedCompositeFieldContainer[_access_pb2.ProjectScope]
    user: str
    def __init__(self, user: _Optional[str] = ..., admin: bool = ..., scopes: _Optional[_Iterable[_Union[_access_pb2.ProjectScope, _Mapping]]] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class CreateApiKeyResponse(_message.Message):
    __slots__ = ["api_key", "secret"]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    api_key: _access_pb2.ApiKey
    secret: str
    def __init__(self, api_key: _Optional[_Union[_access_pb2.ApiKey, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class CreateCommitRequest(_message.Message):
    __slots__ = ["commit"]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    commit: _commit_pb2.Commit
    def __init__(self, commit: _Optional[_Union[_commit_pb2.Commit, _Mapping]] = ...) -> None: ...

class CreateCommitResponse(_message.Message):
    __slots__ = ["commit"]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    commit: _commit_pb2.Commit
    def __init__(self, commit: _Optional[_Union[_commit_pb2.Commit, _Mapping]] = ...) -> None: ...

class CreateFeatureGroupRequest(_message.Message):
    __slots__ = ["feature_group"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    feature_group: _feature_group_pb2.FeatureGroup
    def __init__(self, feature_group: _Optional[_Union[_feature_group_pb2.FeatureGroup, _Mapping]] = ...) -> None: ...

class CreateFeatureGroupResponse(_message.Message):
    __slots__ = ["created", "feature_group"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    created: bool
    feature_group: _feature_group_pb2.FeatureGroup
    def __init__(self, feature_group: _Optional[_Union[_feature_group_pb2.FeatureGroup, _Mapping]] = ..., created: bool = ...) -> None: ...

class CreateFeatureViewRequest(_message.Message):
    __slots__ = ["feature_view"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    feature_view: _feature_view_pb2.FeatureView
    def __init__(self, feature_view: _Optional[_Union[_feature_view_pb2.FeatureView, _Mapping]] = ...) -> None: ...

class CreateFeatureViewResponse(_message.Message):
    __slots__ = ["created", "feature_view"]
    CREATED_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    created: bool
    feature_view: _feature_view_pb2.FeatureView
    def __init__(self, feature_view: _Optional[_Union[_feature_view_pb2.FeatureView, _Mapping]] = ..., created: bool = ...) -> None: ...

class CreateLineageEdgeRequest(_message.Message):
    __slots__ = ["edge", "project"]
    EDGE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    edge: _lineage_pb2.LineageEdge
    project: str
    def __init__(self, project: _Optional[str] = ..., edge: _Optional[_Union[_lineage_pb2.LineageEdge, _Mapping]] = ...) -> None: ...

class CreateLineageEdgeResponse(_message.Message):
    __slots__ = ["edge"]
    EDGE_FIELD_NUMBER: _ClassVar[int]
    edge: _lineage_pb2.LineageEdge
    def __init__(self, edge: _Optional[_Union[_lineage_pb2.LineageEdge, _Mapping]] = ...) -> None: ...

class CreateMonitoringReportRequest(_message.Message):
    __slots__ = ["report"]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _monitoring_pb2.MonitoringReport
    def __init__(self, report: _Optional[_Union[_monitoring_pb2.MonitoringReport, _Mapping]] = ...) -> None: ...

class CreateMonitoringReportResponse(_message.Message):
    __slots__ = ["report"]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _monitoring_pb2.MonitoringReport
    def __init__(self, report: _Optional[_Union[_monitoring_pb2.MonitoringReport, _Mapping]] = ...) -> None: ...

class CreateProjectRequest(_message.Message):
    __slots__ = ["description", "name"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    description: str
    name: str
    def __init__(self, name: _Optional[str] = ..., description: _Optional[str] = ...) -> None: ...

class CreateProjectResponse(_message.Message):
    __slots__ = ["project"]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: _project_pb2.Project
    def __init__(self, project: _Optional[_Union[_project_pb2.Project, _Mapping]] = ...) -> None: ...

class CreateTrainingDatasetRequest(_message.Message):
    __slots__ = ["training_dataset"]
    TRAINING_DATASET_FIELD_NUMBER: _ClassVar[int]
    training_dataset: _training_dataset_pb2.TrainingDataset
    def __init__(self, training_dataset: _Optional[_Union[_training_dataset_pb2.TrainingDataset, _Mapping]] = ...) -> None: ...

class CreateTrainingDatasetResponse(_message.Message):
    __slots__ = ["training_dataset"]
    TRAINING_DATASET_FIELD_NUMBER: _ClassVar[int]
    training_dataset: _training_dataset_pb2.TrainingDataset
    def __init__(self, training_dataset: _Optional[_Union[_training_dataset_pb2.TrainingDataset, _Mapping]] = ...) -> None: ...

class CreateValidationReportRequest(_message.Message):
    __slots__ = ["report"]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _validation_pb2.ValidationReport
    def __init__(self, report: _Optional[_Union[_validation_pb2.ValidationReport, _Mapping]] = ...) -> None: ...

class CreateValidationReportResponse(_message.Message):
    __slots__ = ["report"]
    REPORT_FIELD_NUMBER: _ClassVar[int]
    report: _validation_pb2.ValidationReport
    def __init__(self, report: _Optional[_Union[_validation_pb2.ValidationReport, _Mapping]] = ...) -> None: ...

class DeleteFeatureGroupRequest(_message.Message):
    __slots__ = ["etag", "name", "project", "version"]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    etag: str
    name: str
    project: str
    version: int
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteFeatureGroupResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class DeleteFeatureViewRequest(_message.Message):
    __slots__ = ["etag", "name", "project", "version"]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    etag: str
    name: str
    project: str
    version: int
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteFeatureViewResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class DeleteProjectRequest(_message.Message):
    __slots__ = ["etag", "name"]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    etag: str
    name: str
    def __init__(self, name: _Optional[str] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteProjectResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class DeleteTrainingDatasetRequest(_message.Message):
    __slots__ = ["etag", "feature_view", "project", "version"]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    etag: str
    feature_view: _types_pb2.FeatureViewRef
    project: str
    version: int
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., version: _Optional[int] = ..., etag: _Optional[str] = ...) -> None: ...

class DeleteTrainingDatasetResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class EnableFeatureLoggingRequest(_message.Message):
    __slots__ = ["feature_view", "logging", "project"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    LOGGING_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_view: _types_pb2.FeatureViewRef
    logging: _feature_view_pb2.FeatureLogging
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., logging: _Optional[_Union[_feature_view_pb2.FeatureLogging, _Mapping]] = ...) -> None: ...

class EnableFeatureLoggingResponse(_message.Message):
    __slots__ = ["feature_view", "logging_feature_group"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    LOGGING_FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    feature_view: _feature_view_pb2.FeatureView
    logging_feature_group: _feature_group_pb2.FeatureGroup
    def __init__(self, feature_view: _Optional[_Union[_feature_view_pb2.FeatureView, _Mapping]] = ..., logging_feature_group: _Optional[_Union[_feature_group_pb2.FeatureGroup, _Mapping]] = ...) -> None: ...

class ForgetModelRequest(_message.Message):
    __slots__ = ["model", "project", "registry_id"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    project: str
    registry_id: str
    def __init__(self, project: _Optional[str] = ..., model: _Optional[str] = ..., registry_id: _Optional[str] = ...) -> None: ...

class ForgetModelResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class GetCommitRequest(_message.Message):
    __slots__ = ["feature_group", "id", "project"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_group: _types_pb2.FeatureGroupRef
    id: int
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., id: _Optional[int] = ...) -> None: ...

class GetCommitResponse(_message.Message):
    __slots__ = ["commit"]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    commit: _commit_pb2.Commit
    def __init__(self, commit: _Optional[_Union[_commit_pb2.Commit, _Mapping]] = ...) -> None: ...

class GetFeatureGroupRequest(_message.Message):
    __slots__ = ["name", "project", "version"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    project: str
    version: int
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetFeatureGroupResponse(_message.Message):
    __slots__ = ["feature_group"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    feature_group: _feature_group_pb2.FeatureGroup
    def __init__(self, feature_group: _Optional[_Union[_feature_group_pb2.FeatureGroup, _Mapping]] = ...) -> None: ...

class GetFeatureViewRequest(_message.Message):
    __slots__ = ["name", "project", "version"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    name: str
    project: str
    version: int
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetFeatureViewResponse(_message.Message):
    __slots__ = ["feature_view"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    feature_view: _feature_view_pb2.FeatureView
    def __init__(self, feature_view: _Optional[_Union[_feature_view_pb2.FeatureView, _Mapping]] = ...) -> None: ...

class GetLineageRequest(_message.Message):
    __slots__ = ["depth", "direction", "node", "project"]
    DEPTH_FIELD_NUMBER: _ClassVar[int]
    DIRECTION_FIELD_NUMBER: _ClassVar[int]
    NODE_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    depth: int
    direction: _lineage_pb2.LineageDirection
    node: _lineage_pb2.LineageNode
    project: str
    def __init__(self, project: _Optional[str] = ..., node: _Optional[_Union[_lineage_pb2.LineageNode, _Mapping]] = ..., direction: _Optional[_Union[_lineage_pb2.LineageDirection, str]] = ..., depth: _Optional[int] = ...) -> None: ...

class GetLineageResponse(_message.Message):
    __slots__ = ["edges", "nodes"]
    EDGES_FIELD_NUMBER: _ClassVar[int]
    NODES_FIELD_NUMBER: _ClassVar[int]
    edges: _containers.RepeatedCompositeFieldContainer[_lineage_pb2.LineageEdge]
    nodes: _containers.RepeatedCompositeFieldContainer[_lineage_pb2.LineageNode]
    def __init__(self, nodes: _Optional[_Iterable[_Union[_lineage_pb2.LineageNode, _Mapping]]] = ..., edges: _Optional[_Iterable[_Union[_lineage_pb2.LineageEdge, _Mapping]]] = ...) -> None: ...

class GetProjectRequest(_message.Message):
    __slots__ = ["name"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    name: str
    def __init__(self, name: _Optional[str] = ...) -> None: ...

class GetProjectResponse(_message.Message):
    __slots__ = ["project"]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: _project_pb2.Project
    def __init__(self, project: _Optional[_Union[_project_pb2.Project, _Mapping]] = ...) -> None: ...

class GetStatisticsRequest(_message.Message):
    __slots__ = ["project", "subject"]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    project: str
    subject: _statistics_pb2.StatisticsSubject
    def __init__(self, project: _Optional[str] = ..., subject: _Optional[_Union[_statistics_pb2.StatisticsSubject, _Mapping]] = ...) -> None: ...

class GetStatisticsResponse(_message.Message):
    __slots__ = ["statistics"]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    statistics: _statistics_pb2.Statistics
    def __init__(self, statistics: _Optional[_Union[_statistics_pb2.Statistics, _Mapping]] = ...) -> None: ...

class GetTrainingDatasetRequest(_message.Message):
    __slots__ = ["feature_view", "project", "version"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    feature_view: _types_pb2.FeatureViewRef
    project: str
    version: int
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., version: _Optional[int] = ...) -> None: ...

class GetTrainingDatasetResponse(_message.Message):
    __slots__ = ["training_dataset"]
    TRAINING_DATASET_FIELD_NUMBER: _ClassVar[int]
    training_dataset: _training_dataset_pb2.TrainingDataset
    def __init__(self, training_dataset: _Optional[_Union[_training_dataset_pb2.TrainingDataset, _Mapping]] = ...) -> None: ...

class ListApiKeysRequest(_message.Message):
    __slots__ = ["include_revoked", "page_size", "page_token", "project", "user"]
    INCLUDE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    include_revoked: bool
    page_size: int
    page_token: str
    project: str
    user: str
    def __init__(self, user: _Optional[str] = ..., project: _Optional[str] = ..., include_revoked: bool = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListApiKeysResponse(_message.Message):
    __slots__ = ["api_keys", "next_page_token"]
    API_KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    api_keys: _containers.RepeatedCompositeFieldContainer[_access_pb2.ApiKey]
    next_page_token: str
    def __init__(self, api_keys: _Optional[_Iterable[_Union[_access_pb2.ApiKey, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListAuditEventsRequest(_message.Message):
    __slots__ = ["page_size", "page_token", "project"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    project: str
    def __init__(self, project: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAuditEventsResponse(_message.Message):
    __slots__ = ["events", "next_page_token"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_access_pb2.AuditEvent]
    next_page_token: str
    def __init__(self, events: _Optional[_Iterable[_Union[_access_pb2.AuditEvent, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListCommitsRequest(_message.Message):
    __slots__ = ["feature_group", "ingestion_time_range", "page_size", "page_token", "project"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    INGESTION_TIME_RANGE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_group: _types_pb2.FeatureGroupRef
    ingestion_time_range: _types_pb2.TimeRange
    page_size: int
    page_token: str
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., ingestion_time_range: _Optional[_Union[_types_pb2.TimeRange, _Mapping]] = ...) -> None: ...

class ListCommitsResponse(_message.Message):
    __slots__ = ["commits", "next_page_token"]
    COMMITS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    commits: _containers.RepeatedCompositeFieldContainer[_commit_pb2.Commit]
    next_page_token: str
    def __init__(self, commits: _Optional[_Iterable[_Union[_commit_pb2.Commit, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListFeatureGroupSharesRequest(_message.Message):
    __slots__ = ["project"]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    project: str
    def __init__(self, project: _Optional[str] = ...) -> None: ...

class ListFeatureGroupSharesResponse(_message.Message):
    __slots__ = ["granted", "received"]
    GRANTED_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_FIELD_NUMBER: _ClassVar[int]
    granted: _containers.RepeatedCompositeFieldContainer[_access_pb2.FeatureGroupShare]
    received: _containers.RepeatedCompositeFieldContainer[_access_pb2.FeatureGroupShare]
    def __init__(self, granted: _Optional[_Iterable[_Union[_access_pb2.FeatureGroupShare, _Mapping]]] = ..., received: _Optional[_Iterable[_Union[_access_pb2.FeatureGroupShare, _Mapping]]] = ...) -> None: ...

class ListFeatureGroupsRequest(_message.Message):
    __slots__ = ["name", "page_size", "page_token", "project", "tag"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    page_size: int
    page_token: str
    project: str
    tag: str
    def __init__(self, project: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name: _Optional[str] = ..., tag: _Optional[str] = ...) -> None: ...

class ListFeatureGroupsResponse(_message.Message):
    __slots__ = ["feature_groups", "next_page_token"]
    FEATURE_GROUPS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    feature_groups: _containers.RepeatedCompositeFieldContainer[_feature_group_pb2.FeatureGroup]
    next_page_token: str
    def __init__(self, feature_groups: _Optional[_Iterable[_Union[_feature_group_pb2.FeatureGroup, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListFeatureViewsRequest(_message.Message):
    __slots__ = ["name", "page_size", "page_token", "project", "tag"]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    TAG_FIELD_NUMBER: _ClassVar[int]
    name: str
    page_size: int
    page_token: str
    project: str
    tag: str
    def __init__(self, project: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., name: _Optional[str] = ..., tag: _Optional[str] = ...) -> None: ...

class ListFeatureViewsResponse(_message.Message):
    __slots__ = ["feature_views", "next_page_token"]
    FEATURE_VIEWS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    feature_views: _containers.RepeatedCompositeFieldContainer[_feature_view_pb2.FeatureView]
    next_page_token: str
    def __init__(self, feature_views: _Optional[_Iterable[_Union[_feature_view_pb2.FeatureView, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListMonitoringReportsRequest(_message.Message):
    __slots__ = ["feature_view", "page_size", "page_token", "project"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_view: _types_pb2.FeatureViewRef
    page_size: int
    page_token: str
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListMonitoringReportsResponse(_message.Message):
    __slots__ = ["next_page_token", "reports"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    reports: _containers.RepeatedCompositeFieldContainer[_monitoring_pb2.MonitoringReport]
    def __init__(self, reports: _Optional[_Iterable[_Union[_monitoring_pb2.MonitoringReport, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListProjectsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListProjectsResponse(_message.Message):
    __slots__ = ["next_page_token", "projects"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECTS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    projects: _containers.RepeatedCompositeFieldContainer[_project_pb2.Project]
    def __init__(self, projects: _Optional[_Iterable[_Union[_project_pb2.Project, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListRecordedModelsRequest(_message.Message):
    __slots__ = ["page_size", "page_token"]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListRecordedModelsResponse(_message.Message):
    __slots__ = ["models", "next_page_token"]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[RecordedModel]
    next_page_token: str
    def __init__(self, models: _Optional[_Iterable[_Union[RecordedModel, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListTrainingDatasetsRequest(_message.Message):
    __slots__ = ["feature_view", "page_size", "page_token", "project"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_view: _types_pb2.FeatureViewRef
    page_size: int
    page_token: str
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListTrainingDatasetsResponse(_message.Message):
    __slots__ = ["next_page_token", "training_datasets"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASETS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    training_datasets: _containers.RepeatedCompositeFieldContainer[_training_dataset_pb2.TrainingDataset]
    def __init__(self, training_datasets: _Optional[_Iterable[_Union[_training_dataset_pb2.TrainingDataset, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class ListTransformationFunctionsRequest(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class ListTransformationFunctionsResponse(_message.Message):
    __slots__ = ["functions"]
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    functions: _containers.RepeatedCompositeFieldContainer[_feature_view_pb2.TransformationFunctionInfo]
    def __init__(self, functions: _Optional[_Iterable[_Union[_feature_view_pb2.TransformationFunctionInfo, _Mapping]]] = ...) -> None: ...

class ListValidationReportsRequest(_message.Message):
    __slots__ = ["feature_group", "page_size", "page_token", "project"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_group: _types_pb2.FeatureGroupRef
    page_size: int
    page_token: str
    project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListValidationReportsResponse(_message.Message):
    __slots__ = ["next_page_token", "reports"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    reports: _containers.RepeatedCompositeFieldContainer[_validation_pb2.ValidationReport]
    def __init__(self, reports: _Optional[_Iterable[_Union[_validation_pb2.ValidationReport, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PutStatisticsRequest(_message.Message):
    __slots__ = ["statistics"]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    statistics: _statistics_pb2.Statistics
    def __init__(self, statistics: _Optional[_Union[_statistics_pb2.Statistics, _Mapping]] = ...) -> None: ...

class PutStatisticsResponse(_message.Message):
    __slots__ = ["statistics"]
    STATISTICS_FIELD_NUMBER: _ClassVar[int]
    statistics: _statistics_pb2.Statistics
    def __init__(self, statistics: _Optional[_Union[_statistics_pb2.Statistics, _Mapping]] = ...) -> None: ...

class RecordAuditEventsRequest(_message.Message):
    __slots__ = ["events"]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[_access_pb2.AuditEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[_access_pb2.AuditEvent, _Mapping]]] = ...) -> None: ...

class RecordAuditEventsResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RecordModelRequest(_message.Message):
    __slots__ = ["model", "project", "registry_id"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    project: str
    registry_id: str
    def __init__(self, project: _Optional[str] = ..., model: _Optional[str] = ..., registry_id: _Optional[str] = ...) -> None: ...

class RecordModelResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RecordedModel(_message.Message):
    __slots__ = ["model", "project", "registry_id"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    REGISTRY_ID_FIELD_NUMBER: _ClassVar[int]
    model: str
    project: str
    registry_id: str
    def __init__(self, project: _Optional[str] = ..., model: _Optional[str] = ..., registry_id: _Optional[str] = ...) -> None: ...

class ReleaseModelVersionRequest(_message.Message):
    __slots__ = ["model", "project", "version"]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    model: str
    project: str
    version: int
    def __init__(self, project: _Optional[str] = ..., model: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class ReleaseModelVersionResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class RevokeApiKeyRequest(_message.Message):
    __slots__ = ["id"]
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class RevokeApiKeyResponse(_message.Message):
    __slots__ = ["api_key"]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    api_key: _access_pb2.ApiKey
    def __init__(self, api_key: _Optional[_Union[_access_pb2.ApiKey, _Mapping]] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ["kinds", "page_size", "page_token", "project", "query", "tags"]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    kinds: _containers.RepeatedScalarFieldContainer[SearchResultKind]
    page_size: int
    page_token: str
    project: str
    query: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, project: _Optional[str] = ..., query: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., kinds: _Optional[_Iterable[_Union[SearchResultKind, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ["next_page_token", "results"]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    next_page_token: str
    results: _containers.RepeatedCompositeFieldContainer[SearchResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SearchResult, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class SearchResult(_message.Message):
    __slots__ = ["description", "kind", "name", "score", "tags", "version"]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    description: str
    kind: SearchResultKind
    name: str
    score: float
    tags: _containers.RepeatedScalarFieldContainer[str]
    version: int
    def __init__(self, kind: _Optional[_Union[SearchResultKind, str]] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., description: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., score: _Optional[float] = ...) -> None: ...

class ShareFeatureGroupRequest(_message.Message):
    __slots__ = ["feature_group", "project", "with_project"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    WITH_PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_group: str
    project: str
    with_project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[str] = ..., with_project: _Optional[str] = ...) -> None: ...

class ShareFeatureGroupResponse(_message.Message):
    __slots__ = ["share"]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    share: _access_pb2.FeatureGroupShare
    def __init__(self, share: _Optional[_Union[_access_pb2.FeatureGroupShare, _Mapping]] = ...) -> None: ...

class UnshareFeatureGroupRequest(_message.Message):
    __slots__ = ["feature_group", "project", "with_project"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    WITH_PROJECT_FIELD_NUMBER: _ClassVar[int]
    feature_group: str
    project: str
    with_project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[str] = ..., with_project: _Optional[str] = ...) -> None: ...

class UnshareFeatureGroupResponse(_message.Message):
    __slots__ = []
    def __init__(self) -> None: ...

class UpdateCommitRequest(_message.Message):
    __slots__ = ["commit", "update_mask"]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    commit: _commit_pb2.Commit
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, commit: _Optional[_Union[_commit_pb2.Commit, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateCommitResponse(_message.Message):
    __slots__ = ["commit"]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    commit: _commit_pb2.Commit
    def __init__(self, commit: _Optional[_Union[_commit_pb2.Commit, _Mapping]] = ...) -> None: ...

class UpdateFeatureGroupRequest(_message.Message):
    __slots__ = ["feature_group", "update_mask"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    feature_group: _feature_group_pb2.FeatureGroup
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, feature_group: _Optional[_Union[_feature_group_pb2.FeatureGroup, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateFeatureGroupResponse(_message.Message):
    __slots__ = ["feature_group"]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    feature_group: _feature_group_pb2.FeatureGroup
    def __init__(self, feature_group: _Optional[_Union[_feature_group_pb2.FeatureGroup, _Mapping]] = ...) -> None: ...

class UpdateFeatureViewRequest(_message.Message):
    __slots__ = ["feature_view", "update_mask"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    feature_view: _feature_view_pb2.FeatureView
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, feature_view: _Optional[_Union[_feature_view_pb2.FeatureView, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateFeatureViewResponse(_message.Message):
    __slots__ = ["feature_view"]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    feature_view: _feature_view_pb2.FeatureView
    def __init__(self, feature_view: _Optional[_Union[_feature_view_pb2.FeatureView, _Mapping]] = ...) -> None: ...

class UpdateTrainingDatasetRequest(_message.Message):
    __slots__ = ["training_dataset", "update_mask"]
    TRAINING_DATASET_FIELD_NUMBER: _ClassVar[int]
    UPDATE_MASK_FIELD_NUMBER: _ClassVar[int]
    training_dataset: _training_dataset_pb2.TrainingDataset
    update_mask: _field_mask_pb2.FieldMask
    def __init__(self, training_dataset: _Optional[_Union[_training_dataset_pb2.TrainingDataset, _Mapping]] = ..., update_mask: _Optional[_Union[_field_mask_pb2.FieldMask, _Mapping]] = ...) -> None: ...

class UpdateTrainingDatasetResponse(_message.Message):
    __slots__ = ["training_dataset"]
    TRAINING_DATASET_FIELD_NUMBER: _ClassVar[int]
    training_dataset: _training_dataset_pb2.TrainingDataset
    def __init__(self, training_dataset: _Optional[_Union[_training_dataset_pb2.TrainingDataset, _Mapping]] = ...) -> None: ...

class WatchChangesRequest(_message.Message):
    __slots__ = ["from_revision", "project"]
    FROM_REVISION_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    from_revision: int
    project: str
    def __init__(self, project: _Optional[str] = ..., from_revision: _Optional[int] = ...) -> None: ...

class WatchChangesResponse(_message.Message):
    __slots__ = ["change", "head_revision"]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    HEAD_REVISION_FIELD_NUMBER: _ClassVar[int]
    change: _change_pb2.Change
    head_revision: int
    def __init__(self, change: _Optional[_Union[_change_pb2.Change, _Mapping]] = ..., head_revision: _Optional[int] = ...) -> None: ...

class SearchResultKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

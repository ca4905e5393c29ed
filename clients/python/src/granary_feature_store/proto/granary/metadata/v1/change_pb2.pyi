from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.metadata.v1 import access_pb2 as _access_pb2
from granary_feature_store.proto.granary.metadata.v1 import commit_pb2 as _commit_pb2
from granary_feature_store.proto.granary.metadata.v1 import feature_group_pb2 as _feature_group_pb2
from granary_feature_store.proto.granary.metadata.v1 import feature_view_pb2 as _feature_view_pb2
from granary_feature_store.proto.granary.metadata.v1 import project_pb2 as _project_pb2
from granary_feature_store.proto.granary.metadata.v1 import training_dataset_pb2 as _training_dataset_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

CHANGE_KIND_CREATED: ChangeKind
CHANGE_KIND_DELETED: ChangeKind
CHANGE_KIND_UNSPECIFIED: ChangeKind
CHANGE_KIND_UPDATED: ChangeKind
DESCRIPTOR: _descriptor.FileDescriptor

class Change(_message.Message):
    __slots__ = ["api_key", "change_time", "commit", "feature_group", "feature_view", "kind", "project", "project_resource", "revision", "share", "training_dataset"]
    API_KEY_FIELD_NUMBER: _ClassVar[int]
    CHANGE_TIME_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    PROJECT_RESOURCE_FIELD_NUMBER: _ClassVar[int]
    REVISION_FIELD_NUMBER: _ClassVar[int]
    SHARE_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_FIELD_NUMBER: _ClassVar[int]
    api_key: _access_pb2.ApiKey
    change_time: _timestamp_pb2.Timestamp
    commit: _commit_pb2.Commit
    feature_group: _feature_group_pb2.FeatureGroup
    feature_view: _feature_view_pb2.FeatureView
    kind: ChangeKind
    project: str
    project_resource: _project_pb2.Project
    revision: int
    share: _access_pb2.FeatureGroupShare
    training_dataset: _training_dataset_pb2.TrainingDataset
    def __init__(self, revision: _Optional[int] = ..., kind: _Optional[_Union[ChangeKind, str]] = ..., project: _Optional[str] = ..., change_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., project_resource: _Optional[_Union[_project_pb2.Project, _Mapping]] = ..., feature_group: _Optional[_Union[_feature_group_pb2.FeatureGroup, _Mapping]] = ..., feature_view: _Optional[_Union[_feature_view_pb2.FeatureView, _Mapping]] = ..., training_dataset: _Optional[_Union[_training_dataset_pb2.TrainingDataset, _Mapping]] = ..., commit: _Optional[_Union[_commit_pb2.Commit, _Mapping]] = ..., api_key: _Optional[_Union[_access_pb2.ApiKey, _Mapping]] = ..., share: _Optional[_Union[_access_pb2.FeatureGroupShare, _Mapping]] = ...) -> None: ...

class ChangeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

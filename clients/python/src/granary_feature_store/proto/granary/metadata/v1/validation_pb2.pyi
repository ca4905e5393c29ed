from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.metadata.v1 import feature_group_pb2 as _feature_group_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RuleResult(_message.Message):
    __slots__ = ["column", "evaluated_count", "message", "policy", "rule", "success", "unexpected_count", "unexpected_examples"]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    EVALUATED_COUNT_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    UNEXPECTED_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNEXPECTED_EXAMPLES_FIELD_NUMBER: _ClassVar[int]
    column: str
    evaluated_count: int
    message: str
    policy: _feature_group_pb2.ValidationPolicy
    rule: str
    success: bool
    unexpected_count: int
    unexpected_examples: _containers.RepeatedCompositeFieldContainer[_types_pb2.Value]
    def __init__(self, rule: _Optional[str] = ..., column: _Optional[str] = ..., policy: _Optional[_Union[_feature_group_pb2.ValidationPolicy, str]] = ..., success: bool = ..., evaluated_count: _Optional[int] = ..., unexpected_count: _Optional[int] = ..., unexpected_examples: _Optional[_Iterable[_Union[_types_pb2.Value, _Mapping]]] = ..., message: _Optional[str] = ...) -> None: ...

class ValidationReport(_message.Message):
    __slots__ = ["commit_id", "create_time", "feature_group", "id", "ingested", "project", "results", "success"]
    COMMIT_ID_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    INGESTED_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    SUCCESS_FIELD_NUMBER: _ClassVar[int]
    commit_id: int
    create_time: _timestamp_pb2.Timestamp
    feature_group: _types_pb2.FeatureGroupRef
    id: str
    ingested: bool
    project: str
    results: _containers.RepeatedCompositeFieldContainer[RuleResult]
    success: bool
    def __init__(self, id: _Optional[str] = ..., project: _Optional[str] = ..., feature_group: _Optional[_Union[_types_pb2.FeatureGroupRef, _Mapping]] = ..., commit_id: _Optional[int] = ..., success: bool = ..., ingested: bool = ..., results: _Optional[_Iterable[_Union[RuleResult, _Mapping]]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

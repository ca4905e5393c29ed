from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
LINEAGE_DIRECTION_BOTH: LineageDirection
LINEAGE_DIRECTION_DOWNSTREAM: LineageDirection
LINEAGE_DIRECTION_UNSPECIFIED: LineageDirection
LINEAGE_DIRECTION_UPSTREAM: LineageDirection
LINEAGE_NODE_KIND_FEATURE_GROUP: LineageNodeKind
LINEAGE_NODE_KIND_FEATURE_VIEW: LineageNodeKind
LINEAGE_NODE_KIND_MODEL_VERSION: LineageNodeKind
LINEAGE_NODE_KIND_TRAINING_DATASET: LineageNodeKind
LINEAGE_NODE_KIND_UNSPECIFIED: LineageNodeKind

class LineageEdge(_message.Message):
    __slots__ = ["to"]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    to: LineageNode
    def __init__(self, to: _Optional[_Union[LineageNode, _Mapping]] = ..., **kwargs) -> None: ...

class LineageNode(_message.Message):
    __slots__ = ["dataset_version", "kind", "name", "version"]
    DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    dataset_version: int
    kind: LineageNodeKind
    name: str
    version: int
    def __init__(self, kind: _Optional[_Union[LineageNodeKind, str]] = ..., name: _Optional[str] = ..., version: _Optional[int] = ..., dataset_version: _Optional[int] = ...) -> None: ...

class LineageNodeKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

class LineageDirection(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

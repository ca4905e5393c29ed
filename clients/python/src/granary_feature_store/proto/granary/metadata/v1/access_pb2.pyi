from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
ROLE_DATA_OWNER: Role
ROLE_DATA_SCIENTIST: Role
ROLE_UNSPECIFIED: Role
ROLE_VIEWER: Role

class ApiKey(_message.Message):
    __slots__ = ["admin", "create_time", "created_by", "description", "expire_time", "id", "revoke_time", "scopes", "user"]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    EXPIRE_TIME_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    REVOKE_TIME_FIELD_NUMBER: _ClassVar[int]
    SCOPES_FIELD_NUMBER: _ClassVar[int]
    USER_FIELD_NUMBER: _ClassVar[int]
    admin: bool
    create_time: _timestamp_pb2.Timestamp
    created_by: str
    description: str
    expire_time: _timestamp_pb2.Timestamp
    id: str
    revoke_time: _timestamp_pb2.Timestamp
    scopes: _containers.RepeatedCompositeFieldContainer[ProjectScope]
    user: str
    def __init__(self, id: _Optional[str] = ..., user: _Optional[str] = ..., admin: bool = ..., scopes: _Optional[_Iterable[_Union[ProjectScope, _Mapping]]] = ..., expire_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ..., revoke_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., description: _Optional[str] = ...) -> None: ...

class AuditEvent(_message.Message):
    __slots__ = ["actor", "code", "id", "key_id", "method", "project", "resource", "service", "time"]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    RESOURCE_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    actor: str
    code: str
    id: int
    key_id: str
    method: str
    project: str
    resource: str
    service: str
    time: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[int] = ..., time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., actor: _Optional[str] = ..., project: _Optional[str] = ..., method: _Optional[str] = ..., resource: _Optional[str] = ..., service: _Optional[str] = ..., code: _Optional[str] = ..., key_id: _Optional[str] = ...) -> None: ...

class FeatureGroupShare(_message.Message):
    __slots__ = ["create_time", "created_by", "feature_group", "project", "with_project"]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    FEATURE_GROUP_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    WITH_PROJECT_FIELD_NUMBER: _ClassVar[int]
    create_time: _timestamp_pb2.Timestamp
    created_by: str
    feature_group: str
    project: str
    with_project: str
    def __init__(self, project: _Optional[str] = ..., feature_group: _Optional[str] = ..., with_project: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., created_by: _Optional[str] = ...) -> None: ...

class ProjectScope(_message.Message):
    __slots__ = ["project", "role"]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    project: str
    role: Role
    def __init__(self, project: _Optional[str] = ..., role: _Optional[_Union[Role, str]] = ...) -> None: ...

class Role(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

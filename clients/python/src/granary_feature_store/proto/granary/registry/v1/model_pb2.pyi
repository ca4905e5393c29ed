from google.protobuf import timestamp_pb2 as _timestamp_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2 as _types_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Iterable as _Iterable, Mapping as _Mapping, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor
MODEL_VERSION_STATUS_READY: ModelVersionStatus
MODEL_VERSION_STATUS_UNSPECIFIED: ModelVersionStatus
MODEL_VERSION_STATUS_UPLOADING: ModelVersionStatus

class Artifact(_message.Message):
    __slots__ = ["content_type", "create_time", "path", "sha256", "size_bytes"]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    content_type: str
    create_time: _timestamp_pb2.Timestamp
    path: str
    sha256: str
    size_bytes: int
    def __init__(self, path: _Optional[str] = ..., sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., content_type: _Optional[str] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Model(_message.Message):
    __slots__ = ["aliases", "create_time", "description", "etag", "latest_version", "name", "project", "tags", "update_time"]
    class AliasesEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    LATEST_VERSION_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.ScalarMap[str, int]
    create_time: _timestamp_pb2.Timestamp
    description: str
    etag: str
    latest_version: int
    name: str
    project: str
    tags: _containers.RepeatedScalarFieldContainer[str]
    update_time: _timestamp_pb2.Timestamp
    def __init__(self, project: _Optional[str] = ..., name: _Optional[str] = ..., description: _Optional[str] = ..., tags: _Optional[_Iterable[str]] = ..., aliases: _Optional[_Mapping[str, int]] = ..., latest_version: _Optional[int] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class ModelSchema(_message.Message):
    __slots__ = ["inputs", "outputs"]
    INPUTS_FIELD_NUMBER: _ClassVar[int]
    OUTPUTS_FIELD_NUMBER: _ClassVar[int]
    inputs: _containers.RepeatedCompositeFieldContainer[_types_pb2.Column]
    outputs: _containers.RepeatedCompositeFieldContainer[_types_pb2.Column]
    def __init__(self, inputs: _Optional[_Iterable[_Union[_types_pb2.Column, _Mapping]]] = ..., outputs: _Optional[_Iterable[_Union[_types_pb2.Column, _Mapping]]] = ...) -> None: ...

class ModelVersion(_message.Message):
    __slots__ = ["aliases", "create_time", "description", "etag", "feature_view", "framework", "input_example", "metrics", "model", "parameters", "project", "schema", "status", "tags", "training_dataset_version", "update_time", "version"]
    class MetricsEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    class ParametersEntry(_message.Message):
        __slots__ = ["key", "value"]
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ALIASES_FIELD_NUMBER: _ClassVar[int]
    CREATE_TIME_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    ETAG_FIELD_NUMBER: _ClassVar[int]
    FEATURE_VIEW_FIELD_NUMBER: _ClassVar[int]
    FRAMEWORK_FIELD_NUMBER: _ClassVar[int]
    INPUT_EXAMPLE_FIELD_NUMBER: _ClassVar[int]
    METRICS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    PROJECT_FIELD_NUMBER: _ClassVar[int]
    SCHEMA_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    TRAINING_DATASET_VERSION_FIELD_NUMBER: _ClassVar[int]
    UPDATE_TIME_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    aliases: _containers.RepeatedScalarFieldContainer[str]
    create_time: _timestamp_pb2.Timestamp
    description: str
    etag: str
    feature_view: _types_pb2.FeatureViewRef
    framework: str
    input_example: _types_pb2.ColumnarRows
    metrics: _containers.ScalarMap[str, float]
    model: str
    parameters: _containers.ScalarMap[str, str]
    project: str
    schema: ModelSchema
    status: ModelVersionStatus
    tags: _containers.RepeatedScalarFieldContainer[str]
    training_dataset_version: int
    update_time: _timestamp_pb2.Timestamp
    version: int
    def __init__(self, project: _Optional[str] = ..., model: _Optional[str] = ..., version: _Optional[int] = ..., description: _Optional[str] = ..., framework: _Optional[str] = ..., metrics: _Optional[_Mapping[str, float]] = ..., parameters: _Optional[_Mapping[str, str]] = ..., schema: _Optional[_Union[ModelSchema, _Mapping]] = ..., input_example: _Optional[_Union[_types_pb2.ColumnarRows, _Mapping]] = ..., feature_view: _Optional[_Union[_types_pb2.FeatureViewRef, _Mapping]] = ..., training_dataset_version: _Optional[int] = ..., tags: _Optional[_Iterable[str]] = ..., status: _Optional[_Union[ModelVersionStatus, str]] = ..., aliases: _Optional[_Iterable[str]] = ..., create_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., update_time: _Optional[_Union[_timestamp_pb2.Timestamp, _Mapping]] = ..., etag: _Optional[str] = ...) -> None: ...

class ModelVersionStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = []

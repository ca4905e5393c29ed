"""The Granary client: one object per process, holding a channel per service.

    from granary_feature_store import Granary

    with Granary.connect(project="fraud") as client:
        client.write_rows("card_aggs", 1, [{"cc_num": 1, "ts": now, "spend_1h": 12.5}])
        client.get_feature_vector("fraud_view", 1, {"cc_num": 1})   # {"spend_1h": 12.5, ...}
        client.health()                                             # {"metadata": "SERVING", ...}

Values are converted by the declared types of the group or view, read once from the metadata
service and kept for the client's life (see values.py). Errors are GranaryError subclasses
(errors.py); UNAVAILABLE is retried, and DEADLINE_EXCEEDED on reads (retry.py). The generated stubs
stay reachable as ``client.metadata``, ``client.online``, ``client.offline`` and ``client.registry``
(they carry the API key; their errors are plain grpc.RpcError).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, TypeVar

import grpc

from granary_feature_store.credentials import BearerInterceptor, admin_key_file, locate_api_key, read_ca, split_address
from granary_feature_store import monitoring
from granary_feature_store.errors import NotFoundError, from_rpc_error
from granary_feature_store.proto.granary.metadata.v1 import feature_group_pb2, feature_view_pb2, metadata_service_pb2, metadata_service_pb2_grpc
from granary_feature_store.proto.granary.offline.v1 import offline_service_pb2_grpc
from granary_feature_store.proto.granary.online.v1 import online_service_pb2, online_service_pb2_grpc
from granary_feature_store.proto.granary.registry.v1 import registry_service_pb2_grpc
from granary_feature_store.proto.granary.types.v1 import types_pb2
from granary_feature_store.proto.grpc.health.v1 import health_pb2, health_pb2_grpc
from granary_feature_store.retry import RetryPolicy, call_with_retries
from granary_feature_store.values import Row, column_of, named_columns, rows_to_columns, vectors_to_rows, vectors_to_statuses

__all__ = ["DEFAULT_ADDRESSES", "SERVICES", "SERVICE_NAMES", "Granary", "VectorsWithStatus", "WriteResult", "connect", "entity_rows"]

T = TypeVar("T")

SERVICES: Tuple[str, ...] = ("metadata", "online", "offline", "registry")
DEFAULT_ADDRESSES: Dict[str, str] = {
    "metadata": "127.0.0.1:50051",
    "online": "127.0.0.1:50052",
    "offline": "127.0.0.1:50053",
    "registry": "127.0.0.1:50054",
}
# The gRPC service each address serves; also the names grpc.health.v1 reports on.
SERVICE_NAMES: Dict[str, str] = {
    "metadata": "granary.metadata.v1.MetadataService",
    "online": "granary.online.v1.OnlineService",
    "offline": "granary.offline.v1.OfflineService",
    "registry": "granary.registry.v1.RegistryService",
}
# The services accept messages up to GRANARY_MAX_MESSAGE_BYTES (16 MiB by default); gRPC Python
# receives only 4 MiB unless told.
_DEFAULT_OPTIONS: Tuple[Tuple[str, int], ...] = (
    ("grpc.max_receive_message_length", 16 * 1024 * 1024),
    ("grpc.max_send_message_length", 16 * 1024 * 1024),
)
_DURABILITY = {
    None: online_service_pb2.DURABILITY_UNSPECIFIED,
    "committed": online_service_pb2.DURABILITY_COMMITTED,
    "flushed": online_service_pb2.DURABILITY_FLUSHED,
}


@dataclass(frozen=True)
class WriteResult:
    written: int
    """Rows stored."""
    ignored: int
    """Rows older than the stored row of their key (an upsert keeps the latest event time)."""
    log_sequence: int
    """The write's place in the write log: pass it as `min_log_sequence` to read it on any replica (0 without a log)."""


@dataclass(frozen=True)
class VectorsWithStatus:
    rows: List[Dict[str, Any]]
    """One dict per entity; None where the value is not PRESENT."""
    statuses: List[Dict[str, str]]
    """Per value: "PRESENT", "NULL", "NOT_FOUND" (no row for the key) or "EXPIRED" (past the online TTL)."""


class Granary:
    """A connection to the four services. Build it with ``Granary.connect()`` (or ``connect()``);
    use it as a context manager, or call ``close()``. Thread-safe: share one per process."""

    def __init__(
        self,
        addresses: Mapping[str, str],
        *,
        api_key: Optional[str] = None,
        api_key_source: Optional[str] = None,
        credentials: Optional[grpc.ChannelCredentials] = None,
        ca_pem: Optional[bytes] = None,
        options: Sequence[Tuple[str, Any]] = (),
        project: Optional[str] = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        catalogue_wait: float = 10.0,
        admin_key_path: Optional[str] = None,
    ) -> None:
        self.addresses: Dict[str, str] = dict(addresses)
        self.project = project
        """The project calls use unless given one (connect(): `project`, else GRANARY_PROJECT)."""
        self.timeout = timeout
        """Seconds each attempt of a call may take (each call's `timeout=` overrides it)."""
        self.retry = retry
        self.api_key_source = (api_key_source or "the api_key argument") if api_key else None
        """Where the API key came from ("GRANARY_API_KEY", a file path...); None: no key is sent."""
        self._catalogue_wait = catalogue_wait
        merged = list({**dict(_DEFAULT_OPTIONS), **dict(options)}.items())
        self._raw: Dict[str, grpc.Channel] = {}
        self._channels: Dict[str, grpc.Channel] = {}
        for address in self.addresses.values():
            if address in self._channels:
                continue
            tls, target = split_address(address)
            if tls or credentials is not None:
                secure = credentials or grpc.ssl_channel_credentials(root_certificates=ca_pem)
                raw = grpc.secure_channel(target, secure, options=merged)
            else:
                raw = grpc.insecure_channel(target, options=merged)
            self._raw[address] = raw
            self._channels[address] = grpc.intercept_channel(raw, BearerInterceptor(api_key)) if api_key else raw
        self.metadata = metadata_service_pb2_grpc.MetadataServiceStub(self.channel("metadata"))
        self.online = online_service_pb2_grpc.OnlineServiceStub(self.channel("online"))
        self.offline = offline_service_pb2_grpc.OfflineServiceStub(self.channel("offline"))
        self.registry = registry_service_pb2_grpc.RegistryServiceStub(self.channel("registry"))
        self._groups: Dict[Tuple[str, str, int], feature_group_pb2.FeatureGroup] = {}
        self._views: Dict[Tuple[str, str, int], feature_view_pb2.FeatureView] = {}
        self._known_online: Set[Tuple[Any, ...]] = set()
        # What an UNAUTHENTICATED error adds: which key was sent, or where keys are looked for.
        where = f"the api_key argument, GRANARY_API_KEY, the file GRANARY_API_KEY_FILE names, or {admin_key_path or admin_key_file()}"
        self._key_hint = f"the API key came from {self.api_key_source}; keys are read from {where}" if self.api_key_source else f"no API key was found: it is read from {where}"

    @classmethod
    def connect(
        cls,
        address: Optional[str] = None,
        *,
        metadata: Optional[str] = None,
        online: Optional[str] = None,
        offline: Optional[str] = None,
        registry: Optional[str] = None,
        api_key: Optional[str] = None,
        project: Optional[str] = None,
        timeout: float = 30.0,
        retry: RetryPolicy = RetryPolicy(),
        ca_file: Optional[str] = None,
        credentials: Optional[grpc.ChannelCredentials] = None,
        options: Sequence[Tuple[str, Any]] = (),
        env: Optional[Mapping[str, str]] = None,
    ) -> "Granary":
        """Connects (lazily: nothing is dialled before the first call).

        Each service's address ("host:port", or "https://host:port" for TLS) is, first found: its
        keyword argument; `address` (one for all four, e.g. behind a gRPC-aware proxy);
        GRANARY_<SERVICE>_ADDRESS; 127.0.0.1:50051 (metadata), 50052 (online), 50053 (offline),
        50054 (registry). https:// trusts `ca_file`, else the file GRANARY_TLS_CA names, else gRPC's
        default roots; `credentials` (e.g. grpc.ssl_channel_credentials with a client certificate)
        makes every channel secure and wins over `ca_file`.

        The API key, sent as `authorization: Bearer <key>`: `api_key`, else GRANARY_API_KEY, else
        the file GRANARY_API_KEY_FILE names, else `<GRANARY_DATA_DIR or .granary>/admin.key` (what
        `npm start` writes), as the TypeScript SDK finds it. `project` (else GRANARY_PROJECT) is the
        default of every call's `project=`. `timeout` is each attempt's deadline in seconds."""
        env = os.environ if env is None else env
        explicit = {"metadata": metadata, "online": online, "offline": offline, "registry": registry}
        addresses = {s: explicit[s] or address or env.get(f"GRANARY_{s.upper()}_ADDRESS") or DEFAULT_ADDRESSES[s] for s in SERVICES}
        key, source = (api_key, "the api_key argument") if api_key else locate_api_key(env)
        return cls(
            addresses,
            api_key=key,
            api_key_source=source,
            credentials=credentials,
            ca_pem=read_ca(ca_file, env),
            options=options,
            project=project or env.get("GRANARY_PROJECT") or None,
            timeout=timeout,
            retry=retry,
            admin_key_path=admin_key_file(env),
        )

    # ---- writes -------------------------------------------------------------------------------

    def write_rows(
        self,
        feature_group: str,
        version: int,
        rows: Sequence[Row],
        *,
        project: Optional[str] = None,
        durability: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> WriteResult:
        """Upserts rows into the online store of an online-enabled feature group with
        OnlineService.WriteRows (no pyarrow needed). Each row is a dict of column name to value
        (int, float, str, bool, bytes, datetime, date, list, or None for null), converted by the
        group's declared column types; a column left out of every row is stored as its default or
        null. A row older than the stored one for its key is ignored (counted in `ignored`). One
        batch is one transaction: one bad row and nothing is written (InvalidArgumentError).

        This writes the online store only; the offline history (training data) is written by
        OfflineService.Insert, which takes Arrow IPC (the TypeScript SDK's or the CLI's `ingest`).
        `durability`: "flushed" (the server's default: on disk) or "committed" (survives a process
        crash, not a machine's; faster)."""
        if durability not in _DURABILITY:
            raise ValueError(f'durability must be "flushed" or "committed", got {durability!r}')
        group = self.feature_group(feature_group, version, project=project, timeout=timeout)
        if not rows:
            return WriteResult(0, 0, 0)
        request = online_service_pb2.WriteRowsRequest(
            project=group.project,
            feature_group=types_pb2.FeatureGroupRef(name=group.name, version=group.version),
            columns=rows_to_columns(group.columns, rows),
            durability=_DURABILITY[durability],
        )
        key = ("group", group.project, group.name, group.version)
        # WriteRows is an upsert by (primary key, event time): repeating it after UNAVAILABLE gives the same rows.
        reply = self._online_first(key, lambda: self._call("/granary.online.v1.OnlineService/WriteRows", self.online.WriteRows, request, idempotent=False, timeout=timeout))
        return WriteResult(reply.written_count, reply.ignored_count, reply.log_sequence)

    # ---- online lookups -----------------------------------------------------------------------

    def get_feature_vector(
        self,
        feature_view: str,
        version: int,
        entry: Row,
        *,
        passed_features: Optional[Row] = None,
        request_parameters: Optional[Row] = None,
        project: Optional[str] = None,
        training_dataset_version: int = 0,
        untransformed: bool = False,
        include_inference_helpers: bool = False,
        min_log_sequence: int = 0,
        timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """One feature vector as a dict in the view's column order, keyed by the view's serving
        keys (``{"cc_num": 1}``). A key with no row gives None values, not an error (see
        get_feature_vectors_with_status for why a value is None). `passed_features` override
        stored values; `request_parameters` are inputs of on-demand features."""
        return self.get_feature_vectors_with_status(
            feature_view,
            version,
            [entry],
            passed_features=None if passed_features is None else [passed_features],
            request_parameters=None if request_parameters is None else [request_parameters],
            project=project,
            training_dataset_version=training_dataset_version,
            untransformed=untransformed,
            include_inference_helpers=include_inference_helpers,
            min_log_sequence=min_log_sequence,
            timeout=timeout,
        ).rows[0]

    def get_feature_vectors(
        self,
        feature_view: str,
        version: int,
        entries: Sequence[Row],
        *,
        passed_features: Optional[Sequence[Row]] = None,
        request_parameters: Optional[Sequence[Row]] = None,
        project: Optional[str] = None,
        training_dataset_version: int = 0,
        untransformed: bool = False,
        include_inference_helpers: bool = False,
        min_log_sequence: int = 0,
        timeout: Optional[float] = None,
    ) -> List[Dict[str, Any]]:
        """Feature vectors of many entities in one call, one dict per entry, in order.
        `passed_features` and `request_parameters` take one dict per entry."""
        return self.get_feature_vectors_with_status(
            feature_view,
            version,
            entries,
            passed_features=passed_features,
            request_parameters=request_parameters,
            project=project,
            training_dataset_version=training_dataset_version,
            untransformed=untransformed,
            include_inference_helpers=include_inference_helpers,
            min_log_sequence=min_log_sequence,
            timeout=timeout,
        ).rows

    def get_feature_vectors_with_status(
        self,
        feature_view: str,
        version: int,
        entries: Sequence[Row],
        *,
        passed_features: Optional[Sequence[Row]] = None,
        request_parameters: Optional[Sequence[Row]] = None,
        project: Optional[str] = None,
        training_dataset_version: int = 0,
        untransformed: bool = False,
        include_inference_helpers: bool = False,
        min_log_sequence: int = 0,
        timeout: Optional[float] = None,
    ) -> VectorsWithStatus:
        """As get_feature_vectors, with each value's status (PRESENT, NULL, NOT_FOUND, EXPIRED).
        `min_log_sequence` (a WriteResult.log_sequence) reads your own write on any replica."""
        view = self.feature_view(feature_view, version, project=project, timeout=timeout)
        request = online_service_pb2.GetFeatureVectorsRequest(
            project=view.project,
            feature_view=types_pb2.FeatureViewRef(name=view.name, version=view.version),
            entities=entity_rows(view, entries, passed_features, request_parameters),
            options=online_service_pb2.FeatureVectorOptions(
                untransformed=untransformed,
                include_inference_helpers=include_inference_helpers,
                training_dataset_version=training_dataset_version,
                min_log_sequence=min_log_sequence,
            ),
        )
        key = ("view", view.project, view.name, view.version)
        reply = self._online_first(
            key, lambda: self._call("/granary.online.v1.OnlineService/GetFeatureVectors", self.online.GetFeatureVectors, request, idempotent=True, timeout=timeout)
        )
        return VectorsWithStatus(vectors_to_rows(reply.vectors), vectors_to_statuses(reply.vectors))

    # ---- similarity search, feature logging, drift ---------------------------------------------

    def find_neighbors(
        self,
        column: str,
        query: Sequence[float],
        k: int = 10,
        *,
        feature_view: Optional[str] = None,
        feature_group: Optional[str] = None,
        version: int = 0,
        where: Optional[Mapping[str, Any]] = None,
        include_vectors: bool = False,
        exact: bool = False,
        project: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> List[Dict[str, Any]]:
        """The `k` entities whose embedding in `column` (indexed: see the group's embedding_indexes)
        is nearest `query`, nearest first, as dicts ``{"key": {...}, "distance": d}``; with
        `include_vectors`, also ``"vector"`` (the view's feature vector, or the group's row) and
        ``"statuses"``. Name either a `feature_view` (keys are its serving keys) or a
        `feature_group` (keys are its primary key). `where` keeps rows whose columns equal the
        given values (columns of the indexed group); `exact` searches every row without the index."""
        if (feature_view is None) == (feature_group is None):
            raise ValueError("give exactly one of feature_view or feature_group")
        request = online_service_pb2.FindNeighborsRequest(column=column, query=[float(x) for x in query], k=k, include_vectors=include_vectors, exact=exact)
        if feature_view is not None:
            view = self.feature_view(feature_view, version, project=project, timeout=timeout)
            request.project = view.project
            request.feature_view.CopyFrom(types_pb2.FeatureViewRef(name=view.name, version=view.version))
            source = next((c.feature_group for c in view.output_columns if c.name == column and c.HasField("feature_group")), None)
            group = self.feature_group(source.name, source.version, project=project, timeout=timeout) if source is not None and where else None
            key = ("view", view.project, view.name, view.version)
        else:
            group = self.feature_group(feature_group, version, project=project, timeout=timeout)  # type: ignore[arg-type]
            request.project = group.project
            request.feature_group.CopyFrom(types_pb2.FeatureGroupRef(name=group.name, version=group.version))
            key = ("group", group.project, group.name, group.version)
        if where:
            types = {c.name: c.type for c in group.columns} if group is not None else {}
            filter_ = monitoring.equality_filter(types, where, f'the group of "{column}"')
            if filter_ is not None:
                request.filter.CopyFrom(filter_)
        reply = self._online_first(
            key, lambda: self._call("/granary.online.v1.OnlineService/FindNeighbors", self.online.FindNeighbors, request, idempotent=True, timeout=timeout)
        )
        return monitoring.neighbors_from_reply(reply, include_vectors)

    def log_features(
        self,
        feature_view: str,
        version: int,
        vectors: Sequence[Row],
        predictions: Optional[Sequence[Any]] = None,
        *,
        transformed: Optional[Sequence[Row]] = None,
        request_parameters: Optional[Sequence[Row]] = None,
        model: str = "",
        model_version: int = 0,
        training_dataset_version: int = 0,
        log_time: Any = None,
        project: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Appends served vectors and the predictions made from them to the view version's logging
        feature group ("<view>_<version>_logging", created on first use) as one offline commit.
        `vectors`: one dict per vector of serving keys and untransformed features; `predictions`:
        one value per vector (for the view's only label, or "prediction") or one dict of label ->
        value; `transformed`: the model's inputs by output column; `log_time`: when they were
        served (default now). Returns ``{"logged": n, "commit_id": id, "logging_feature_group": {...}}``."""
        view = self.feature_view(feature_view, version, project=project, timeout=timeout)
        request = monitoring.log_features_request(
            view,
            vectors,
            predictions,
            transformed=transformed,
            request_parameters=request_parameters,
            model=model,
            model_version=model_version,
            training_dataset_version=training_dataset_version,
            log_time=log_time,
        )
        # Not idempotent: a repeated call after a lost answer logs the vectors twice.
        reply = self._call("/granary.offline.v1.OfflineService/LogFeatures", self.offline.LogFeatures, request, idempotent=False, timeout=timeout)
        group = reply.logging_feature_group
        return {"logged": reply.logged_count, "commit_id": reply.commit_id, "logging_feature_group": {"name": group.name, "version": group.version}}

    def compute_drift(
        self,
        feature_view: str,
        version: int,
        *,
        start: Any,
        end: Any = None,
        training_dataset_version: Optional[int] = None,
        reference_start: Any = None,
        reference_end: Any = None,
        columns: Sequence[str] = (),
        project: Optional[str] = None,
        timeout: Optional[float] = None,
    ) -> Dict[str, Any]:
        """Drift of the view version's logged vectors with log time in [start, end) (end None:
        now) against a training dataset version (None or 0: the latest) or the logs of
        [reference_start, reference_end). The report is stored and returned as a dict (see
        monitoring.report_to_dict): ``report["status"]`` is "OK", "DRIFT" or "INSUFFICIENT_DATA",
        ``report["features"]`` has psi, ks, null shares and a status per feature."""
        view = self.feature_view(feature_view, version, project=project, timeout=timeout)
        request = monitoring.compute_drift_request(
            view,
            start=start,
            end=end,
            training_dataset_version=training_dataset_version,
            reference_start=reference_start,
            reference_end=reference_end,
            columns=columns,
        )
        reply = self._call("/granary.offline.v1.OfflineService/ComputeDrift", self.offline.ComputeDrift, request, idempotent=False, timeout=timeout)
        return monitoring.report_to_dict(reply.report)

    def monitoring_reports(self, feature_view: str, version: int, *, limit: int = 20, project: Optional[str] = None, timeout: Optional[float] = None) -> List[Dict[str, Any]]:
        """The view version's stored drift reports, newest first (at most `limit`), as dicts."""
        view = self.feature_view(feature_view, version, project=project, timeout=timeout)
        request = metadata_service_pb2.ListMonitoringReportsRequest(
            project=view.project, feature_view=types_pb2.FeatureViewRef(name=view.name, version=view.version), page_size=limit
        )
        reply = self._call("/granary.metadata.v1.MetadataService/ListMonitoringReports", self.metadata.ListMonitoringReports, request, idempotent=True, timeout=timeout)
        return [monitoring.report_to_dict(r) for r in reply.reports[:limit]]

    # ---- definitions --------------------------------------------------------------------------

    def feature_group(self, name: str, version: int, *, project: Optional[str] = None, timeout: Optional[float] = None) -> feature_group_pb2.FeatureGroup:
        """A feature group's definition (version 0: the latest), from the metadata service; a
        given version is kept for the client's life."""
        project = self._project(project)
        cached = self._groups.get((project, name, version))
        if cached is not None:
            return cached
        request = metadata_service_pb2.GetFeatureGroupRequest(project=project, name=name, version=version)
        group = self._call("/granary.metadata.v1.MetadataService/GetFeatureGroup", self.metadata.GetFeatureGroup, request, idempotent=True, timeout=timeout).feature_group
        if version:
            self._groups[(project, name, version)] = group
        return group

    def feature_view(self, name: str, version: int, *, project: Optional[str] = None, timeout: Optional[float] = None) -> feature_view_pb2.FeatureView:
        """A feature view's definition (version 0: the latest), from the metadata service; a given
        version is kept for the client's life (pass one on the hot path: 0 costs a call each time)."""
        project = self._project(project)
        cached = self._views.get((project, name, version))
        if cached is not None:
            return cached
        request = metadata_service_pb2.GetFeatureViewRequest(project=project, name=name, version=version)
        view = self._call("/granary.metadata.v1.MetadataService/GetFeatureView", self.metadata.GetFeatureView, request, idempotent=True, timeout=timeout).feature_view
        if version:
            self._views[(project, name, version)] = view
        return view

    # ---- any RPC ------------------------------------------------------------------------------

    def call(self, stub_method: Callable[..., T], request: Any, *, idempotent: bool = False, timeout: Optional[float] = None) -> T:
        """One unary RPC of the generated stubs with this client's timeout, retries and errors:
        ``client.call(client.metadata.CreateProject, CreateProjectRequest(name="fraud"))``. Pass
        `idempotent=True` for a read, so that DEADLINE_EXCEEDED is retried too."""
        # The method's path, for GranaryError.method: a private attribute of grpcio's callables, so best effort.
        method = getattr(stub_method, "_method", None)
        name = method.decode() if isinstance(method, bytes) else method if isinstance(method, str) else None
        return self._call(name, stub_method, request, idempotent=idempotent, timeout=timeout)

    # ---- health and lifecycle -----------------------------------------------------------------

    def health(self, services: Iterable[str] = SERVICES, timeout: float = 2.0) -> Dict[str, str]:
        """grpc.health.v1 Check of each service, never raising: "SERVING", "NOT_SERVING",
        "SERVICE_UNKNOWN", "UNKNOWN", "UNREACHABLE" (no answer: UNAVAILABLE or DEADLINE_EXCEEDED),
        or the status code's name when the check itself is refused (e.g. "UNAUTHENTICATED")."""
        statuses: Dict[str, str] = {}
        for service in services:
            try:
                reply = self.health_stub(service).Check(health_pb2.HealthCheckRequest(service=SERVICE_NAMES[service]), timeout=timeout)
                statuses[service] = health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
            except grpc.RpcError as err:
                code = err.code()  # type: ignore[attr-defined]
                unreachable = code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED)
                statuses[service] = "UNREACHABLE" if unreachable else code.name
        return statuses

    def wait_until_serving(self, timeout: float = 30.0) -> Dict[str, str]:
        """Polls health() until every service is SERVING; raises TimeoutError naming those that are not."""
        until = time.monotonic() + timeout
        delay = 0.1
        while True:
            report = self.health()
            if all(status == "SERVING" for status in report.values()):
                return report
            if time.monotonic() + delay > until:
                down = ", ".join(f"{s} ({self.addresses[s]}) {st}" for s, st in report.items() if st != "SERVING")
                raise TimeoutError(f"not SERVING after {timeout} s: {down}")
            time.sleep(delay)
            delay = min(delay * 2, 1.0)

    def channel(self, service: str) -> grpc.Channel:
        """The channel of one service: "metadata", "online", "offline" or "registry"."""
        return self._channels[self.addresses[service]]

    def health_stub(self, service: str) -> health_pb2_grpc.HealthStub:
        """A grpc.health.v1.Health stub on one service's address."""
        return health_pb2_grpc.HealthStub(self.channel(service))

    def close(self) -> None:
        for channel in self._raw.values():
            channel.close()

    def __enter__(self) -> "Granary":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- internals ----------------------------------------------------------------------------

    def _project(self, project: Optional[str]) -> str:
        chosen = project or self.project
        if not chosen:
            raise ValueError("no project: pass project=, or connect(project=...), or set GRANARY_PROJECT")
        return chosen

    def _call(self, method: Optional[str], stub_method: Callable[..., T], request: Any, *, idempotent: bool, timeout: Optional[float]) -> T:
        seconds = self.timeout if timeout is None else timeout
        try:
            return call_with_retries(lambda: stub_method(request, timeout=seconds), idempotent=idempotent, policy=self.retry)
        except grpc.RpcError as err:
            raise from_rpc_error(err, method, self._key_hint) from err

    def _online_first(self, key: Tuple[Any, ...], call: Callable[[], T]) -> T:
        """The online service learns definitions from the metadata change stream moments after they
        are written: the first call for a group or view retries NOT_FOUND for up to catalogue_wait
        seconds, so that create-then-use works; later calls fail at once."""
        if key in self._known_online:
            return call()
        until = time.monotonic() + self._catalogue_wait
        delay = 0.01
        while True:
            try:
                result = call()
                self._known_online.add(key)
                return result
            except NotFoundError:
                if time.monotonic() + delay > until:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.5)


def entity_rows(
    view: feature_view_pb2.FeatureView,
    entries: Sequence[Row],
    passed_features: Optional[Sequence[Row]] = None,
    request_parameters: Optional[Sequence[Row]] = None,
) -> online_service_pb2.EntityRows:
    """The request rows of a lookup of `view`, typed by its serving keys, output columns and
    on-demand request parameters. Raises ValueError for a missing required serving key, a name the
    view does not have, or a passed list whose length is not the entries'."""
    keys = {k.name: k for k in view.serving_keys}
    for entry in entries:
        unknown = [name for name in entry if name not in keys]
        if unknown:
            raise ValueError(f'"{unknown[0]}" is not a serving key of view "{view.name}" (serving keys: {", ".join(keys)})')
    serving: List[types_pb2.NamedColumn] = []
    for key in view.serving_keys:
        if not any(key.name in entry for entry in entries):
            if key.required:
                required = ", ".join(k.name for k in view.serving_keys if k.required)
                raise ValueError(f'serving key "{key.name}" is missing: give {required}')
            continue
        values = [entry.get(key.name) for entry in entries]
        serving.append(types_pb2.NamedColumn(name=key.name, data=column_of(key.type, values, key.name)))

    def per_entry(rows: Optional[Sequence[Row]], what: str) -> Sequence[Row]:
        if rows is None:
            return []
        if isinstance(rows, Mapping):
            raise TypeError(f"{what} of a batch lookup take one dict per entry (a list), got a dict")
        if len(rows) != len(entries):
            raise ValueError(f"{len(rows)} {what} rows for {len(entries)} entries")
        return rows

    passed = per_entry(passed_features, "passed_features")
    params = per_entry(request_parameters, "request_parameters")
    output_types = {c.name: c.type for c in view.output_columns}
    param_types = {p.name: p.type for f in view.on_demand_features for p in f.request_parameters}
    return online_service_pb2.EntityRows(
        row_count=len(entries),
        serving_keys=serving,
        passed_features=named_columns(output_types, passed, f'passed feature of view "{view.name}"') if passed else [],
        request_parameters=named_columns(param_types, params, f'request parameter of view "{view.name}"') if params else [],
    )


connect = Granary.connect
"""Granary.connect(...): see there."""


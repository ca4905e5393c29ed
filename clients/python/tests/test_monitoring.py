"""Feature logging, drift and neighbour requests and answers, without a server."""

from __future__ import annotations

import datetime as dt
import unittest

from granary_feature_store.monitoring import compute_drift_request, equality_filter, log_features_request, neighbors_from_reply, report_to_dict
from granary_feature_store.proto.granary.metadata.v1 import feature_view_pb2, monitoring_pb2
from granary_feature_store.proto.granary.online.v1 import online_service_pb2
from granary_feature_store.proto.granary.types.v1 import types_pb2
from granary_feature_store.values import decode

S = types_pb2.ScalarType
FV = feature_view_pb2


def t(scalar: int, list_: bool = False) -> types_pb2.DataType:
    return types_pb2.DataType(scalar=scalar, list=list_)


VIEW = FV.FeatureView(
    project="shop",
    name="fraud",
    version=2,
    serving_keys=[FV.ServingKey(name="cc_num", type=t(S.SCALAR_TYPE_INT64), required=True)],
    output_columns=[
        FV.OutputColumn(name="amount", type=t(S.SCALAR_TYPE_DOUBLE), transformation=FV.TRANSFORMATION_FUNCTION_STANDARD_SCALER),
        FV.OutputColumn(name="category", type=t(S.SCALAR_TYPE_STRING), transformation=FV.TRANSFORMATION_FUNCTION_LABEL_ENCODER),
        FV.OutputColumn(name="is_fraud", type=t(S.SCALAR_TYPE_BOOL), role=FV.COLUMN_ROLE_LABEL),
    ],
)


class LogFeatures(unittest.TestCase):
    def test_splits_vectors_into_keys_and_features_typed_by_the_view(self) -> None:
        when = dt.datetime(2026, 12, 7, 10, 0, tzinfo=dt.timezone.utc)
        req = log_features_request(
            VIEW,
            [{"cc_num": 1, "amount": 12.5, "category": "food"}, {"cc_num": 2, "amount": None, "category": "fuel"}],
            [True, False],
            transformed=[{"amount": 0.3, "category": 1}, {"amount": None, "category": 0}],
            model="fraud_model",
            model_version=3,
            log_time=when,
        )
        self.assertEqual((req.project, req.feature_view.name, req.feature_view.version, req.row_count), ("shop", "fraud", 2, 2))
        self.assertEqual([(c.name, decode(c.data)) for c in req.serving_keys], [("cc_num", [1, 2])])
        self.assertEqual([(c.name, decode(c.data)) for c in req.untransformed], [("amount", [12.5, None]), ("category", ["food", "fuel"])])
        self.assertEqual(req.untransformed[0].data.WhichOneof("values"), "doubles")
        # label_encoder gives int64, the scalers double: as the logging group holds them.
        self.assertEqual([(c.name, c.data.WhichOneof("values"), decode(c.data)) for c in req.transformed], [("amount", "doubles", [0.3, None]), ("category", "int64s", [1, 0])])
        self.assertEqual([(c.name, decode(c.data)) for c in req.predictions], [("is_fraud", [True, False])])
        self.assertEqual((req.model, req.model_version, req.source), ("fraud_model", 3, "client"))
        self.assertEqual(req.log_time.seconds, int(when.timestamp()))

    def test_refuses_unknown_names_and_mismatched_lengths_before_sending(self) -> None:
        with self.assertRaisesRegex(ValueError, '"is_fraud" is neither a serving key nor a feature'):
            log_features_request(VIEW, [{"cc_num": 1, "is_fraud": True}])
        with self.assertRaisesRegex(ValueError, "1 predictions for 2 vectors"):
            log_features_request(VIEW, [{"cc_num": 1}, {"cc_num": 2}], [True])
        with self.assertRaisesRegex(ValueError, "at least one vector"):
            log_features_request(VIEW, [])
        with self.assertRaises(TypeError):
            log_features_request(VIEW, [{"cc_num": "one"}])

    def test_a_view_without_labels_logs_one_double_prediction(self) -> None:
        view = FV.FeatureView(project="p", name="v", version=1, output_columns=[FV.OutputColumn(name="x", type=t(S.SCALAR_TYPE_INT32))])
        req = log_features_request(view, [{"x": 1}], [0.75])
        self.assertEqual([(c.name, c.data.WhichOneof("values"), decode(c.data)) for c in req.predictions], [("prediction", "doubles", [0.75])])


class Drift(unittest.TestCase):
    def test_builds_a_window_against_a_training_dataset_or_an_earlier_window(self) -> None:
        start = dt.datetime(2026, 12, 6, tzinfo=dt.timezone.utc)
        req = compute_drift_request(VIEW, start=start, training_dataset_version=1, columns=["amount"])
        self.assertEqual((req.window.start.seconds, req.window.HasField("end")), (int(start.timestamp()), False))
        self.assertEqual((req.WhichOneof("reference"), req.training_dataset_version, list(req.columns)), ("training_dataset_version", 1, ["amount"]))
        latest = compute_drift_request(VIEW, start=start, end=start + dt.timedelta(days=1))
        self.assertEqual((latest.WhichOneof("reference"), latest.training_dataset_version), ("training_dataset_version", 0))
        windowed = compute_drift_request(VIEW, start=start, reference_start=start - dt.timedelta(days=7), reference_end=start)
        self.assertEqual(windowed.WhichOneof("reference"), "reference_window")
        self.assertEqual(windowed.reference_window.end.seconds, int(start.timestamp()))
        with self.assertRaisesRegex(ValueError, "not both"):
            compute_drift_request(VIEW, start=start, training_dataset_version=1, reference_start=start, reference_end=start)
        with self.assertRaisesRegex(ValueError, "needs both"):
            compute_drift_request(VIEW, start=start, reference_start=start)

    def test_reads_a_report_as_a_dict_with_none_for_statistics_not_computed(self) -> None:
        report = monitoring_pb2.MonitoringReport(
            id=7,
            feature_view=types_pb2.FeatureViewRef(name="fraud", version=2),
            training_dataset_version=1,
            row_count=500,
            status=monitoring_pb2.DRIFT_STATUS_DRIFT,
            features=[
                monitoring_pb2.FeatureDrift(column="amount", psi=1.5, ks=0.4, status=monitoring_pb2.DRIFT_STATUS_DRIFT, exceeded=["psi", "ks"]),
                monitoring_pb2.FeatureDrift(column="category", categorical=True, psi=0.01, null_share=0.1, status=monitoring_pb2.DRIFT_STATUS_OK),
            ],
        )
        d = report_to_dict(report)
        self.assertEqual((d["id"], d["status"], d["reference"], d["row_count"]), (7, "DRIFT", {"training_dataset_version": 1}, 500))
        self.assertEqual(d["features"][0], {**d["features"][0], "psi": 1.5, "ks": 0.4, "status": "DRIFT", "exceeded": ["psi", "ks"]})
        self.assertEqual((d["features"][1]["ks"], d["features"][1]["null_share"], d["features"][1]["status"]), (None, 0.1, "OK"))


class Neighbors(unittest.TestCase):
    def test_filters_are_typed_by_the_group_and_anded(self) -> None:
        types = {"city": t(S.SCALAR_TYPE_STRING), "stars": t(S.SCALAR_TYPE_INT32)}
        one = equality_filter(types, {"city": "Oslo"}, "group g")
        assert one is not None
        self.assertEqual((one.condition.column, one.condition.value.string_value), ("city", "Oslo"))
        both = equality_filter(types, {"city": "Oslo", "stars": 4}, "group g")
        assert both is not None
        self.assertEqual([f.condition.value.WhichOneof("kind") for f in getattr(both, "and").filters], ["string_value", "int32_value"])
        self.assertIsNone(equality_filter(types, {}, "group g"))
        with self.assertRaisesRegex(ValueError, 'no column "town"'):
            equality_filter(types, {"town": "Oslo"}, "group g")
        with self.assertRaises(TypeError):
            equality_filter(types, {"stars": "four"}, "group g")

    def test_reads_keys_and_distances_nearest_first(self) -> None:
        reply = online_service_pb2.FindNeighborsResponse(
            count=2,
            keys=[types_pb2.NamedColumn(name="item_id", data=types_pb2.ColumnData(int64s=types_pb2.Int64Array(values=[5, 9])))],
            distances=[0.0, 0.25],
        )
        self.assertEqual(neighbors_from_reply(reply, False), [{"key": {"item_id": 5}, "distance": 0.0}, {"key": {"item_id": 9}, "distance": 0.25}])


if __name__ == "__main__":
    unittest.main()

"""Python values to ColumnData and back, by declared type (no server): python3 -m unittest discover -s tests."""

from __future__ import annotations

import datetime as dt
import unittest
from typing import Any, List, Tuple

from granary_feature_store.proto.granary.types.v1 import types_pb2
from granary_feature_store.values import column_of, decode, rows_to_columns, vectors_to_rows, vectors_to_statuses

S = types_pb2.ScalarType
UTC = dt.timezone.utc


def t(scalar: Any, list_: bool = False, dimension: int = 0) -> types_pb2.DataType:
    return types_pb2.DataType(scalar=scalar, list=list_, dimension=dimension)


class ScalarConversion(unittest.TestCase):
    def test_each_type_goes_to_its_own_array_and_back(self) -> None:
        when = dt.datetime(2024, 5, 6, 7, 8, 9, 123456, tzinfo=UTC)
        cases: List[Tuple[Any, str, List[Any], List[Any]]] = [
            (S.SCALAR_TYPE_BOOL, "bools", [True, False], [True, False]),
            (S.SCALAR_TYPE_INT32, "int32s", [1, -(2**31)], [1, -(2**31)]),
            (S.SCALAR_TYPE_INT64, "int64s", [2**62, -5], [2**62, -5]),
            (S.SCALAR_TYPE_FLOAT, "floats", [0.5, 2], [0.5, 2.0]),
            (S.SCALAR_TYPE_DOUBLE, "doubles", [0.1, 3], [0.1, 3.0]),
            (S.SCALAR_TYPE_STRING, "strings", ["gold", ""], ["gold", ""]),
            (S.SCALAR_TYPE_BYTES, "bytes", [b"\x00\xff", "é"], [b"\x00\xff", "é".encode()]),
            (S.SCALAR_TYPE_TIMESTAMP, "timestamps", [when], [when]),
            (S.SCALAR_TYPE_DATE, "dates", [dt.date(2024, 2, 29)], [dt.date(2024, 2, 29)]),
        ]
        for scalar, field, values, back in cases:
            with self.subTest(scalar=S.Name(scalar)):
                data = column_of(t(scalar), values, "c")
                self.assertEqual(data.WhichOneof("values"), field)
                self.assertEqual(decode(data), back)

    def test_none_is_a_null_with_the_zero_value_in_its_place(self) -> None:
        data = column_of(t(S.SCALAR_TYPE_DOUBLE), [1.5, None, 2.5], "score")
        self.assertEqual(list(data.null_indexes), [1])
        self.assertEqual(list(data.doubles.values), [1.5, 0.0, 2.5])
        self.assertEqual(decode(data), [1.5, None, 2.5])

    def test_timestamps_are_microseconds_since_the_epoch_naive_means_utc(self) -> None:
        aware = dt.datetime(1970, 1, 1, 0, 0, 1, 5, tzinfo=UTC)
        naive = dt.datetime(1970, 1, 1, 0, 0, 1, 5)
        paris = dt.datetime(1970, 1, 1, 1, 0, 1, 5, tzinfo=dt.timezone(dt.timedelta(hours=1)))
        data = column_of(t(S.SCALAR_TYPE_TIMESTAMP), [aware, naive, paris, dt.date(1970, 1, 2), 42], "ts")
        self.assertEqual(list(data.timestamps.values), [1_000_005, 1_000_005, 1_000_005, 86_400_000_000, 42])
        self.assertEqual(decode(data)[0].tzinfo, UTC)

    def test_dates_are_days_since_1970_and_a_datetime_counts_by_its_utc_date(self) -> None:
        late = dt.datetime(2000, 1, 1, 23, 30, tzinfo=dt.timezone(dt.timedelta(hours=-2)))  # 2000-01-02 01:30 UTC
        data = column_of(t(S.SCALAR_TYPE_DATE), [dt.date(1969, 12, 31), late, 3], "d")
        self.assertEqual(list(data.dates.values), [-1, 10958, 3])

    def test_int64_takes_decimal_strings_and_checks_its_range(self) -> None:
        self.assertEqual(list(column_of(t(S.SCALAR_TYPE_INT64), ["-12", 7], "id").int64s.values), [-12, 7])
        with self.assertRaisesRegex(ValueError, r'column "id" row 0: 9223372036854775808 is out of range'):
            column_of(t(S.SCALAR_TYPE_INT64), [2**63], "id")
        with self.assertRaisesRegex(ValueError, r'column "n" row 1: 2147483648 is out of range'):
            column_of(t(S.SCALAR_TYPE_INT32), [1, 2**31], "n")

    def test_a_value_of_the_wrong_type_names_the_column_and_the_row(self) -> None:
        wrong = [
            (S.SCALAR_TYPE_INT64, True, "expected an int, got bool True"),  # bool is not an int here
            (S.SCALAR_TYPE_INT64, 1.5, "expected an int, got float 1.5"),
            (S.SCALAR_TYPE_INT32, "1", "expected an int, got str '1'"),
            (S.SCALAR_TYPE_DOUBLE, "1.5", "expected a float or an int, got str"),
            (S.SCALAR_TYPE_DOUBLE, False, "expected a float or an int, got bool"),
            (S.SCALAR_TYPE_BOOL, 1, "expected a bool, got int 1"),
            (S.SCALAR_TYPE_STRING, 3, "expected a str, got int 3"),
            (S.SCALAR_TYPE_BYTES, 3, "expected bytes, got int"),
            (S.SCALAR_TYPE_TIMESTAMP, "2024-01-01", "expected a datetime, got str"),
            (S.SCALAR_TYPE_DATE, 1.0, "expected a date, got float"),
        ]
        for scalar, value, message in wrong:
            with self.subTest(scalar=S.Name(scalar), value=value):
                with self.assertRaisesRegex(TypeError, f'column "x" row 1: {message}'):
                    column_of(t(scalar), [None, value], "x")

    def test_a_float_column_refuses_what_a_32_bit_float_cannot_hold(self) -> None:
        with self.assertRaisesRegex(ValueError, "does not fit a 32-bit float"):
            column_of(t(S.SCALAR_TYPE_FLOAT), [1e39], "f")
        self.assertEqual(len(column_of(t(S.SCALAR_TYPE_FLOAT), [float("inf")], "f").floats.values), 1)

    def test_unspecified_type_is_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, 'column "x" has no scalar type'):
            column_of(t(S.SCALAR_TYPE_UNSPECIFIED), [1], "x")


class ListConversion(unittest.TestCase):
    def test_lists_are_offsets_over_typed_items_and_none_is_a_null_list(self) -> None:
        data = column_of(t(S.SCALAR_TYPE_FLOAT, list_=True), [[1.0, 2.0], None, [], (3.0,)], "emb")
        self.assertEqual(list(data.lists.offsets), [0, 2, 2, 2, 3])
        self.assertEqual(list(data.null_indexes), [1])
        self.assertEqual(data.lists.items.WhichOneof("values"), "floats")
        self.assertEqual(decode(data), [[1.0, 2.0], None, [], [3.0]])

    def test_list_items_are_values_and_a_fixed_dimension_is_checked(self) -> None:
        with self.assertRaisesRegex(ValueError, 'row 0: item 1 of the list is None'):
            column_of(t(S.SCALAR_TYPE_INT64, list_=True), [[1, None]], "ids")
        with self.assertRaisesRegex(ValueError, 'row 0: expected 3 items, got 2'):
            column_of(t(S.SCALAR_TYPE_FLOAT, list_=True, dimension=3), [[1.0, 2.0]], "emb")
        with self.assertRaisesRegex(TypeError, 'row 0: expected a list, got int'):
            column_of(t(S.SCALAR_TYPE_INT64, list_=True), [5], "ids")
        with self.assertRaisesRegex(TypeError, r'column "tags\[\]" row 1: expected a str'):
            column_of(t(S.SCALAR_TYPE_STRING, list_=True), [["a", 2]], "tags")


class Rows(unittest.TestCase):
    SCHEMA = [
        types_pb2.Column(name="id", type=t(S.SCALAR_TYPE_INT64)),
        types_pb2.Column(name="ts", type=t(S.SCALAR_TYPE_TIMESTAMP)),
        types_pb2.Column(name="score", type=t(S.SCALAR_TYPE_DOUBLE)),
        types_pb2.Column(name="unused", type=t(S.SCALAR_TYPE_STRING)),
    ]

    def test_dicts_become_columns_in_first_seen_order_and_a_missing_key_is_null(self) -> None:
        now = dt.datetime(2024, 1, 1, tzinfo=UTC)
        rows = rows_to_columns(self.SCHEMA, [{"id": 1, "ts": now, "score": 0.5}, {"ts": now, "id": 2}])
        self.assertEqual(rows.row_count, 2)
        self.assertEqual([c.name for c in rows.columns], ["id", "ts", "score"])
        self.assertEqual(decode(rows.columns[2].data), [0.5, None])

    def test_a_key_the_group_does_not_have_is_refused(self) -> None:
        with self.assertRaisesRegex(ValueError, 'column "sc0re" is not one of: id, ts, score, unused'):
            rows_to_columns(self.SCHEMA, [{"id": 1, "sc0re": 0.5}])


class Vectors(unittest.TestCase):
    def test_lookup_results_become_dicts_with_none_where_not_present(self) -> None:
        P, N, NF = types_pb2.VALUE_STATUS_PRESENT, types_pb2.VALUE_STATUS_NULL, types_pb2.VALUE_STATUS_NOT_FOUND
        from granary_feature_store.proto.granary.online.v1 import online_service_pb2 as online

        vectors = online.FeatureVectors(
            row_count=3,
            columns=[
                online.FeatureColumn(name="score", values=column_of(t(S.SCALAR_TYPE_DOUBLE), [0.5, None, None], "score"), statuses=[P, N, NF]),
                online.FeatureColumn(name="segment", values=column_of(t(S.SCALAR_TYPE_STRING), ["gold", "x", ""], "segment"), statuses=[P, P, NF]),
            ],
        )
        self.assertEqual(
            vectors_to_rows(vectors),
            [{"score": 0.5, "segment": "gold"}, {"score": None, "segment": "x"}, {"score": None, "segment": None}],
        )
        self.assertEqual(vectors_to_statuses(vectors)[2], {"score": "NOT_FOUND", "segment": "NOT_FOUND"})


if __name__ == "__main__":
    unittest.main()

#!/usr/bin/env python3
"""Publish feature rows straight to Granary's write log on NATS JetStream (docs/write-log.md).

One batch of card aggregates (group card_aggs version 1 of apps/cli/examples/fraud.yaml, project
fraud) goes to subject granary.fraud.card_aggs.v1 as a granary.types.v1.ColumnarRows protobuf; every
online replica applies it. A batch the consumers refuse lands in the dead letters with the reason:
`granary dead-letters fraud`.

    pip install nats-py          # protobuf too: python3-protobuf on Debian, or pip install protobuf
    granary apply apps/cli/examples/fraud.yaml
    GRANARY_NATS_URL=nats://127.0.0.1:4222 python3 clients/python/examples/publish_rows.py
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import sys
import uuid
from typing import Any, Dict, List, Optional

try:
    from granary_feature_store.proto.granary.types.v1 import types_pb2
except ImportError:  # run from the repository: the generated code is under clients/python/src
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src"))
    from granary_feature_store.proto.granary.types.v1 import types_pb2

PROJECT, GROUP, VERSION = "fraud", "card_aggs", 1
SUBJECT = f"granary.{PROJECT}.{GROUP}.v{VERSION}"  # granary.<project>.<group>.v<version>
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)


def column(rows: types_pb2.ColumnarRows, name: str, kind: str, values: List[Optional[Any]]) -> None:
    """One column: a typed array (ColumnData's oneof: int64s, int32s, doubles, strings, timestamps…)
    holding one value per row; a None is a null, listed in null_indexes with a zero in its place."""
    data = rows.columns.add(name=name).data
    getattr(data, kind).values.extend(0 if v is None else v for v in values)
    data.null_indexes.extend(i for i, v in enumerate(values) if v is None)


def card_aggs(cards: List[Dict[str, Any]]) -> types_pb2.ColumnarRows:
    """Rows as columns. Every column the batch leaves out is stored as null (or its default): a
    batch replaces whole rows. The primary key (cc_num) and the event time (ts) must be there."""
    rows = types_pb2.ColumnarRows(row_count=len(cards))
    column(rows, "cc_num", "int64s", [c["cc_num"] for c in cards])
    column(rows, "count_1h", "int32s", [c["count_1h"] for c in cards])
    column(rows, "spend_1h", "doubles", [c["spend_1h"] for c in cards])
    # Timestamps: microseconds since the epoch, UTC; dates would be days since 1970-01-01 ("dates").
    column(rows, "ts", "timestamps", [(c["ts"] - EPOCH) // dt.timedelta(microseconds=1) for c in cards])
    return rows


def headers(msg_id: str) -> Dict[str, str]:
    return {
        "Granary-Format": "granary.types.v1.ColumnarRows",
        "Granary-Kind": "upsert",  # "delete": the rows are then the primary-key columns only
        "Granary-Origin": "external",
        "Granary-Group-Version": str(VERSION),  # checked against the subject
        "Nats-Msg-Id": msg_id,  # a retry with the same id within 2 minutes is stored once
    }


async def main() -> None:
    import nats  # nats-py
    from nats.errors import TimeoutError as NatsTimeout

    now = dt.datetime.now(dt.timezone.utc)
    rows = card_aggs(
        [
            {"cc_num": 4_000_001, "count_1h": 3, "spend_1h": 120.5, "ts": now},
            {"cc_num": 4_000_002, "count_1h": 1, "spend_1h": None, "ts": now},
        ]
    )
    payload = rows.SerializeToString()  # at most 1 MiB with the headers: split bigger batches
    msg_id = str(uuid.uuid4())  # made once per batch, before the first attempt, so retries reuse it

    nc = await nats.connect(os.environ.get("GRANARY_NATS_URL", "nats://127.0.0.1:4222"))
    try:
        js = nc.jetstream()
        for attempt in range(3):
            try:
                # stream=: refused unless the subject is stored by Granary's stream.
                ack = await js.publish(SUBJECT, payload, headers=headers(msg_id), stream="GRANARY")
                break
            except NatsTimeout:
                if attempt == 2:
                    raise
    finally:
        await nc.close()
    # ack.seq is the log sequence: FeatureVectorOptions(min_log_sequence=ack.seq) reads this batch
    # on any online replica once it has applied it.
    print(f"{rows.row_count} rows stored in the write log as sequence {ack.seq}{' (a duplicate)' if ack.duplicate else ''}")


if __name__ == "__main__":
    asyncio.run(main())

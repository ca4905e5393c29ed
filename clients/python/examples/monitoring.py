"""Feature logging, drift and similarity search from Python, against a running suite.

    python3 examples/monitoring.py --metadata host:port ... --project p --view item_view --group items

Expects (test/e2e/python-client.test.ts makes them) a feature group `items` (item_id int64 key,
price double, category string, emb embedding<4> with a cosine index) whose item i has the embedding
[cos(i/100), sin(i/100), 0.5, 0], and a view `item_view` over it (no label) with a training dataset.
Logs a day like the training data and a shifted day, computes drift for both, searches neighbours,
and prints a JSON summary.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import random
import sys
from typing import Any, Dict, List

from granary_feature_store import Granary, GranaryError


def embedding(i: int) -> List[float]:
    return [math.cos(i / 100), math.sin(i / 100), 0.5, 0.0]


def day_of_vectors(seed: int, shifted: bool, n: int = 300) -> List[Dict[str, Any]]:
    r = random.Random(seed)
    out = []
    for i in range(1, n + 1):
        price = 70 + 20 * (r.random() + r.random() + r.random())
        out.append({"item_id": i, "price": price * 1.6 if shifted else price, "category": "tools" if shifted else r.choice(["books", "games", "tools"])})
    return out


def main() -> int:
    parser = argparse.ArgumentParser()
    for name in ("metadata", "online", "offline", "registry"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--project", required=True)
    parser.add_argument("--view", default="item_view")
    parser.add_argument("--group", default="items")
    args = parser.parse_args()
    summary: Dict[str, Any] = {}
    now = dt.datetime.now(dt.timezone.utc)
    normal = (now - dt.timedelta(days=3), now - dt.timedelta(days=2))
    shifted = (now - dt.timedelta(days=2), now - dt.timedelta(days=1))
    with Granary.connect(metadata=args.metadata, online=args.online, offline=args.offline, registry=args.registry, project=args.project) as client:
        for label, (start, _), seed, shift in (("normal", normal, 2, False), ("shifted", shifted, 3, True)):
            vectors = day_of_vectors(seed, shift)
            logged = client.log_features(
                args.view, 1, vectors, [v["price"] / 200 for v in vectors], model="price_model", model_version=1, log_time=start + dt.timedelta(hours=1)
            )
            summary[f"logged_{label}"] = logged
        for label, (start, end) in (("normal", normal), ("shifted", shifted)):
            report = client.compute_drift(args.view, 1, start=start, end=end, training_dataset_version=1, columns=["price", "category"])
            summary[f"drift_{label}"] = {
                "status": report["status"],
                "row_count": report["row_count"],
                "features": {f["column"]: {"status": f["status"], "psi": f["psi"], "ks": f["ks"]} for f in report["features"]},
            }
        summary["reports"] = [r["status"] for r in client.monitoring_reports(args.view, 1)]
        try:
            client.compute_drift(args.view, 1, start=shifted[0], columns=["no_such_column"])
        except GranaryError as err:
            summary["bad_column"] = {"class": type(err).__name__, "message": err.message}
        group = client.find_neighbors("emb", embedding(50), 3, feature_group=args.group, version=1)
        summary["neighbors_group"] = [{"item_id": n["key"]["item_id"], "distance": n["distance"]} for n in group]
        view = client.find_neighbors("emb", embedding(120), 2, feature_view=args.view, version=1, include_vectors=True)
        summary["neighbors_view"] = [{"item_id": n["key"]["item_id"], "category": n["vector"]["category"], "price": n["vector"]["price"]} for n in view]
        games = client.find_neighbors("emb", embedding(10), 5, feature_group=args.group, version=1, where={"category": "games"}, include_vectors=True)
        summary["neighbors_games"] = sorted({n["vector"]["category"] for n in games})
        summary["neighbors_games_count"] = len(games)
    json.dump(summary, sys.stdout, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())

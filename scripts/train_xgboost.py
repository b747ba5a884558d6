#!/usr/bin/python3
"""train_xgboost.py: train a small XGBoost model for Sluice's tests.

Run with Debian's /usr/bin/python3 (package python3-xgboost). Generates a
deterministic data set (4 numeric features, a binary label), trains a small
binary:logistic model, saves it as JSON, and writes xgboost's own
predictions for a fixed set of rows (some with missing values) so the C
provider can be checked against them.

    scripts/train_xgboost.py OUT_DIR
writes OUT_DIR/xgb_model.json and OUT_DIR/xgb_expected.json
({"rows": [[f0, f1, f2, f3|null], ...], "predictions": [p, ...]}).
"""
import json
import math
import os
import random
import sys

import numpy as np
import xgboost as xgb


def data(n, seed):
    rng = random.Random(seed)
    xs, ys = [], []
    for _ in range(n):
        row = [rng.uniform(-3, 3) for _ in range(4)]
        score = 1.5 * row[0] - row[1] + 0.5 * row[2] * row[3]
        ys.append(1 if score + rng.gauss(0, 0.5) > 0 else 0)
        xs.append(row)
    return xs, ys


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/data"
    os.makedirs(out, exist_ok=True)
    xs, ys = data(2000, 42)
    dtrain = xgb.DMatrix(np.array(xs, dtype=np.float32), label=np.array(ys))
    params = {"objective": "binary:logistic", "max_depth": 3, "eta": 0.3,
              "seed": 1, "nthread": 1, "tree_method": "exact"}
    booster = xgb.train(params, dtrain, num_boost_round=20)
    model_path = os.path.join(out, "xgb_model.json")
    booster.save_model(model_path)
    rows, _ = data(32, 7)
    rows = [[round(v, 4) for v in r] for r in rows]
    rows[3][2] = None
    rows[10][0] = None
    mat = np.array([[math.nan if v is None else v for v in r] for r in rows],
                   dtype=np.float32)
    preds = booster.predict(xgb.DMatrix(mat, missing=math.nan))
    with open(os.path.join(out, "xgb_expected.json"), "w") as f:
        json.dump({"rows": rows,
                   "predictions": [float(p) for p in preds]}, f)
    print("wrote %s (%d trees) and %d expected predictions"
          % (model_path, 20, len(rows)))


if __name__ == "__main__":
    main()

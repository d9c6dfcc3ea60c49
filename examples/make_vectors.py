#!/usr/bin/env python3
"""Writes examples/item_vectors.jsonl: one 16-dimensional embedding per product of
examples/products.csv, as `{"product_id": "p00001", "vector": [...]}`.

Deterministic (fixed seed). The vectors stand in for embeddings a real shop would learn
from its catalogue and traffic: each is its category's direction plus a little of the
price level and some noise, so `similar(item_vecs, x, k)` finds products of x's category
first, nearest in price, and then products of related categories.
"""

import csv
import json
import math
import pathlib
import random

SEED = 16
DIM = 16

# Categories that shoppers buy together share part of their direction.
RELATED = {
    "running shoes": ["socks", "sports watches"],
    "sneakers": ["socks", "t-shirts"],
    "t-shirts": ["hoodies", "jeans"],
    "hoodies": ["t-shirts", "jackets"],
    "jeans": ["t-shirts", "sneakers"],
    "jackets": ["hoodies", "backpacks"],
    "backpacks": ["jackets", "headphones"],
    "socks": ["running shoes", "sneakers"],
    "sports watches": ["running shoes", "headphones"],
    "headphones": ["sports watches", "backpacks"],
}


def unit(v):
    n = math.sqrt(sum(x * x for x in v))
    return [x / n for x in v]


def main() -> None:
    here = pathlib.Path(__file__).parent
    rng = random.Random(SEED)
    with (here / "products.csv").open(newline="") as f:
        rows = list(csv.DictReader(f))

    categories = sorted({r["category"] for r in rows})
    base = {c: unit([rng.gauss(0, 1) for _ in range(DIM)]) for c in categories}
    centre = {
        c: unit([base[c][i] + 0.35 * sum(base[o][i] for o in RELATED[c]) for i in range(DIM)])
        for c in categories
    }
    price_axis = unit([rng.gauss(0, 1) for _ in range(DIM)])
    prices = {}
    for r in rows:
        prices.setdefault(r["category"], []).append(float(r["price"]))

    out = here / "item_vectors.jsonl"
    with out.open("w") as f:
        for r in rows:
            ps = prices[r["category"]]
            lo, hi = min(ps), max(ps)
            level = (float(r["price"]) - lo) / (hi - lo) - 0.5 if hi > lo else 0.0
            v = [
                centre[r["category"]][i] + 0.3 * level * price_axis[i] + rng.gauss(0, 0.12)
                for i in range(DIM)
            ]
            vec = [round(x, 4) for x in v]
            f.write(json.dumps({"product_id": r["product_id"], "vector": vec}) + "\n")
    print(f"wrote {len(rows)} vectors to {out}")


if __name__ == "__main__":
    main()

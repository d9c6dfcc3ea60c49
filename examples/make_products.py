#!/usr/bin/env python3
"""Writes examples/products.csv: the sample shop's catalogue of 200 products.

Deterministic (fixed seed): running it again gives the same file byte for byte.
Ids are p00001 ... p00200. Products come in blocks of 20 per category, in the order of
CATEGORIES below (p00001-p00020 are running shoes, p00021-p00040 sneakers, ...), so a
generator of events can derive a product's category from its id alone.
"""

import csv
import pathlib
import random

SEED = 20261127

# (category, base price, price spread, name words)
CATEGORIES = [
    ("running shoes", 89.0, 60.0, ["Trail Runner", "Road Racer", "Cloud Glide", "Tempo", "Marathon Pro"]),
    ("sneakers", 69.0, 50.0, ["Court Classic", "Low Top", "High Top", "Retro 85", "Canvas Slip-On"]),
    ("t-shirts", 19.0, 15.0, ["Crew Neck Tee", "V-Neck Tee", "Pocket Tee", "Graphic Tee", "Tech Tee"]),
    ("hoodies", 49.0, 30.0, ["Zip Hoodie", "Pullover Hoodie", "Fleece Hoodie", "Oversized Hoodie", "Tech Hoodie"]),
    ("jeans", 59.0, 40.0, ["Slim Jeans", "Straight Jeans", "Relaxed Jeans", "Skinny Jeans", "Bootcut Jeans"]),
    ("jackets", 119.0, 120.0, ["Rain Jacket", "Puffer Jacket", "Denim Jacket", "Windbreaker", "Softshell Jacket"]),
    ("backpacks", 45.0, 55.0, ["Daypack", "Commuter Pack", "Hiking Pack", "Laptop Backpack", "Roll-Top Pack"]),
    ("socks", 9.0, 10.0, ["Running Socks 3-Pack", "Crew Socks 5-Pack", "Wool Socks", "Ankle Socks 6-Pack", "Compression Socks"]),
    ("sports watches", 149.0, 250.0, ["GPS Watch", "Fitness Band", "Multisport Watch", "Smartwatch", "Dive Watch"]),
    ("headphones", 79.0, 170.0, ["Wireless Earbuds", "Sport Earbuds", "Over-Ear Headphones", "Bone Conduction", "Noise-Cancelling Headphones"]),
]
BRANDS = ["Northpeak", "Velo", "Stride", "Kestrel", "Alder", "Lumen", "Brisk", "Tidewater"]
COLOURS = ["black", "white", "navy", "grey", "red", "olive", "blue", "sand"]
PER_CATEGORY = 20


def main() -> None:
    rng = random.Random(SEED)
    out = pathlib.Path(__file__).with_name("products.csv")
    with out.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["product_id", "name", "category", "price"])
        n = 0
        names = set()
        for category, base, spread, words in CATEGORIES:
            for _ in range(PER_CATEGORY):
                n += 1
                name = None
                while name is None or name in names:
                    name = f"{rng.choice(BRANDS)} {rng.choice(words)}, {rng.choice(COLOURS)}"
                names.add(name)
                price = round(base + rng.random() * spread) - 0.01
                w.writerow([f"p{n:05}", name, category, f"{price:.2f}"])
    print(f"wrote {n} products to {out}")


if __name__ == "__main__":
    main()

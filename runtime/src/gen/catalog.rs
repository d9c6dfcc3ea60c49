//! The generated shop's catalogue: every product's category, name and price follow from
//! its id alone (not from the seed), so a run's events agree with a catalogue file.
//!
//! Products `p00001`–`p00200` have the categories of `examples/products.csv` (blocks of
//! 20 in the order of the first ten categories below); later ids spread over all twenty.
//! List prices are log-normal around each category's typical price and end in `.99`. On
//! any day a few products are on sale (10–30 % off), so the same product can be cheaper
//! tomorrow.

use std::io::{self, Write};

/// (category, typical price in euros, words for product names and searches)
const CATEGORIES: [(&str, f64, [&str; 5]); 20] = [
    (
        "running shoes",
        119.0,
        [
            "Trail Runner",
            "Road Racer",
            "Cloud Glide",
            "Tempo",
            "Marathon Pro",
        ],
    ),
    (
        "sneakers",
        94.0,
        [
            "Court Classic",
            "Low Top",
            "High Top",
            "Retro 85",
            "Canvas Slip-On",
        ],
    ),
    (
        "t-shirts",
        26.0,
        [
            "Crew Neck Tee",
            "V-Neck Tee",
            "Pocket Tee",
            "Graphic Tee",
            "Tech Tee",
        ],
    ),
    (
        "hoodies",
        64.0,
        [
            "Zip Hoodie",
            "Pullover Hoodie",
            "Fleece Hoodie",
            "Oversized Hoodie",
            "Tech Hoodie",
        ],
    ),
    (
        "jeans",
        79.0,
        [
            "Slim Jeans",
            "Straight Jeans",
            "Relaxed Jeans",
            "Skinny Jeans",
            "Bootcut Jeans",
        ],
    ),
    (
        "jackets",
        179.0,
        [
            "Rain Jacket",
            "Puffer Jacket",
            "Denim Jacket",
            "Windbreaker",
            "Softshell Jacket",
        ],
    ),
    (
        "backpacks",
        72.0,
        [
            "Daypack",
            "Commuter Pack",
            "Hiking Pack",
            "Laptop Backpack",
            "Roll-Top Pack",
        ],
    ),
    (
        "socks",
        14.0,
        [
            "Running Socks 3-Pack",
            "Crew Socks 5-Pack",
            "Wool Socks",
            "Ankle Socks 6-Pack",
            "Compression Socks",
        ],
    ),
    (
        "sports watches",
        274.0,
        [
            "GPS Watch",
            "Fitness Band",
            "Multisport Watch",
            "Smartwatch",
            "Dive Watch",
        ],
    ),
    (
        "headphones",
        164.0,
        [
            "Wireless Earbuds",
            "Sport Earbuds",
            "Over-Ear Headphones",
            "Bone Conduction",
            "Noise-Cancelling Headphones",
        ],
    ),
    (
        "yoga mats",
        39.0,
        [
            "Yoga Mat",
            "Travel Mat",
            "Cork Mat",
            "Thick Mat",
            "Grip Mat",
        ],
    ),
    (
        "water bottles",
        22.0,
        [
            "Steel Bottle",
            "Squeeze Bottle",
            "Insulated Bottle",
            "Filter Bottle",
            "Glass Bottle",
        ],
    ),
    (
        "sunglasses",
        89.0,
        [
            "Sport Shades",
            "Aviators",
            "Wraparounds",
            "Polarized Shades",
            "Cat-Eye Shades",
        ],
    ),
    (
        "caps",
        24.0,
        [
            "Running Cap",
            "Trucker Cap",
            "Dad Cap",
            "Bucket Hat",
            "Beanie",
        ],
    ),
    (
        "gloves",
        29.0,
        [
            "Running Gloves",
            "Touch Gloves",
            "Ski Gloves",
            "Cycling Gloves",
            "Liner Gloves",
        ],
    ),
    (
        "shorts",
        34.0,
        [
            "Running Shorts",
            "Cargo Shorts",
            "Swim Shorts",
            "Bike Shorts",
            "Training Shorts",
        ],
    ),
    (
        "leggings",
        49.0,
        [
            "Running Tights",
            "Yoga Leggings",
            "Winter Tights",
            "Capri Leggings",
            "Compression Tights",
        ],
    ),
    (
        "swimwear",
        44.0,
        [
            "Swimsuit",
            "Bikini",
            "Swim Trunks",
            "Rash Guard",
            "Wetsuit Top",
        ],
    ),
    (
        "bike helmets",
        99.0,
        [
            "Road Helmet",
            "MTB Helmet",
            "City Helmet",
            "Aero Helmet",
            "Kids Helmet",
        ],
    ),
    (
        "sports bags",
        54.0,
        ["Gym Bag", "Duffel", "Shoe Bag", "Sling Bag", "Weekender"],
    ),
];
const BRANDS: [&str; 8] = [
    "Northpeak",
    "Velo",
    "Stride",
    "Kestrel",
    "Alder",
    "Lumen",
    "Brisk",
    "Tidewater",
];
const COLOURS: [&str; 8] = [
    "black", "white", "navy", "grey", "red", "olive", "blue", "sand",
];

/// Products `p00001`–`p00200` keep `examples/products.csv`'s blocks of 20 per category.
const BLOCK_PRODUCTS: u32 = 200;

/// The number of categories.
pub const CATEGORY_COUNT: usize = CATEGORIES.len();

/// One product of the catalogue.
#[derive(Debug, Clone, PartialEq)]
pub struct Product {
    /// 1-based; written `p{id:05}`.
    pub id: u32,
    pub name: String,
    /// Index into the category names ([`category_name`]).
    pub category: usize,
    /// The list price in cents (before any sale).
    pub price_cents: u64,
}

/// A category's name.
pub fn category_name(category: usize) -> &'static str {
    CATEGORIES[category].0
}

/// A product's category.
pub fn category_of(id: u32) -> usize {
    if (1..=BLOCK_PRODUCTS).contains(&id) {
        ((id - 1) / 20) as usize
    } else {
        (mix(u64::from(id), 1) % CATEGORY_COUNT as u64) as usize
    }
}

/// A product's list price in cents: log-normal around its category's typical price
/// (σ = 0.35), whole euros minus a cent.
pub fn list_price_cents(id: u32) -> u64 {
    let typical = CATEGORIES[category_of(id)].1;
    let z = std_normal(mix(u64::from(id), 2), mix(u64::from(id), 3));
    let euros = (typical * (0.35 * z).exp()).round().max(1.0);
    euros as u64 * 100 - 1
}

/// A product's price on the day of `ts_ms` (UTC): the list price, or on about one day in
/// eight a sale price 10–30 % lower (ending in `.99` too).
pub fn price_cents_at(id: u32, ts_ms: i64) -> u64 {
    sale_price(id, ts_ms, list_price_cents(id))
}

/// [`price_cents_at`] given the product's list price.
pub(crate) fn sale_price(id: u32, ts_ms: i64, list: u64) -> u64 {
    let day = ts_ms.div_euclid(86_400_000) as u64;
    let h = mix(u64::from(id) ^ day.rotate_left(32), 4);
    if h & 7 != 0 {
        return list;
    }
    let off = 10 + 5 * ((h >> 8) % 5);
    let sale = list * (100 - off) / 100 / 100 * 100 + 99;
    sale.min(list)
}

/// The whole product record of an id.
pub fn product(id: u32) -> Product {
    let category = category_of(id);
    let h = mix(u64::from(id), 5);
    let words = &CATEGORIES[category].2;
    let name = format!(
        "{} {}, {}",
        BRANDS[(h % 8) as usize],
        words[((h >> 8) % 5) as usize],
        COLOURS[((h >> 16) % 8) as usize]
    );
    Product {
        id,
        name,
        category,
        price_cents: list_price_cents(id),
    }
}

/// A search a shopper interested in `category` might type (`r`: any random number).
pub fn search_query(category: usize, r: u64) -> String {
    let words = &CATEGORIES[category].2;
    match r % 4 {
        0 | 1 => CATEGORIES[category].0.to_string(),
        2 => words[((r >> 8) % 5) as usize].to_lowercase(),
        _ => format!(
            "{} {}",
            BRANDS[((r >> 16) % 8) as usize].to_lowercase(),
            CATEGORIES[category].0
        ),
    }
}

/// Writes the catalogue of products `1..=products` as CSV:
/// `product_id,name,category,price` (the columns of `examples/products.csv`).
pub fn write_catalog_csv(products: u32, out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "product_id,name,category,price")?;
    for id in 1..=products {
        let p = product(id);
        writeln!(
            out,
            "p{:05},\"{}\",{},{}.{:02}",
            id,
            p.name,
            category_name(p.category),
            p.price_cents / 100,
            p.price_cents % 100
        )?;
    }
    Ok(())
}

/// SplitMix64 of `x` in stream `k`: the deterministic hash behind every product attribute.
pub(crate) fn mix(x: u64, k: u64) -> u64 {
    let mut z = x
        .wrapping_add(k.wrapping_mul(0xA076_1D64_78BD_642F))
        .wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A standard normal number from two hashes (Box–Muller).
fn std_normal(a: u64, b: u64) -> f64 {
    let u1 = ((a >> 11) as f64 + 1.0) / (1u64 << 53) as f64;
    let u2 = (b >> 11) as f64 / (1u64 << 53) as f64;
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_products_follow_the_example_catalogue() {
        assert_eq!(category_name(category_of(1)), "running shoes");
        assert_eq!(category_name(category_of(20)), "running shoes");
        assert_eq!(category_name(category_of(21)), "sneakers");
        assert_eq!(category_name(category_of(200)), "headphones");
        let later: std::collections::BTreeSet<_> = (201..2000).map(category_of).collect();
        assert_eq!(later.len(), CATEGORY_COUNT);
    }

    #[test]
    fn prices_are_plausible_and_fixed() {
        for id in 1..5000 {
            let p = list_price_cents(id);
            assert_eq!(p % 100, 99);
            assert!((99..200_000).contains(&p), "{id}: {p}");
            assert_eq!(p, list_price_cents(id));
            let day = 1_795_737_600_000;
            let sale = price_cents_at(id, day);
            assert!(sale <= p && sale % 100 == 99);
        }
        // Socks are cheaper than watches, typically.
        let avg = |c: usize| {
            let ids: Vec<u32> = (1..4000).filter(|&i| category_of(i) == c).collect();
            ids.iter().map(|&i| list_price_cents(i)).sum::<u64>() / ids.len() as u64
        };
        assert!(avg(7) * 5 < avg(8));
        // About one product-day in eight is on sale.
        let on_sale = (1..=1000u32)
            .filter(|&id| price_cents_at(id, 0) < list_price_cents(id))
            .count();
        assert!((80..180).contains(&on_sale), "{on_sale}");
    }

    #[test]
    fn catalog_csv() {
        let mut out = Vec::new();
        write_catalog_csv(3, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[1].starts_with("p00001,\"") && lines[1].ends_with(".99"));
        assert!(lines[1].contains(",running shoes,"));
    }
}

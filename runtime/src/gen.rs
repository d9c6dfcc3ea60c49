//! `nudge gen`: realistic shop traffic as JSON lines, the same for the same seed.
//!
//! The events are those of `patterns/schema.nudge` (`SEARCH`, `VIEW`, `ADD_TO_CART`,
//! `PURCHASE`, type field `type`, time field `ts` in epoch ms). The shop is simulated in
//! event time:
//! - a pool of concurrent **sessions** (about one per 20 users, at most 5 000), each a
//!   burst of steps seconds to minutes apart; a user's sessions are hours apart (at least
//!   35 minutes, more than a 30-minute session gap);
//! - a **funnel**: 10 % of views put the product in the cart, 60 % of sessions with a
//!   cart end in an order (one `PURCHASE` per cart line, sharing an `order_id`), the
//!   others abandon the cart; searches open a third of the sessions, and some searches
//!   find nothing (the session ends);
//! - **products** drawn from a Zipf law, with the shopper staying in the category they
//!   browse most of the time and often coming back to the last product of their
//!   previous session; categories and prices come from [`catalog`] (prices change on
//!   sale days);
//! - a **day**: sessions start less often at night and most often in the evening, by the
//!   shop's clock (CET, UTC+1);
//! - a **channel** per session (`web`, `app`, or `email` for a mailing click), each user
//!   leaning to web or app.
//!
//! Lines come out in ts order, except that 5 % of events are stamped up to 2 s early
//! (never before the previous event of their own session). Optionally a share of lines is
//! **bad** (one of the dead-letter reasons of LANGUAGE.md §10, in equal parts) or
//! **late** (a valid `VIEW` a minute to an hour older than the newest line).

pub mod catalog;
mod lines;
mod zipf;

use crate::decode::DeadReason;
use lines::{line_head, push_cents, push_padded, push_product, push_u64, replace_value};
use lines::{Kind, Lines};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::io::{self, Write};
use zipf::ZipfTable;

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct GenConfig {
    pub users: u32,
    pub products: u32,
    /// Lines written, bad and late ones included.
    pub events: u64,
    pub seed: u64,
    /// The time the shop opens (epoch ms).
    pub start_ms: i64,
    /// Share of lines that are malformed (0.0–1.0).
    pub bad_share: f64,
    /// Share of lines that arrive late (0.0–1.0).
    pub late_share: f64,
}

impl Default for GenConfig {
    /// 10 000 users, the 200 products of `examples/products.csv`, 100 000 lines, seed 1,
    /// from 2026-11-27T00:00:00Z, no bad or late lines.
    fn default() -> Self {
        GenConfig {
            users: 10_000,
            products: 200,
            events: 100_000,
            seed: 1,
            start_ms: 1_795_737_600_000,
            bad_share: 0.0,
            late_share: 0.0,
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GenStats {
    /// Lines written.
    pub lines: u64,
    pub searches: u64,
    pub views: u64,
    pub carts: u64,
    /// `PURCHASE` lines (one per order line).
    pub purchases: u64,
    pub orders: u64,
    pub sessions: u64,
    /// Sessions that ended with something in the cart (ordered or abandoned).
    pub carted_sessions: u64,
    /// Late lines (valid `VIEW`s a minute to an hour older than the newest line).
    pub late: u64,
    /// Bad lines by the reason a decoder gives them.
    pub bad: BTreeMap<DeadReason, u64>,
    /// The smallest and greatest `ts` of the valid, timely lines.
    pub first_ts: i64,
    pub last_ts: i64,
}

impl GenStats {
    /// All bad lines.
    pub fn bad_total(&self) -> u64 {
        self.bad.values().sum()
    }
}

/// The most an event is stamped earlier than its place in the output.
pub const MAX_JITTER_MS: i64 = 2_000;

const P_CART: f64 = 0.10;
const P_ORDER: f64 = 0.60;
const P_END: f64 = 0.13;
const P_SEARCH_FIRST: f64 = 0.35;
const P_SEARCH: f64 = 0.06;
const P_SEARCH_GIVES_UP: f64 = 0.2;
const P_SAME_CATEGORY: f64 = 0.65;
const P_COME_BACK: f64 = 0.3;
const P_JITTER: f64 = 0.05;
/// Steps of a session are at least this far apart, so jitter never reorders a session.
const MIN_STEP_MS: i64 = 3_000;
const MIN_SESSION_GAP_MS: i64 = 35 * 60_000;

/// Writes `cfg.events` lines of shop traffic to `out`.
pub fn generate(cfg: &GenConfig, out: &mut impl Write) -> io::Result<GenStats> {
    let mut shop = Shop::new(cfg);
    let mut lines = Lines::default();
    let mut buf = Vec::with_capacity(1 << 16);
    while shop.stats.lines < cfg.events {
        let r: f64 = shop.rng.random();
        if r < cfg.bad_share {
            shop.bad_line(&mut lines);
        } else if r < cfg.bad_share + cfg.late_share && shop.stats.last_ts > i64::MIN {
            shop.late_line(&mut lines);
        } else {
            shop.step(&mut lines);
        }
        // A step may write several lines (an order); stop at exactly `events`.
        let mut start = 0;
        for &(end, kind) in &lines.marks {
            if shop.stats.lines == cfg.events {
                break;
            }
            shop.stats.count(kind);
            buf.extend_from_slice(&lines.text[start..end]);
            start = end;
        }
        lines.clear();
        if buf.len() >= 1 << 16 {
            out.write_all(&buf)?;
            buf.clear();
        }
    }
    out.write_all(&buf)?;
    out.flush()?;
    Ok(shop.stats)
}

impl GenStats {
    fn count(&mut self, kind: Kind) {
        self.lines += 1;
        let ts = match kind {
            Kind::Search(ts) => {
                self.searches += 1;
                ts
            }
            Kind::View(ts) => {
                self.views += 1;
                ts
            }
            Kind::Cart(ts) => {
                self.carts += 1;
                ts
            }
            Kind::Purchase(ts, first) => {
                self.purchases += 1;
                self.orders += u64::from(first);
                ts
            }
            Kind::Late => {
                self.late += 1;
                return;
            }
            Kind::Bad(reason) => {
                *self.bad.entry(reason).or_default() += 1;
                return;
            }
        };
        self.first_ts = self.first_ts.min(ts);
        self.last_ts = self.last_ts.max(ts);
    }
}

/// What a session does at its next step.
#[derive(Debug, Clone, Copy)]
enum Next {
    /// The slot is free: start a new session.
    Start,
    Search,
    View,
    /// Put the product just viewed in the cart, at this price.
    Cart(u32, u64),
    Checkout,
}

/// One slot of the pool of concurrent sessions.
#[derive(Debug, Clone)]
struct Session {
    user: u32,
    channel: &'static str,
    next: Next,
    /// Category of the last product seen or searched.
    category: Option<usize>,
    steps: u32,
    /// (product, price in cents, qty)
    cart: Vec<(u32, u64, u32)>,
}

/// The simulated shop.
struct Shop {
    start_ms: i64,
    rng: ChaCha8Rng,
    /// Popularity rank (0 = most popular) → product id.
    by_rank: Vec<u32>,
    zipf: ZipfTable,
    /// Per category: its product ids, most popular first, and a Zipf law over them.
    by_category: Vec<(Vec<u32>, ZipfTable)>,
    /// Per product id: its category and list price in cents.
    category: Vec<u8>,
    list_price: Vec<u64>,
    /// Keep a good line for bad lines to spoil.
    keep_template: bool,
    /// Per user: when they may start their next session (`i64::MAX` while in one).
    free_at: Vec<i64>,
    /// Per user: the last product they viewed (0: none).
    last_product: Vec<u32>,
    slots: Vec<Session>,
    /// (time of the next step, slot), earliest first.
    queue: BinaryHeap<Reverse<(i64, u32)>>,
    next_order: u64,
    stats: GenStats,
    /// The last good line written (without its line end), for bad lines to spoil.
    template: Vec<u8>,
}

impl Shop {
    fn new(cfg: &GenConfig) -> Shop {
        let mut rng = ChaCha8Rng::seed_from_u64(cfg.seed);
        let products = cfg.products.max(1);
        let users = cfg.users.max(1);
        let mut by_rank: Vec<u32> = (1..=products).collect();
        for i in (1..by_rank.len()).rev() {
            let j = rng.random_range(0..=i);
            by_rank.swap(i, j);
        }
        let category: Vec<u8> = (0..=products)
            .map(|id| catalog::category_of(id) as u8)
            .collect();
        let list_price: Vec<u64> = (0..=products).map(catalog::list_price_cents).collect();
        let mut ids_of: Vec<Vec<u32>> = vec![Vec::new(); catalog::CATEGORY_COUNT];
        for &id in &by_rank {
            ids_of[category[id as usize] as usize].push(id);
        }
        let by_category = ids_of
            .into_iter()
            .map(|ids| {
                let zipf = ZipfTable::new(ids.len(), 1.0);
                (ids, zipf)
            })
            .collect();
        let pool = (users / 20).clamp(1, 5_000);
        let mut queue = BinaryHeap::with_capacity(pool as usize);
        let mut slots = Vec::with_capacity(pool as usize);
        for slot in 0..pool {
            queue.push(Reverse((cfg.start_ms + rng.random_range(0..600_000), slot)));
            slots.push(Session {
                user: 0,
                channel: "web",
                next: Next::Start,
                category: None,
                steps: 0,
                cart: Vec::new(),
            });
        }
        Shop {
            start_ms: cfg.start_ms,
            zipf: ZipfTable::new(by_rank.len(), 1.07),
            category,
            list_price,
            keep_template: cfg.bad_share > 0.0,
            rng,
            by_rank,
            by_category,
            free_at: vec![i64::MIN; users as usize],
            last_product: vec![0; users as usize],
            slots,
            queue,
            next_order: 1,
            stats: GenStats {
                first_ts: i64::MAX,
                last_ts: i64::MIN,
                ..GenStats::default()
            },
            template: Vec::new(),
        }
    }

    /// Runs session steps, earliest first, until one writes something.
    fn step(&mut self, lines: &mut Lines) {
        while lines.marks.is_empty() {
            let Reverse((t, slot)) = *self.queue.peek().expect("the pool is never empty");
            let next = self.act(t, slot as usize, lines);
            // The slot stays in the queue with its new time: one sift, not two.
            *self.queue.peek_mut().expect("still there") = Reverse((next, slot));
        }
        if self.keep_template {
            let first = lines.marks[0].0 - 1;
            self.template.clear();
            self.template.extend_from_slice(&lines.text[..first]);
        }
    }

    /// Does the slot's next step at `t`; returns when the slot acts again.
    fn act(&mut self, t: i64, slot: usize, lines: &mut Lines) -> i64 {
        let ts = self.stamp(t);
        let text = &mut lines.text;
        match self.slots[slot].next {
            Next::Start => return self.start(t, slot),
            Next::Search => {
                let category = match self.slots[slot].category {
                    Some(c) => c,
                    None => {
                        let product = self.popular();
                        self.category_of(product)
                    }
                };
                let query = catalog::search_query(category, self.rng.random());
                let s = &mut self.slots[slot];
                s.category = Some(category);
                line_head(text, "SEARCH", ts, s.user, s.channel);
                text.extend_from_slice(b",\"query\":\"");
                text.extend_from_slice(query.as_bytes());
                text.extend_from_slice(b"\"}");
                lines.end(Kind::Search(ts));
                self.slots[slot].next = if self.rng.random_bool(P_SEARCH_GIVES_UP) {
                    self.end_session(t, slot)
                } else {
                    Next::View
                };
            }
            Next::View => {
                let product = self.pick_view(slot);
                let price = self.price_at(product, t);
                let category = self.category_of(product);
                let s = &mut self.slots[slot];
                s.category = Some(category);
                self.last_product[s.user as usize] = product;
                line_head(text, "VIEW", ts, s.user, s.channel);
                push_product(text, product, category, price);
                text.push(b'}');
                lines.end(Kind::View(ts));
                self.slots[slot].next = if self.rng.random_bool(P_CART) {
                    Next::Cart(product, price)
                } else {
                    self.after_step(t, slot)
                };
            }
            Next::Cart(product, price) => {
                let qty = match self.rng.random_range(0..100) {
                    0..80 => 1,
                    80..95 => 2,
                    _ => 3,
                };
                let s = &mut self.slots[slot];
                // The same product again adds to its cart line.
                match s.cart.iter_mut().find(|line| line.0 == product) {
                    Some(line) => line.2 += qty,
                    None => s.cart.push((product, price, qty)),
                }
                line_head(text, "ADD_TO_CART", ts, s.user, s.channel);
                push_product(text, product, self.category_of(product), price);
                text.extend_from_slice(b",\"qty\":");
                push_u64(text, u64::from(qty));
                text.push(b'}');
                lines.end(Kind::Cart(ts));
                self.slots[slot].next = self.after_step(t, slot);
            }
            Next::Checkout => {
                let order = self.next_order;
                self.next_order += 1;
                let s = &mut self.slots[slot];
                for (i, &(product, price, qty)) in s.cart.iter().enumerate() {
                    line_head(&mut lines.text, "PURCHASE", ts, s.user, s.channel);
                    let text = &mut lines.text;
                    text.extend_from_slice(b",\"order_id\":\"o");
                    push_padded(text, order, 9);
                    text.extend_from_slice(b"\",\"product_id\":\"p");
                    push_padded(text, u64::from(product), 5);
                    text.extend_from_slice(b"\",\"total\":");
                    push_cents(text, price * u64::from(qty));
                    text.push(b'}');
                    lines.end(Kind::Purchase(ts, i == 0));
                }
                s.cart.clear();
                self.free_user(t, slot);
                self.slots[slot].next = Next::Start;
            }
        }
        self.slots[slot].steps += 1;
        match self.slots[slot].next {
            Next::Start => {
                // The slot idles before its next session: briefly at the evening peak,
                // about eight times as long as a session in the small hours.
                let idle = 20_000.0 + 400_000.0 * (1.0 / activity(t) - 1.0);
                t + self.gap(idle, 1.0, 1_000, 6 * 3_600_000)
            }
            Next::Cart(..) => t + self.gap(20_000.0, 0.6, 5_000, 180_000),
            Next::Checkout => t + self.gap(90_000.0, 0.7, 20_000, 900_000),
            Next::Search | Next::View => t + self.gap(25_000.0, 0.9, MIN_STEP_MS, 900_000),
        }
    }

    /// Starts a session in `slot` for a user who is free; returns its first step's time.
    fn start(&mut self, t: i64, slot: usize) -> i64 {
        let users = self.free_at.len() as u32;
        let (mut user, mut free) = (0, i64::MAX);
        for _ in 0..16 {
            let u = self.rng.random_range(0..users);
            if self.free_at[u as usize] < free {
                (user, free) = (u, self.free_at[u as usize]);
            }
            if free <= t {
                break;
            }
        }
        if free == i64::MAX {
            // Everybody asked is shopping already: try again later.
            return t + 60_000;
        }
        self.free_at[user as usize] = i64::MAX;
        let app_lean = 0.15 + 0.6 * (catalog::mix(u64::from(user), 6) % 1000) as f64 / 1000.0;
        let channel = if self.rng.random_bool(0.05) {
            "email"
        } else if self.rng.random_bool(app_lean) {
            "app"
        } else {
            "web"
        };
        let next = if self.rng.random_bool(P_SEARCH_FIRST) {
            Next::Search
        } else {
            Next::View
        };
        let s = &mut self.slots[slot];
        s.user = user;
        s.channel = channel;
        s.next = next;
        s.category = None;
        s.steps = 0;
        s.cart.clear();
        self.stats.sessions += 1;
        t.max(free)
    }

    /// After a view that was not carted, or a cart: browse on, search, or end.
    fn after_step(&mut self, t: i64, slot: usize) -> Next {
        if self.rng.random_bool(P_END) {
            self.end_session(t, slot)
        } else if self.rng.random_bool(P_SEARCH) {
            Next::Search
        } else {
            Next::View
        }
    }

    /// The session ends; with a cart, it goes to the checkout or abandons the cart.
    fn end_session(&mut self, t: i64, slot: usize) -> Next {
        if !self.slots[slot].cart.is_empty() {
            self.stats.carted_sessions += 1;
            if self.rng.random_bool(P_ORDER) {
                return Next::Checkout;
            }
            self.slots[slot].cart.clear();
        }
        self.free_user(t, slot);
        Next::Start
    }

    /// The slot's user may shop again some hours after `t`.
    fn free_user(&mut self, t: i64, slot: usize) {
        let pause = self.gap(4.0 * 3_600_000.0, 0.8, MIN_SESSION_GAP_MS, 72 * 3_600_000);
        self.free_at[self.slots[slot].user as usize] = t + pause;
    }

    fn pick_view(&mut self, slot: usize) -> u32 {
        let s = &self.slots[slot];
        let last = self.last_product[s.user as usize];
        if s.steps == 0 && last != 0 && self.rng.random_bool(P_COME_BACK) {
            return last;
        }
        if let Some(c) = s.category {
            if self.rng.random_bool(P_SAME_CATEGORY) {
                let (ids, zipf) = &self.by_category[c];
                if !ids.is_empty() {
                    return ids[zipf.sample(&mut self.rng)];
                }
            }
        }
        self.popular()
    }

    /// A product drawn by popularity.
    fn popular(&mut self) -> u32 {
        self.by_rank[self.zipf.sample(&mut self.rng)]
    }

    fn category_of(&self, product: u32) -> usize {
        usize::from(self.category[product as usize])
    }

    /// A product's price on the day of `t` (see [`catalog::price_cents_at`]).
    fn price_at(&self, product: u32, t: i64) -> u64 {
        catalog::sale_price(product, t, self.list_price[product as usize])
    }

    /// A log-normal wait in ms (median, σ), clamped to `min..=max`.
    fn gap(&mut self, median: f64, sigma: f64, min: i64, max: i64) -> i64 {
        let z: f64 = self.rng.sample(rand_distr::StandardNormal);
        ((median * (sigma * z).exp()) as i64).clamp(min, max)
    }

    /// The ts written for an event at `t`: now and then up to 2 s early.
    fn stamp(&mut self, t: i64) -> i64 {
        if self.rng.random_bool(P_JITTER) {
            t - self.rng.random_range(0..MAX_JITTER_MS)
        } else {
            t
        }
    }

    /// A valid `VIEW` a minute to an hour older than the newest line.
    fn late_line(&mut self, lines: &mut Lines) {
        let ts = self.stats.last_ts - self.rng.random_range(60_000..3_600_000);
        let user = self.rng.random_range(0..self.free_at.len() as u32);
        let product = self.popular();
        let price = self.price_at(product, ts);
        line_head(&mut lines.text, "VIEW", ts, user, "web");
        push_product(&mut lines.text, product, self.category_of(product), price);
        lines.text.push(b'}');
        lines.end(Kind::Late);
    }

    /// A malformed line: a recent good line spoilt for one of five reasons.
    fn bad_line(&mut self, lines: &mut Lines) {
        if self.template.is_empty() {
            line_head(&mut self.template, "VIEW", self.start_ms, 0, "web");
            let price = catalog::list_price_cents(1);
            push_product(&mut self.template, 1, catalog::category_of(1), price);
            self.template.push(b'}');
        }
        let good = std::str::from_utf8(&self.template).expect("ASCII");
        let pick = self.rng.random_range(0..3);
        let (reason, bad) = match self.rng.random_range(0..5) {
            0 => (
                DeadReason::InvalidJson,
                match pick {
                    0 => good[..self.rng.random_range(1..good.len() - 1)].to_string(),
                    1 => "<html><body>502 Bad Gateway</body></html>".to_string(),
                    _ => format!("[{good}]"),
                },
            ),
            1 => (
                DeadReason::MissingType,
                match pick {
                    0 => good.replacen("\"type\":", "\"kind\":", 1),
                    1 => replace_value(good, "type", "null"),
                    _ => replace_value(good, "type", "42"),
                },
            ),
            2 => (
                DeadReason::MissingTime,
                match pick {
                    0 => good.replacen("\"ts\":", "\"time\":", 1),
                    _ => replace_value(good, "ts", "null"),
                },
            ),
            3 => (
                DeadReason::InvalidTime,
                match pick {
                    0 => replace_value(good, "ts", "\"yesterday\""),
                    1 => replace_value(good, "ts", "\"27.11.2026 10:00\""),
                    _ => replace_value(good, "ts", "1.7958e12"),
                },
            ),
            _ => (
                DeadReason::WrongType,
                match pick {
                    0 => replace_value(good, "user_id", "4711"),
                    1 => replace_value(good, "channel", "[\"web\"]"),
                    _ => replace_value(good, "user_id", "{\"id\":1}"),
                },
            ),
        };
        lines.text.extend_from_slice(bad.as_bytes());
        lines.end(Kind::Bad(reason));
    }
}

/// How busy the shop is at `t`, 1.0 at the evening peak (share of sessions in progress),
/// by the hour of the shop's clock (CET).
fn activity(t: i64) -> f64 {
    const BY_HOUR: [f64; 24] = [
        0.30, 0.18, 0.12, 0.10, 0.10, 0.14, 0.25, 0.40, 0.55, 0.65, 0.70, 0.75, //
        0.80, 0.78, 0.75, 0.75, 0.78, 0.82, 0.88, 0.95, 1.00, 0.97, 0.80, 0.50,
    ];
    BY_HOUR[(t + 3_600_000).div_euclid(3_600_000).rem_euclid(24) as usize]
}

#[cfg(test)]
mod tests;

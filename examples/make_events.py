#!/usr/bin/env python3
"""Writes examples/events.jsonl: two hours of a small shop's Black Friday evening.

Ten shoppers (u01 ... u10) browse, search, fill carts and buy, on the web, in the app and
from a mailing; every rule in patterns/ fires at least once (see the STORY comments).
The timeline below is written by hand; this script only expands it to JSON lines, looks
up each product's category and list price in products.csv, and writes the records in
arrival order. No randomness: running it again gives the same file byte for byte.

Line format:  USER HH:MM:SS TYPE CHANNEL ARGS... [price=P] [late=D]
  VIEW    CHANNEL PRODUCT
  SEARCH  CHANNEL "QUERY"
  CART    CHANNEL PRODUCT QTY           (an ADD_TO_CART event)
  BUY     CHANNEL ORDER PRODUCT QTY     (a PURCHASE event: one order line)
  LOGIN   CHANNEL                       (a type the patterns do not declare: ignored)
`price=` overrides the list price (a sale); `late=D` makes the record arrive D seconds
after its time (an app that was offline), which puts it out of order.
"""

import csv
import json
import pathlib
import shlex
from datetime import datetime, timedelta, timezone

DAY = datetime(2026, 11, 27, tzinfo=timezone.utc)

STORY = """
# u08 and u09 open the evening looking at running shoes and socks: their visits teach
# `also_viewed` which products go together. u08 buys; u09 looks at three running shoes
# and buys none of them: browse_abandonment at 18:33:30.
u08 18:00:30 LOGIN web
u08 18:00:40 SEARCH web "running shoes"
u08 18:01:05 VIEW web p00003
u09 18:01:10 VIEW app p00003
u08 18:01:50 VIEW web p00011
u09 18:01:55 VIEW app p00142
u09 18:02:20 VIEW app p00001
u08 18:02:30 VIEW web p00142
u08 18:03:20 VIEW web p00007
u09 18:03:30 VIEW app p00011
u08 18:04:10 CART web p00011 1
u09 18:04:40 VIEW app p00143
u08 18:06:00 CART web p00142 2
u08 18:08:30 BUY web o1001 p00011 1
u08 18:08:30 BUY web o1001 p00142 2

# u01 compares two running shoes, puts one in the cart (high_intent), browses socks
# (more_like_this, model_scoring) and leaves: cart_abandonment fires at 18:20:05.
# The reminder mail brings them back at 19:41 and they buy.
u01 18:02:10 VIEW web p00003
u01 18:03:40 VIEW web p00007
u01 18:05:05 CART web p00007 1
u01 18:06:30 VIEW web p00142
u01 18:07:50 VIEW web p00146
u01 19:41:00 VIEW email p00007
u01 19:42:10 VIEW web p00146
u01 19:43:00 CART web p00146 1
u01 19:44:30 BUY web o1010 p00007 1
u01 19:44:30 BUY web o1010 p00146 1

# u07, a good customer: buys a jacket on the web (234.99), later looks at a watch in the
# app and comes back to the same watch on the web: vip_second_look fires at 19:30:00.
u07 18:04:00 VIEW web p00112
u07 18:05:30 VIEW web p00115
u07 18:07:00 CART web p00112 1
u07 18:09:40 BUY web o1003 p00112 1
u07 18:38:00 VIEW app p00061
u07 18:39:10 CART app p00061 1
u07 18:40:30 VIEW app p00165
u07 18:41:00 VIEW app p00168
u07 18:44:00 BUY app o1004 p00061 1
u07 19:30:00 VIEW web p00165
u07 19:31:20 VIEW web p00170

# u04 looks at hoodies, then jackets; the last is p00105, at 18:10, and u04 leaves. At 19:00 the jacket goes on sale; the first
# thing u04 does when back is to look at it again: price_drop_hesitation at 19:25:00.
u04 18:05:00 VIEW app p00064
u04 18:06:20 VIEW app p00070
u04 18:08:00 SEARCH app "winter jacket"
u04 18:08:40 VIEW app p00101
u04 18:10:00 VIEW app p00105
u04 19:25:00 VIEW app p00105 price=119.99
u04 19:26:10 VIEW app p00108
u04 19:27:30 CART app p00105 1 price=119.99
u04 19:29:00 BUY app o1006 p00105 1 price=119.99
u04 19:40:00 VIEW web p00127
u04 19:41:20 VIEW web p00122
u04 19:43:00 SEARCH web "rain cover backpack"
u04 19:43:30 VIEW web p00133

# u03 looks at four t-shirts and adds none: browse_abandonment at 18:53:10. The mail
# works: back in the app at 19:20, u03 searches, finds and buys a tee.
u03 18:15:00 VIEW web p00041
u03 18:17:20 VIEW web p00044
u03 18:19:45 VIEW web p00048
u03 18:23:10 VIEW web p00041
u03 19:20:00 SEARCH app "graphic tee"
u03 19:20:40 VIEW app p00041
u03 19:22:00 CART app p00041 1
u03 19:25:30 BUY app o1005 p00041 1

# u05 puts headphones in the cart, keeps comparing headphones twelve minutes later:
# checkout_rescue at 18:42:00; the price match works and u05 buys at 18:44:30.
u05 18:28:00 VIEW web p00181
u05 18:30:00 CART web p00181 1
u05 18:33:00 VIEW web p00185
u05 18:42:00 VIEW web p00190
u05 18:44:30 BUY web o1008 p00181 1

# A hoodie, p00061, gets hot between 18:30 and 18:40 (u02, u09, u07 above).
u02 18:31:00 SEARCH app "hoodie"
u02 18:31:20 VIEW app p00061
u02 18:32:10 VIEW app p00066 late=3
u02 18:33:00 VIEW app p00061
u02 18:33:40 CART app p00061 1
u09 18:32:11 VIEW app p00062
u09 18:34:50 LOGIN app
u09 18:35:00 VIEW app p00061
u02 18:36:00 BUY app o1002 p00061 1
u09 18:37:00 CART app p00061 1
u09 18:39:30 BUY app o1009 p00061 1

# u06 sees the hot hoodie and does not add it: trending_boost at 18:51:15. Later a search
# for waterproof trail shoes shows nothing u06 opens: search_rescue at 19:13:00.
u06 18:41:15 VIEW web p00061
u06 18:42:30 VIEW web p00072
u06 18:44:00 VIEW web p00041
u06 19:10:00 SEARCH web "waterproof trail shoes"
u06 19:16:30 SEARCH web "trail running shoes"
u06 19:17:00 VIEW web p00011
u06 19:18:10 VIEW web p00003
u06 19:19:30 VIEW web p00144
u06 19:21:00 CART web p00011 1
u06 19:24:00 BUY web o1014 p00011 1

# u10 looks at GPS watches early and buys none: browse_abandonment at 18:46:20.
u10 18:12:00 SEARCH web "gps watch"
u10 18:12:30 VIEW web p00161
u10 18:13:40 VIEW web p00163
u10 18:15:10 VIEW web p00169
u10 18:16:20 VIEW web p00161

# u10 comes back from the newsletter, compares backpacks and buys one.
u10 18:50:00 VIEW email p00121
u10 18:51:00 VIEW web p00125
u10 18:52:30 VIEW web p00121
u10 18:53:00 CART web p00121 1
u10 18:58:00 BUY web o1011 p00121 1

# More of the evening: u09 shops jeans and sneakers, u02 socks, u08 headphones.
u09 19:00:10 SEARCH app "slim jeans"
u09 19:00:30 VIEW app p00081
u09 19:01:40 VIEW app p00084
u09 19:02:50 VIEW app p00090
u09 19:04:00 VIEW app p00021
u09 19:05:10 VIEW app p00026
u09 19:06:00 CART app p00084 1
u09 19:06:40 CART app p00026 1
u09 19:09:00 BUY app o1012 p00084 1
u09 19:09:00 BUY app o1012 p00026 1

u02 19:45:00 VIEW app p00141
u02 19:45:50 VIEW app p00145
u02 19:46:30 CART app p00145 2
u02 19:48:00 BUY app o1013 p00145 2

# u08 puts headphones in the cart and leaves them there: cart_abandonment at 19:52:00.
# u10's app was offline for a minute: its view at 19:36:12 arrives after 19:37:05 and
# goes to the dead letters as `late` (lateness is 5 s).
u08 19:34:00 SEARCH web "noise cancelling headphones"
u08 19:34:30 VIEW web p00188
u08 19:35:20 VIEW web p00196
u08 19:36:10 VIEW web p00190
u08 19:37:00 CART web p00188 1
u10 19:35:40 SEARCH app "laptop backpack"
u10 19:36:12 VIEW app p00129 late=60
u10 19:37:05 VIEW app p00131

# The last hour: u05 buys a jacket, u03 sneakers, u09 looks at watches and goes, u07
# and u10 browse. u10's three looks at backpacks match browse_abandonment at 20:10:20,
# but u10 had one at 18:46:20: the 24 h cooldown drops it. u04's look at backpacks
# (19:40-19:43) matches at 20:13:30, after the last event: when the input ends, every
# pending deadline still fires.
u09 19:15:00 VIEW app p00165
u09 19:16:10 VIEW app p00162
u09 19:17:30 VIEW app p00165
u09 19:18:40 SEARCH app "watch strap"
u09 19:19:20 VIEW app p00174
u03 19:31:00 VIEW app p00021
u03 19:32:00 VIEW app p00033
u03 19:33:20 VIEW app p00026
u03 19:35:00 VIEW app p00021
u03 19:36:00 CART app p00026 1
u03 19:39:00 BUY app o1016 p00026 1
u07 19:38:00 VIEW web p00081
u07 19:39:30 VIEW web p00085
u07 19:40:10 VIEW web p00062
u10 19:38:00 VIEW app p00131
u10 19:39:30 VIEW app p00137
u10 19:40:20 VIEW app p00131
u05 19:50:00 VIEW app p00101
u05 19:51:10 VIEW app p00107
u05 19:52:30 VIEW app p00110
u05 19:53:40 VIEW app p00101
u05 19:55:00 CART app p00101 1
u05 19:57:30 BUY app o1015 p00101 1
u02 19:49:00 VIEW app p00045
u02 19:50:10 VIEW app p00047
u02 19:52:00 VIEW app p00083
u07 18:55:00 SEARCH app "merino socks"
u07 18:55:30 VIEW app p00147
u07 18:56:40 VIEW app p00151
u07 18:57:30 CART app p00151 3
u07 18:59:00 BUY app o1018 p00151 3
u08 19:10:00 VIEW web p00083
u08 19:11:15 VIEW web p00092
u08 19:12:30 VIEW web p00083
u08 19:13:40 VIEW web p00044
u08 19:14:50 VIEW web p00049
u08 19:16:00 CART web p00083 1
u08 19:17:30 BUY web o1019 p00083 1
u10 19:02:00 VIEW web p00046
u10 19:03:10 VIEW web p00053
u10 19:04:30 VIEW web p00061
u10 19:05:20 CART web p00053 2
u10 19:06:50 CART web p00061 1
u10 19:08:00 BUY web o1020 p00053 2
u10 19:08:00 BUY web o1020 p00061 1
u02 19:05:00 VIEW app p00021
u02 19:06:20 VIEW app p00027
u02 19:07:40 VIEW app p00034
u02 19:09:10 VIEW app p00027
u02 19:10:00 CART app p00027 1
u02 19:13:30 BUY app o1021 p00027 1
u05 19:05:00 VIEW web p00187
u05 19:06:30 VIEW web p00143
u05 19:08:00 VIEW web p00146
u06 19:52:30 VIEW web p00062
u06 19:53:10 VIEW web p00067
u06 19:54:00 VIEW web p00062
u06 19:55:20 CART web p00067 1
u06 19:58:00 BUY web o1017 p00067 1
"""


def load_catalogue(path: pathlib.Path) -> dict:
    with path.open(newline="") as f:
        return {r["product_id"]: r for r in csv.DictReader(f)}


def rfc3339(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse(line: str, catalogue: dict) -> tuple[datetime, dict]:
    words = shlex.split(line)
    opts = dict(w.split("=", 1) for w in words if "=" in w)
    words = [w for w in words if "=" not in w]
    user, clock, kind, channel, *args = words
    h, m, s = map(int, clock.split(":"))
    t = DAY + timedelta(hours=h, minutes=m, seconds=s)
    rec: dict = {"type": None, "ts": rfc3339(t), "user_id": user, "channel": channel}

    def product(pid: str) -> dict:
        row = catalogue[pid]
        price = float(opts.get("price", row["price"]))
        return {"product_id": pid, "category": row["category"], "price": price}

    if kind == "VIEW":
        rec["type"] = "VIEW"
        rec.update(product(args[0]))
    elif kind == "SEARCH":
        rec["type"] = "SEARCH"
        rec["query"] = args[0]
    elif kind == "CART":
        rec["type"] = "ADD_TO_CART"
        rec.update(product(args[0]))
        rec["qty"] = int(args[1])
    elif kind == "BUY":
        order, pid, qty = args
        p = product(pid)
        rec["type"] = "PURCHASE"
        rec["order_id"] = order
        rec["product_id"] = pid
        rec["category"] = p["category"]
        rec["total"] = round(p["price"] * int(qty), 2)
    elif kind == "LOGIN":
        rec["type"] = "LOGIN"
    else:
        raise ValueError(f"unknown kind in: {line}")
    arrival = t + timedelta(seconds=int(opts.get("late", "0")))
    return arrival, rec


def main() -> None:
    here = pathlib.Path(__file__).parent
    catalogue = load_catalogue(here / "products.csv")
    events = []
    for n, line in enumerate(STORY.splitlines()):
        line = line.strip()
        if line and not line.startswith("#"):
            arrival, rec = parse(line, catalogue)
            events.append((arrival, n, rec))
    events.sort(key=lambda e: (e[0], e[1]))
    out = here / "events.jsonl"
    with out.open("w") as f:
        for _, _, rec in events:
            f.write(json.dumps(rec) + "\n")
    print(f"wrote {len(events)} events to {out}")


if __name__ == "__main__":
    main()

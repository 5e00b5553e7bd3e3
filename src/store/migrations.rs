//! The schema as an ordered list of migrations. A released migration is never edited;
//! changes are new entries at the end. `PRAGMA user_version` holds how many are applied.

pub const MIGRATIONS: &[&str] = &[
    // 1: journal, reference data, stock balances, users.
    r#"
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE journal (
    ord      INTEGER PRIMARY KEY,
    id       TEXT NOT NULL UNIQUE,
    terminal TEXT NOT NULL,
    seq      INTEGER NOT NULL CHECK (seq > 0),
    user     TEXT NOT NULL,
    at       TEXT NOT NULL,
    kind     TEXT NOT NULL,
    payload  TEXT NOT NULL,
    UNIQUE (terminal, seq)
) STRICT;

CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;
CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END;

CREATE TABLE items (
    sku             TEXT PRIMARY KEY,
    description     TEXT NOT NULL,
    base_unit       TEXT NOT NULL,
    lot_tracked     INTEGER NOT NULL CHECK (lot_tracked IN (0, 1)),
    expiry_tracked  INTEGER NOT NULL CHECK (expiry_tracked IN (0, 1)),
    shelf_life_days INTEGER,
    abc             TEXT NOT NULL CHECK (abc IN ('A', 'B', 'C')),
    unit_cost_cents INTEGER NOT NULL,
    category        TEXT NOT NULL
) STRICT;

CREATE TABLE gtins (
    gtin     TEXT PRIMARY KEY,
    sku      TEXT NOT NULL REFERENCES items (sku),
    pack_qty INTEGER NOT NULL CHECK (pack_qty > 0)
) STRICT;
CREATE INDEX gtins_by_sku ON gtins (sku);

CREATE TABLE locations (
    code         TEXT PRIMARY KEY,
    site         TEXT NOT NULL,
    zone         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('physical', 'virtual')),
    role         TEXT NOT NULL,
    pick_seq     INTEGER,
    check_digits TEXT,
    capacity     INTEGER CHECK (capacity IS NULL OR capacity >= 0)
) STRICT;

CREATE TABLE lots (
    sku    TEXT NOT NULL REFERENCES items (sku),
    code   TEXT NOT NULL,
    expiry TEXT,
    PRIMARY KEY (sku, code)
) STRICT;
CREATE INDEX lots_by_code ON lots (code);

CREATE TABLE balances (
    location TEXT NOT NULL REFERENCES locations (code),
    sku      TEXT NOT NULL REFERENCES items (sku),
    lot      TEXT NOT NULL,
    qty      INTEGER NOT NULL,
    PRIMARY KEY (location, sku, lot)
) STRICT, WITHOUT ROWID;
CREATE INDEX balances_by_item ON balances (sku, lot);

CREATE TABLE users (
    badge           TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    roles           TEXT NOT NULL,
    pin_hash        TEXT NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    last_failed_at  TEXT,
    locked          INTEGER NOT NULL DEFAULT 0
) STRICT;
"#,
    // 2: purchase orders, receipts, discrepancies, putaway rules.
    r#"
CREATE TABLE purchase_orders (
    po       TEXT PRIMARY KEY,
    supplier TEXT NOT NULL,
    site     TEXT NOT NULL,
    expected TEXT,
    status   TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed'))
) STRICT;

CREATE TABLE po_lines (
    po       TEXT NOT NULL REFERENCES purchase_orders (po),
    line     INTEGER NOT NULL CHECK (line > 0),
    sku      TEXT NOT NULL REFERENCES items (sku),
    ordered  INTEGER NOT NULL CHECK (ordered > 0),
    received INTEGER NOT NULL DEFAULT 0,
    damaged  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (po, line)
) STRICT;

CREATE TABLE receipts (
    receipt       TEXT PRIMARY KEY,
    po            TEXT NOT NULL REFERENCES purchase_orders (po),
    delivery_note TEXT,
    terminal      TEXT NOT NULL,
    started_by    TEXT NOT NULL,
    started_at    TEXT NOT NULL,
    checked_by    TEXT,
    status        TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed'))
) STRICT;
CREATE INDEX receipts_open ON receipts (terminal, status);

CREATE TABLE receipt_lines (
    receipt TEXT NOT NULL REFERENCES receipts (receipt),
    line    INTEGER NOT NULL,
    sku     TEXT NOT NULL REFERENCES items (sku),
    good    INTEGER NOT NULL DEFAULT 0,
    damaged INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (receipt, line, sku)
) STRICT;

CREATE TABLE discrepancies (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    state     TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'approved', 'rejected')),
    receipt   TEXT,
    po        TEXT,
    line      INTEGER,
    sku       TEXT NOT NULL,
    lot       TEXT NOT NULL DEFAULT '',
    qty       INTEGER NOT NULL,
    note      TEXT NOT NULL DEFAULT '',
    raised_by TEXT NOT NULL,
    raised_at TEXT NOT NULL
) STRICT;

CREATE TABLE putaway_rules (
    id       INTEGER PRIMARY KEY,
    sku      TEXT,
    category TEXT,
    zone     TEXT,
    location TEXT
) STRICT;
"#,
    // 3: sync. Terminal side: answers to pushed events and the gseq of pulled ones, the
    // snapshot baseline. Server side: terminals, enrolment codes, rejected events. Both:
    // exceptions with recount requests, customer orders and RMAs.
    r#"
CREATE TABLE sync_results (
    id     TEXT PRIMARY KEY,
    gseq   INTEGER,
    reason TEXT,
    CHECK ((gseq IS NULL) != (reason IS NULL))
) STRICT;

CREATE TABLE baseline (
    location TEXT NOT NULL,
    sku      TEXT NOT NULL,
    lot      TEXT NOT NULL,
    qty      INTEGER NOT NULL,
    PRIMARY KEY (location, sku, lot)
) STRICT, WITHOUT ROWID;

CREATE TABLE terminals (
    terminal    TEXT PRIMARY KEY,
    site        TEXT NOT NULL,
    token_hash  TEXT UNIQUE,
    enrolled_at TEXT,
    revoked     INTEGER NOT NULL DEFAULT 0,
    last_seen   TEXT,
    cursor      INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE enrolments (
    code_hash  TEXT PRIMARY KEY,
    terminal   TEXT NOT NULL,
    site       TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used       INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE rejected_events (
    terminal    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    id          TEXT NOT NULL,
    user        TEXT NOT NULL,
    at          TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL,
    reason      TEXT NOT NULL,
    rejected_at TEXT NOT NULL,
    PRIMARY KEY (terminal, seq)
) STRICT;

CREATE TABLE exceptions (
    id        TEXT PRIMARY KEY,
    location  TEXT NOT NULL,
    sku       TEXT NOT NULL,
    lot       TEXT NOT NULL,
    qty       INTEGER NOT NULL,
    reason    TEXT NOT NULL,
    recount   INTEGER NOT NULL,
    state     TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'resolved')),
    raised_at TEXT NOT NULL
) STRICT;
CREATE INDEX exceptions_open ON exceptions (location, sku, lot, state);

CREATE TABLE customer_orders (
    order_no TEXT NOT NULL,
    line     INTEGER NOT NULL,
    customer TEXT NOT NULL,
    site     TEXT NOT NULL,
    due      TEXT,
    sku      TEXT NOT NULL REFERENCES items (sku),
    qty      INTEGER NOT NULL CHECK (qty > 0),
    shipped  INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (order_no, line)
) STRICT;
CREATE INDEX customer_orders_open ON customer_orders (site, sku);

CREATE TABLE rmas (
    rma      TEXT NOT NULL,
    line     INTEGER NOT NULL,
    customer TEXT NOT NULL,
    site     TEXT NOT NULL,
    order_no TEXT NOT NULL,
    created  TEXT,
    sku      TEXT NOT NULL REFERENCES items (sku),
    qty      INTEGER NOT NULL CHECK (qty > 0),
    reason   TEXT NOT NULL,
    PRIMARY KEY (rma, line)
) STRICT;
"#,
    // 4: the first location of a role at a site (the dock, quarantine and supplier of
    // every receiving scan) by index instead of a scan of all locations.
    r#"
CREATE INDEX locations_by_role ON locations (site, role, code);
"#,
    // 5: the balances that reached zero, found without a scan: a terminal applying
    // pulled movements adds to each balance in one statement and removes the zeros after.
    r#"
CREATE INDEX balances_zero ON balances (location, sku, lot) WHERE qty = 0;
"#,
    // 6: balances keyed by integers. Items and locations get an explicit integer id (a
    // rowid alias: kept by VACUUM, which may renumber a plain rowid), and the balances
    // move to `stock`, keyed by (location id, item id, lot). Integer keys compare in a
    // fraction of the time of text ones and make the tree smaller, so writing a large
    // catch-up's balances costs about half. `balances` stays, as a view with the codes,
    // for every reader. `stock` has no foreign keys: its ids are read from the rows
    // they name just before a write (see `ids.rs`), items and locations are never
    // deleted, and `floorhand check` looks for ids without a row.
    //
    // Rebuilding a table that others reference needs foreign keys off; `migrate` turns
    // them off around the migrations and checks them before each commit.
    r#"
CREATE TABLE items_new (
    id              INTEGER PRIMARY KEY,
    sku             TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL,
    base_unit       TEXT NOT NULL,
    lot_tracked     INTEGER NOT NULL CHECK (lot_tracked IN (0, 1)),
    expiry_tracked  INTEGER NOT NULL CHECK (expiry_tracked IN (0, 1)),
    shelf_life_days INTEGER,
    abc             TEXT NOT NULL CHECK (abc IN ('A', 'B', 'C')),
    unit_cost_cents INTEGER NOT NULL,
    category        TEXT NOT NULL
) STRICT;
INSERT INTO items_new (id, sku, description, base_unit, lot_tracked, expiry_tracked,
                       shelf_life_days, abc, unit_cost_cents, category)
SELECT rowid, sku, description, base_unit, lot_tracked, expiry_tracked,
       shelf_life_days, abc, unit_cost_cents, category FROM items;
DROP TABLE items;
ALTER TABLE items_new RENAME TO items;

CREATE TABLE locations_new (
    id           INTEGER PRIMARY KEY,
    code         TEXT NOT NULL UNIQUE,
    site         TEXT NOT NULL,
    zone         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('physical', 'virtual')),
    role         TEXT NOT NULL,
    pick_seq     INTEGER,
    check_digits TEXT,
    capacity     INTEGER CHECK (capacity IS NULL OR capacity >= 0)
) STRICT;
INSERT INTO locations_new (id, code, site, zone, kind, role, pick_seq, check_digits, capacity)
SELECT rowid, code, site, zone, kind, role, pick_seq, check_digits, capacity FROM locations;
DROP TABLE locations;
ALTER TABLE locations_new RENAME TO locations;
CREATE INDEX locations_by_role ON locations (site, role, code);

CREATE TABLE stock (
    location_id INTEGER NOT NULL,
    item_id     INTEGER NOT NULL,
    lot         TEXT NOT NULL,
    qty         INTEGER NOT NULL,
    PRIMARY KEY (location_id, item_id, lot)
) STRICT, WITHOUT ROWID;
INSERT INTO stock (location_id, item_id, lot, qty)
SELECT l.id, i.id, b.lot, b.qty FROM balances b
JOIN locations l ON l.code = b.location JOIN items i ON i.sku = b.sku
ORDER BY 1, 2, 3;
CREATE INDEX stock_by_item ON stock (item_id, lot);
CREATE INDEX stock_zero ON stock (location_id, item_id, lot) WHERE qty = 0;
DROP TABLE balances;
CREATE VIEW balances (location, sku, lot, qty) AS
SELECT l.code, i.sku, s.lot, s.qty FROM stock s
JOIN locations l ON l.id = s.location_id JOIN items i ON i.id = s.item_id;
"#,
    // 7: the server keeps how many events each terminal last said it had waiting to push
    // (NULL until it says), for `server terminals`.
    r#"
ALTER TABLE terminals ADD COLUMN pending INTEGER;
"#,
    // 8: order progress: how much of each customer order line was taken out of sellable
    // stock (no longer reserved), beside how much was shipped.
    r#"
ALTER TABLE customer_orders ADD COLUMN picked INTEGER NOT NULL DEFAULT 0;
"#,
];

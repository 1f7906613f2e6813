-- Published statistics (issue 20): the DfE's "Education, health and care plans" release, and
-- any release of its layout, as `sendwatch stats import` reads it. Public, deployment-wide
-- figures, not one area's data: no area column, and no reference to any other table, so this
-- migration stands alone whatever else changes. Keep in step with the other backend's
-- 0020_published_stats.sql.

-- Each release imported, once: re-importing it updates this row (its id stays).
CREATE TABLE stats_releases (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT    NOT NULL UNIQUE,   -- the mapping it was read with: ees-ehcp-2025
    title          TEXT    NOT NULL,
    reporting_year INTEGER NOT NULL,          -- orders releases: a later one's figures win
    imported_from  TEXT    NOT NULL,          -- the zip, folder or file imported (name only)
    imported_at    TEXT    NOT NULL
);

-- Each area a release names: England, a region, a local authority (with its region).
CREATE TABLE stats_areas (
    level       TEXT NOT NULL CHECK (level IN ('national', 'regional', 'local_authority')),
    code        TEXT NOT NULL,                -- E92000001, E12000002, E08000014
    name        TEXT NOT NULL,
    old_code    TEXT,                         -- a local authority's three-digit code (343)
    region_code TEXT,                         -- a local authority's region
    release_id  INTEGER NOT NULL REFERENCES stats_releases(id),
    PRIMARY KEY (level, code)
);

-- Which release gives each measure and period, with figures or without (a later release that
-- writes x for every area still holds it): an import replaces a measure and period held by a
-- release of the same or an earlier reporting year, never one held by a later one.
CREATE TABLE stats_periods (
    measure    TEXT    NOT NULL,
    period     TEXT    NOT NULL,
    release_id INTEGER NOT NULL REFERENCES stats_releases(id),
    PRIMARY KEY (measure, period)
);

-- Each figure, where the release gives one: a code for no figure (x, z, c, low, u, blank)
-- has no row, so it is never read as 0.
CREATE TABLE stats_values (
    measure    TEXT    NOT NULL,              -- ours ([stats.measures]), not the release's column
    period     TEXT    NOT NULL,              -- 2019 (calendar year), AY2018/19
    level      TEXT    NOT NULL CHECK (level IN ('national', 'regional', 'local_authority')),
    area_code  TEXT    NOT NULL,
    value      REAL    NOT NULL,
    decimals   INTEGER NOT NULL,              -- decimal places as published
    release_id INTEGER NOT NULL REFERENCES stats_releases(id),
    file       TEXT    NOT NULL,              -- the release's file it is in
    line       INTEGER NOT NULL,              -- and its line there (the header is line 1)
    PRIMARY KEY (measure, period, level, area_code)
);
CREATE INDEX stats_values_area ON stats_values(level, area_code);

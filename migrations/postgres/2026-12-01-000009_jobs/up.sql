-- Periodic jobs, one row per job name, shared by every node on this database. A node runs a job
-- only after leasing its row (`leased_until`, `lease_token`) in one conditional UPDATE, so it runs
-- once per period across the cluster; a node that dies mid-run leaves the row claimable again once
-- its lease expires. Times are UTC.
CREATE TABLE jobs (
    name          TEXT PRIMARY KEY,
    due_at        TIMESTAMP NOT NULL,
    -- Who holds the lease, for operators; the token alone decides who may finish the run.
    lease_owner   TEXT,
    leased_until  TIMESTAMP,
    lease_token   TEXT,
    last_run_at   TIMESTAMP,
    last_error    TEXT,
    updated_at    TIMESTAMP NOT NULL
);

-- The sign-in throttle (warehouse/signin.py). Failed password sign-ins are counted per
-- typed username and per client (the connection's IP address as Streamlit sees it);
-- enough of them within the window lock that username or client for a while.
CREATE TABLE signin_failures (
    kind VARCHAR NOT NULL,                   -- 'username' | 'client'
    key VARCHAR NOT NULL,                    -- the lower-cased typed username, or the client
    failed_at TIMESTAMPTZ NOT NULL
);

CREATE SEQUENCE signin_lock_seq START 1;
CREATE TABLE signin_locks (
    lock_id BIGINT PRIMARY KEY DEFAULT nextval('signin_lock_seq'),
    kind VARCHAR NOT NULL,                   -- 'username' | 'client'
    key VARCHAR NOT NULL,
    failures INTEGER NOT NULL,               -- failures within the window that locked it
    locked_at TIMESTAMPTZ NOT NULL,
    locked_until TIMESTAMPTZ NOT NULL,
    lifted_at TIMESTAMPTZ,                   -- an admin lifted it early (Users page)
    lifted_by VARCHAR
);

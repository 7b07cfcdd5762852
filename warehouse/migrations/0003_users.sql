-- Dashboard accounts. Passwords are stored only as a self-describing scrypt hash
-- ("scrypt$N$r$p$salt$hash", base64 parts); a NULL hash means sign-in through OIDC only.
-- Decisions and audit rows refer to users by username (text), so removing an account
-- never touches the history.
CREATE TABLE users (
    username VARCHAR PRIMARY KEY,            -- lower-case, [a-z0-9._-]
    display_name VARCHAR,
    role VARCHAR NOT NULL,                   -- 'viewer' | 'moderator' | 'admin'
    password_hash VARCHAR,
    disabled BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_login_at TIMESTAMPTZ
);

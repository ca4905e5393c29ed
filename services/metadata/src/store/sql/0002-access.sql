-- The trust boundary: API keys (only a salted scrypt hash of each secret), feature groups shared
-- read-only with other projects, and the audit log of every service.

CREATE TABLE api_keys (
  id          text PRIMARY KEY,
  user_name   text NOT NULL,
  admin       boolean NOT NULL DEFAULT false,
  -- [{"project": "...", "role": <granary.metadata.v1.Role number>}]
  scopes      jsonb NOT NULL DEFAULT '[]',
  secret_hash text NOT NULL,
  description text NOT NULL DEFAULT '',
  expire_time timestamptz,
  create_time timestamptz NOT NULL,
  created_by  text NOT NULL,
  revoke_time timestamptz
);
CREATE INDEX api_keys_user ON api_keys (user_name, id);
CREATE INDEX api_keys_scopes ON api_keys USING gin (scopes jsonb_path_ops);

-- A share names a group (every version of it), not one version: a new version stays shared.
CREATE TABLE feature_group_shares (
  project       text NOT NULL REFERENCES projects (name),
  feature_group text NOT NULL,
  with_project  text NOT NULL REFERENCES projects (name),
  created_by    text NOT NULL,
  create_time   timestamptz NOT NULL,
  PRIMARY KEY (project, feature_group, with_project)
);
CREATE INDEX feature_group_shares_with ON feature_group_shares (with_project);

CREATE TABLE audit_events (
  id       bigserial PRIMARY KEY,
  time     timestamptz NOT NULL,
  actor    text NOT NULL,
  project  text NOT NULL DEFAULT '',
  method   text NOT NULL,
  resource text NOT NULL DEFAULT '',
  service  text NOT NULL,
  code     text NOT NULL,
  key_id   text NOT NULL DEFAULT ''
);
CREATE INDEX audit_events_project ON audit_events (project, id);

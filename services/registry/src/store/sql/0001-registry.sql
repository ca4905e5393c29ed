-- The model registry. Blobs live on the filesystem by digest; these tables say which version owns
-- which file under which path. A row never points at a blob that is not fully written: the blob is
-- renamed into place before its row commits, under the digest's advisory lock (see artifacts-store).

CREATE TABLE models (
  id           bigserial PRIMARY KEY,
  project      text NOT NULL,
  name         text NOT NULL,
  description  text NOT NULL DEFAULT '',
  tags         text[] NOT NULL DEFAULT '{}',
  -- The last version number handed out. Numbers are never reused, even after a deletion, so a
  -- lineage edge or a log line naming "fraud v3" never comes to mean another model.
  last_version integer NOT NULL DEFAULT 0,
  -- Bumped by every change to what GetModel returns; the etag is its text.
  revision     bigint NOT NULL DEFAULT 1,
  create_time  timestamptz NOT NULL,
  update_time  timestamptz NOT NULL,
  UNIQUE (project, name)
);
CREATE INDEX models_tags ON models USING gin (tags);

CREATE TABLE model_versions (
  model_id    bigint NOT NULL REFERENCES models (id) ON DELETE RESTRICT,
  version     integer NOT NULL CHECK (version >= 1),
  status      text NOT NULL CHECK (status IN ('UPLOADING', 'READY')),
  tags        text[] NOT NULL DEFAULT '{}',
  -- The version's definition as proto JSON (description, framework, metrics, parameters, schema,
  -- input example, feature view, training dataset version); status, aliases, times and etag are
  -- the columns' business.
  resource    jsonb NOT NULL,
  revision    bigint NOT NULL DEFAULT 1,
  create_time timestamptz NOT NULL,
  update_time timestamptz NOT NULL,
  -- While UPLOADING: the last sign of an upload (creation, an upload starting or still streaming);
  -- a version without one for GRANARY_REGISTRY_UPLOAD_TIMEOUT_MIN is abandoned.
  activity_time timestamptz NOT NULL,
  PRIMARY KEY (model_id, version)
);
CREATE INDEX model_versions_tags ON model_versions USING gin (tags);
CREATE INDEX model_versions_uploading ON model_versions (activity_time) WHERE status = 'UPLOADING';

-- An alias names exactly one version; a version an alias points to cannot be deleted.
CREATE TABLE aliases (
  model_id bigint NOT NULL,
  alias    text NOT NULL,
  version  integer NOT NULL,
  PRIMARY KEY (model_id, alias),
  FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version) ON DELETE RESTRICT
);

CREATE TABLE artifacts (
  model_id     bigint NOT NULL,
  version      integer NOT NULL,
  path         text NOT NULL,
  sha256       text NOT NULL CHECK (sha256 ~ '^[0-9a-f]{64}$'),
  size_bytes   bigint NOT NULL CHECK (size_bytes >= 0),
  content_type text NOT NULL DEFAULT '',
  create_time  timestamptz NOT NULL,
  PRIMARY KEY (model_id, version, path),
  FOREIGN KEY (model_id, version) REFERENCES model_versions (model_id, version) ON DELETE CASCADE
);
CREATE INDEX artifacts_sha256 ON artifacts (sha256);

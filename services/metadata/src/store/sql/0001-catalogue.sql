-- The catalogue. Every resource row keeps its full protobuf message as JSON in `resource`; the
-- columns beside it exist for keys, constraints, ordering and search.

CREATE TABLE projects (
  name        text PRIMARY KEY,
  resource    jsonb NOT NULL,
  create_time timestamptz NOT NULL,
  etag        text NOT NULL
);

CREATE TABLE feature_groups (
  id          bigserial PRIMARY KEY,
  project     text NOT NULL REFERENCES projects (name),
  name        text NOT NULL,
  version     integer NOT NULL CHECK (version >= 1),
  tags        text[] NOT NULL DEFAULT '{}',
  description text NOT NULL DEFAULT '',
  resource    jsonb NOT NULL,
  etag        text NOT NULL,
  UNIQUE (project, name, version)
);
CREATE INDEX feature_groups_tags ON feature_groups USING gin (tags);
CREATE INDEX feature_groups_words ON feature_groups USING gin (to_tsvector('simple', description));

CREATE TABLE feature_views (
  id          bigserial PRIMARY KEY,
  project     text NOT NULL REFERENCES projects (name),
  name        text NOT NULL,
  version     integer NOT NULL CHECK (version >= 1),
  tags        text[] NOT NULL DEFAULT '{}',
  description text NOT NULL DEFAULT '',
  resource    jsonb NOT NULL,
  etag        text NOT NULL,
  UNIQUE (project, name, version)
);
CREATE INDEX feature_views_tags ON feature_views USING gin (tags);
CREATE INDEX feature_views_words ON feature_views USING gin (to_tsvector('simple', description));

-- Which groups a view reads: a group in use cannot be deleted (RESTRICT → FAILED_PRECONDITION).
CREATE TABLE feature_view_sources (
  view_id  bigint NOT NULL REFERENCES feature_views (id) ON DELETE CASCADE,
  group_id bigint NOT NULL REFERENCES feature_groups (id) ON DELETE RESTRICT,
  PRIMARY KEY (view_id, group_id)
);
CREATE INDEX feature_view_sources_group ON feature_view_sources (group_id);

CREATE TABLE training_datasets (
  view_id  bigint NOT NULL REFERENCES feature_views (id) ON DELETE RESTRICT,
  version  integer NOT NULL CHECK (version >= 1),
  resource jsonb NOT NULL,
  etag     text NOT NULL,
  PRIMARY KEY (view_id, version)
);

CREATE TABLE commits (
  group_id       bigint NOT NULL REFERENCES feature_groups (id) ON DELETE CASCADE,
  id             bigint NOT NULL CHECK (id >= 1),
  ingestion_time timestamptz NOT NULL,
  resource       jsonb NOT NULL,
  PRIMARY KEY (group_id, id)
);
CREATE INDEX commits_ingestion ON commits (group_id, ingestion_time);

CREATE TABLE statistics (
  project  text NOT NULL REFERENCES projects (name),
  subject  text NOT NULL,
  resource jsonb NOT NULL,
  PRIMARY KEY (project, subject)
);

CREATE TABLE validation_reports (
  id          uuid PRIMARY KEY,
  group_id    bigint NOT NULL REFERENCES feature_groups (id) ON DELETE CASCADE,
  create_time timestamptz NOT NULL,
  resource    jsonb NOT NULL
);
CREATE INDEX validation_reports_group ON validation_reports (group_id, create_time DESC, id);

CREATE TABLE lineage_edges (
  project   text NOT NULL REFERENCES projects (name),
  from_node text NOT NULL,
  to_node   text NOT NULL,
  edge      jsonb NOT NULL,
  PRIMARY KEY (project, from_node, to_node)
);
CREATE INDEX lineage_edges_to ON lineage_edges (project, to_node);

-- Every change, in the order it committed. Writers hold one advisory lock while they change the
-- catalogue, so revisions are gapless and commit in order: a reader that has seen revision n has
-- seen everything before it.
CREATE TABLE changes (
  revision    bigint PRIMARY KEY,
  project     text NOT NULL,
  change_time timestamptz NOT NULL,
  change      jsonb NOT NULL
);
CREATE INDEX changes_project ON changes (project, revision);

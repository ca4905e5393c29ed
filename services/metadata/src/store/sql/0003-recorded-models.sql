-- The models the registry holds, one row per model, so DeleteProject can refuse a project that still
-- has one without calling the registry (metadata is the root dependency; the registry calls it).
-- The registry records a model before the model's row commits and forgets it after the deletion
-- commits; a crash between the two leaves a record without a model (it only delays a project's
-- deletion), which the registry's reconciliation at start and in its janitor forgets.

CREATE TABLE recorded_models (
  project     text NOT NULL REFERENCES projects (name),
  model       text NOT NULL,
  -- The registry's id of this incarnation of the model: forgetting a deleted model leaves the
  -- record of one made again under the same name.
  registry_id text NOT NULL,
  record_time timestamptz NOT NULL,
  PRIMARY KEY (project, model)
);

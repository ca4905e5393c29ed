-- Drift reports of feature view versions (ComputeDrift on the offline service stores them here).
-- Keyed by the view's row: deleting the view version deletes its reports.
CREATE TABLE monitoring_reports (
  id          bigserial PRIMARY KEY,
  view_id     bigint NOT NULL REFERENCES feature_views (id) ON DELETE CASCADE,
  create_time timestamptz NOT NULL,
  resource    jsonb NOT NULL
);
CREATE INDEX monitoring_reports_view ON monitoring_reports (view_id, create_time DESC, id DESC);

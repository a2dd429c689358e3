-- Asynchronous jobs (https://hl7.org/fhir/R4/async.html, Bulk Data $export / $import, $reindex):
-- one row per kick-off. The process that accepted a job runs it and writes its progress here;
-- any instance answers status polls and cancellations from this row.
CREATE TABLE async_job (
  tenant_id        text NOT NULL REFERENCES tenant (tenant_id),
  job_id           text NOT NULL,
  kind             text NOT NULL,                 -- 'export', 'import', 'reindex', ...
  status           text NOT NULL DEFAULT 'accepted'
                   CHECK (status IN ('accepted', 'in-progress', 'completed', 'failed', 'cancelled')),
  -- Who started it (client id and user/patient of the token): only the same caller polls it.
  owner            text NOT NULL,
  request_url      text NOT NULL,
  progress_done    bigint NOT NULL DEFAULT 0,
  progress_total   bigint,
  progress_message text,
  -- The job's answer when completed (a Bulk Data manifest, an OperationOutcome...), JSON text.
  result           text,
  -- Why it failed: the error kind and its issues as JSON text (src/fhir maps it to a status).
  error            text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  -- Written with every progress update and by a timer while the job runs: a job whose
  -- heartbeat stops (its process died) is reported as failed instead of running forever.
  heartbeat_at     timestamptz NOT NULL DEFAULT now(),
  finished_at      timestamptz,
  last_polled_at   timestamptz,
  PRIMARY KEY (tenant_id, job_id)
);
CREATE INDEX async_job_status ON async_job (tenant_id, status, created_at);

-- Samples of what running pipelines report, taken every REPLICATOR_SAMPLE_SECONDS: the lag and
-- the row changes applied so far, from which the dashboard charts lag and throughput over time.
-- They go with their pipeline, and are pruned with the WAL history (WAL_METRICS_RETENTION_DAYS).
CREATE TABLE pipeline_samples (
    pipeline_id     BIGINT           NOT NULL,
    sampled_at      TIMESTAMPTZ      NOT NULL,
    lag_bytes       BIGINT,
    lag_seconds     DOUBLE PRECISION,
    rows_copied     BIGINT           NOT NULL,
    changes_applied BIGINT           NOT NULL,
    PRIMARY KEY (pipeline_id, sampled_at),
    CONSTRAINT pipeline_samples_pipeline_id_fkey FOREIGN KEY (pipeline_id)
        REFERENCES pipelines (id) ON DELETE CASCADE
);

-- Pruning deletes by age across every pipeline.
CREATE INDEX pipeline_samples_sampled_idx ON pipeline_samples (sampled_at);

-- The data plane's state in the metadata database: which replicator runs each pipeline (a
-- lease), what each running pipeline reports, and the state of its tables. All of it goes
-- with its pipeline.

-- A pipeline's lease: `owner` runs it until `expires_at` (the database's clock) unless it
-- renews it. `epoch` grows every time the lease changes hands; the destination refuses the
-- writes of a lower epoch, so a replicator that lost its lease cannot write after the next.
-- A released lease keeps its row (expired), so that epochs never go back.
CREATE TABLE pipeline_leases (
    pipeline_id BIGINT      PRIMARY KEY,
    owner       TEXT        NOT NULL,
    epoch       BIGINT      NOT NULL,
    expires_at  TIMESTAMPTZ NOT NULL,
    acquired_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT pipeline_leases_epoch_positive CHECK (epoch >= 1),
    CONSTRAINT pipeline_leases_pipeline_id_fkey FOREIGN KEY (pipeline_id)
        REFERENCES pipelines (id) ON DELETE CASCADE
);

-- What a pipeline's replicator last reported.
CREATE TABLE pipeline_runtime (
    pipeline_id     BIGINT           PRIMARY KEY,
    phase           TEXT             NOT NULL,
    owner           TEXT,
    confirmed_lsn   BIGINT,
    lag_bytes       BIGINT,
    lag_seconds     DOUBLE PRECISION,
    rows_copied     BIGINT           NOT NULL DEFAULT 0,
    changes_applied BIGINT           NOT NULL DEFAULT 0,
    last_commit_at  TIMESTAMPTZ,
    updated_at      TIMESTAMPTZ      NOT NULL DEFAULT now(),
    CONSTRAINT pipeline_runtime_phase_known
        CHECK (phase IN ('starting', 'copying', 'streaming', 'paused', 'error')),
    CONSTRAINT pipeline_runtime_pipeline_id_fkey FOREIGN KEY (pipeline_id)
        REFERENCES pipelines (id) ON DELETE CASCADE
);

-- The state of each table of a pipeline, by its name on the source.
CREATE TABLE pipeline_tables (
    pipeline_id  BIGINT      NOT NULL,
    schema_name  TEXT        NOT NULL,
    table_name   TEXT        NOT NULL,
    state        TEXT        NOT NULL,
    rows_copied  BIGINT      NOT NULL DEFAULT 0,
    error        TEXT,
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (pipeline_id, schema_name, table_name),
    CONSTRAINT pipeline_tables_state_known
        CHECK (state IN ('queued', 'copying', 'copied', 'streaming', 'error')),
    CONSTRAINT pipeline_tables_pipeline_id_fkey FOREIGN KEY (pipeline_id)
        REFERENCES pipelines (id) ON DELETE CASCADE
);

-- The replicators alive: each renews its row on every poll, and takes its fair share of the
-- pipelines that run (their number divided by the replicators alive).
CREATE TABLE replicators (
    owner      TEXT        PRIMARY KEY,
    expires_at TIMESTAMPTZ NOT NULL,
    started_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

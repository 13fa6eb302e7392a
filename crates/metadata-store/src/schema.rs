//! The Diesel schema of the metadata database, kept in step with `migrations/` by hand.

diesel::table! {
    sources (id) {
        id -> Int8,
        name -> Varchar,
        pg_host -> Varchar,
        pg_port -> Int4,
        pg_database -> Varchar,
        pg_username -> Varchar,
        pg_password -> Nullable<Text>,
        publication_name -> Varchar,
        replication_id -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
        ssl_mode -> Varchar,
    }
}

diesel::table! {
    destinations (id) {
        id -> Int8,
        name -> Varchar,
        #[sql_name = "type"]
        kind -> Varchar,
        config -> Jsonb,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    pipelines (id) {
        id -> Int8,
        name -> Varchar,
        source_id -> Int8,
        destination_id -> Int8,
        status -> Varchar,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    pipeline_metadata (id) {
        id -> Int8,
        pipeline_id -> Int8,
        status -> Varchar,
        last_error -> Nullable<Text>,
        last_error_at -> Nullable<Timestamptz>,
        last_start_at -> Nullable<Timestamptz>,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    wal_metrics (id) {
        id -> Int8,
        source_id -> Int8,
        size_bytes -> Int8,
        recorded_at -> Timestamptz,
    }
}

diesel::table! {
    wal_slot_samples (id) {
        id -> Int8,
        source_id -> Int8,
        recorded_at -> Timestamptz,
        slot_name -> Text,
        slot_type -> Text,
        plugin -> Nullable<Text>,
        database -> Nullable<Text>,
        active -> Bool,
        retained_bytes -> Nullable<Int8>,
        unconfirmed_bytes -> Nullable<Int8>,
        wal_status -> Nullable<Text>,
        safe_wal_size_bytes -> Nullable<Int8>,
    }
}

diesel::table! {
    source_probe_status (source_id) {
        source_id -> Int8,
        probed_at -> Timestamptz,
        error -> Nullable<Text>,
        consecutive_failures -> Int4,
        last_success_at -> Nullable<Timestamptz>,
        last_reading -> Nullable<Jsonb>,
    }
}

diesel::table! {
    wal_monitor_cycles (id) {
        id -> Int2,
        started_at -> Timestamptz,
        finished_at -> Nullable<Timestamptz>,
    }
}

diesel::table! {
    pipeline_leases (pipeline_id) {
        pipeline_id -> Int8,
        owner -> Text,
        epoch -> Int8,
        expires_at -> Timestamptz,
        acquired_at -> Timestamptz,
    }
}

diesel::table! {
    pipeline_runtime (pipeline_id) {
        pipeline_id -> Int8,
        phase -> Text,
        owner -> Nullable<Text>,
        confirmed_lsn -> Nullable<Int8>,
        lag_bytes -> Nullable<Int8>,
        lag_seconds -> Nullable<Float8>,
        rows_copied -> Int8,
        changes_applied -> Int8,
        last_commit_at -> Nullable<Timestamptz>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    pipeline_tables (pipeline_id, schema_name, table_name) {
        pipeline_id -> Int8,
        schema_name -> Text,
        table_name -> Text,
        state -> Text,
        rows_copied -> Int8,
        error -> Nullable<Text>,
        updated_at -> Timestamptz,
    }
}

diesel::table! {
    replicators (owner) {
        owner -> Text,
        expires_at -> Timestamptz,
        started_at -> Timestamptz,
    }
}

diesel::joinable!(pipelines -> sources (source_id));
diesel::joinable!(pipeline_leases -> pipelines (pipeline_id));
diesel::joinable!(pipeline_runtime -> pipelines (pipeline_id));
diesel::joinable!(pipeline_tables -> pipelines (pipeline_id));
diesel::joinable!(pipelines -> destinations (destination_id));
diesel::joinable!(pipeline_metadata -> pipelines (pipeline_id));
diesel::joinable!(wal_metrics -> sources (source_id));
diesel::joinable!(wal_slot_samples -> sources (source_id));
diesel::joinable!(source_probe_status -> sources (source_id));

diesel::allow_tables_to_appear_in_same_query!(
    sources,
    destinations,
    pipelines,
    pipeline_metadata,
    wal_metrics,
    wal_slot_samples,
    source_probe_status,
    wal_monitor_cycles,
    pipeline_leases,
    pipeline_runtime,
    pipeline_tables,
    replicators,
);

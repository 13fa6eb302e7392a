//! The Diesel schema of the metadata database, kept in step with `migrations/` by hand.

diesel::table! {
    sources (id) {
        id -> Int8,
        name -> Varchar,
        pg_host -> Varchar,
        pg_port -> Int4,
        pg_database -> Varchar,
        pg_username -> Varchar,
        pg_password -> Nullable<Varchar>,
        publication_name -> Varchar,
        replication_id -> Int8,
        created_at -> Timestamptz,
        updated_at -> Timestamptz,
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

diesel::joinable!(pipelines -> sources (source_id));
diesel::joinable!(pipelines -> destinations (destination_id));
diesel::joinable!(pipeline_metadata -> pipelines (pipeline_id));
diesel::joinable!(wal_metrics -> sources (source_id));

diesel::allow_tables_to_appear_in_same_query!(
    sources,
    destinations,
    pipelines,
    pipeline_metadata,
    wal_metrics,
);

DROP TABLE wal_metrics;

DROP TABLE wal_monitor_cycles;
DROP TABLE source_probe_status;
DROP TABLE wal_slot_samples;
ALTER TABLE sources DROP COLUMN ssl_mode;

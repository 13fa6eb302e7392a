DROP TABLE replicators;
DROP TABLE pipeline_tables;
DROP TABLE pipeline_runtime;
DROP TABLE pipeline_leases;

DROP TABLE pipeline_metadata;
DROP TABLE pipelines;
DROP TABLE destinations;
DROP TABLE sources;

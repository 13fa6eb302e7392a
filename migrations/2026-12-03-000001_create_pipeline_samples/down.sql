DROP TABLE pipeline_samples;

-- demo.sql: the pipeline `make demo` runs; grows with each feature.
;

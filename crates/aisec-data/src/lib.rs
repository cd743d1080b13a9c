//! Sensitive-data discovery in datasets for aisec: PII detectors over CSV, JSON Lines, Parquet, text and notebook outputs.

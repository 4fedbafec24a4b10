"""Ingest: transcript readers, study sheets, identifiers, and the folder ingest into the store."""

"""Reconciliation of two coders: the decision workbook, applying decisions, status."""

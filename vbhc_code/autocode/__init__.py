"""The explainable rule-based autocoder (a first pass stored as coder 'auto')."""

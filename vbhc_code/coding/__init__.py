"""Human coding: blind coder workbooks, imports and exports of codings, and reconciliation."""

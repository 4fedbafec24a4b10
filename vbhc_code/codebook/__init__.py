"""Codebooks: the built-in vbhc-sim codebook, validation (``load``) and export/import (``io``)."""

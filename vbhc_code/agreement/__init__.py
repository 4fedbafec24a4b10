"""Inter-coder agreement: coefficients (``statistics``), units of analysis (``units``), reports (``report``).

``from vbhc_code.agreement import coefficients`` is the stable entry point for the statistics.
"""

from vbhc_code.agreement.statistics import (
    coefficients,
    coefficients_from_patterns,
    coefficients_from_rows,
    coefficients_from_table,
)

__all__ = ["coefficients", "coefficients_from_patterns", "coefficients_from_rows", "coefficients_from_table"]

"""What an update reveals, and two defences (notebook 05).

- :mod:`~fedlite.privacy.inversion` -- reconstruct a patient's image from a shared update.
- :mod:`~fedlite.privacy.secagg` -- secure aggregation with pairwise masks.
- :mod:`~fedlite.privacy.dp` -- DP-FedAvg and its privacy budget.
"""

"""Real federations: who shows up, how many bytes travel, and hospitals that send wrong updates (notebook 06).

- :mod:`~fedlite.robustness.participation` -- dropouts and deadlines (update hooks).
- :mod:`~fedlite.robustness.compression` -- quantization and top-k, and their update hooks.
- :mod:`~fedlite.robustness.malicious` -- faulty and malicious hospitals (label flips, scaled updates, NaN).
- :mod:`~fedlite.robustness.defences` -- robust aggregation rules and update validation.
"""

"""Hospitals that differ, and what to do about it (notebooks 03 and 04).

- :mod:`~fedlite.heterogeneity.partition` -- cut one dataset into clients: IID, label skew
  (Dirichlet, shards), quantity skew.
- :mod:`~fedlite.heterogeneity.hospitals` -- simulated hospitals from an image set, each with its
  own scanner.
- :mod:`~fedlite.heterogeneity.normalize` -- feature statistics computed federatedly.
- :mod:`~fedlite.heterogeneity.personalize` -- adapt the global model to each hospital.
"""

"""LeRobot v3.0 datasets in the DROID schemas: write them from staged episodes, read them back.

``schemas`` (the three DROID schemas as data), ``layout`` (the v3.0 file layout), ``signals`` (per
frame states and commands, and every action form the schemas use), ``video`` (PyAV: encode,
concatenate, decode), ``feature_stats`` (LeRobot's statistics), ``staging`` (an episode as a worker
stages it), ``writer`` (the dataset files), ``reader`` (any DROID LeRobot dataset) and
``action_stats`` (Cosmos 3 10D action statistics of a dataset). pyarrow and PyAV are imported when
used (``pip install 'robosim_cosmos[dataset]'``).
"""

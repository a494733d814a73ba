"""Analysis of finished runs: offline world-model scoring (:func:`score_run`) and reports."""

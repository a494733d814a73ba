"""The run-folder format: every file name once (:mod:`.files`), the folder's identity and lock,
``results.jsonl`` with the typed :class:`~.results.EpisodeResult`, ``summary.json``,
``eval_info.json``, saved chunks, redaction of secrets, shards and their merge, suite summaries."""

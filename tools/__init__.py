"""Developer tools that work on the repository's files; never imported by ``robosim_cosmos``
and not shipped in the wheel."""

"""Screening the parties of a transaction against sanctions and export-control lists:
the lists in their published formats (:mod:`~trilink.screening.lists`), names across
scripts and romanisations (:mod:`~trilink.screening.names`), fuzzy matching that refuses
the known traps (:mod:`~trilink.screening.match`)."""

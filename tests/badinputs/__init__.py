"""The hostile-input corpus: bad inputs a user can hand knockseq, each with the exact message it gets.

Each case is a :class:`~badinputs.harness.Case`: it writes its bad file(s) into a copy of a project
that has already run once, and states the one message knockseq must print, where it must be raised
(at parse time, or in the job that reads the file), or that the input must simply work.
``tests/test_badinputs.py`` runs every case through Snakemake; the README's "Troubleshooting" section
is generated from the cases (``python -m badinputs.troubleshooting``, run from ``tests/``).
"""

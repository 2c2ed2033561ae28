"""Every case of the corpus, gathered from the modules that define them by area."""

from badinputs import files, settings

CASES = [*files.CASES, *settings.CASES]

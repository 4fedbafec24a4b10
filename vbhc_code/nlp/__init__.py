"""spaCy, and only here: blank pipelines, sentence spans and the term matcher."""

SUPPORTED_LANGUAGES = ("en", "nl")

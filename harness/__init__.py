"""codeeval: an evaluation harness for code-generation models.

The pipeline (docs/ARCHITECTURE.md): tasks build problems and requests, a backend generates,
tasks assemble programs, one execution service runs them in sandboxes, and one summarizer turns
the score rows into metrics.
"""

__version__ = "0.1.0"

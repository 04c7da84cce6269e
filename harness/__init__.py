"""codeeval: an evaluation harness for code-generation models.

The pipeline (see ARCHITECTURE in the docs): tasks build problems and requests, a backend
generates, tasks assemble programs, a sandbox runs them, scoring turns executions into pass@k.
"""

__version__ = "0.1.0"

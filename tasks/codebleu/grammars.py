"""Tree-sitter grammars for the 15 MultiCodeBench languages, from PyPI wheels.

The official scorer runs tree-sitter 0.21.3 on grammars it compiles from vendored sources
(evaluation/CodeBleu/parser/vendor). Here every grammar comes prebuilt from a wheel (nothing
is compiled at run time), pinned in pyproject's `multicodebench` extra to the vendored version
where PyPI has it: Python 0.21.0, Java 0.21.0, JavaScript 0.21.4, TypeScript 0.21.2, Go 0.21.0,
C 0.21.4, C++ 0.22.3, C# 0.21.3, PHP 0.22.8, Rust 0.21.2. Otherwise the nearest:
- Solidity 1.2.11 (vendored 1.2.7, not on PyPI; 134 of 140 Solidity texts parse the same);
- Lua 0.2.0 (vendored 0.1.0, not on PyPI; every Lua ground truth parses the same);
- Scala 0.23.0 (vendored 0.22.0, not on PyPI);
- Kotlin from `ts-kotlin` 0.0.1: fwcd's grammar, the one the official Kotlin DFG code is
  written for (`simple_identifier`, `function_value_parameters`, no field names, as the
  vendored 0.3.9's node types); the `tree-sitter-kotlin` wheels are a different grammar;
- Swift from `py-tree-sitter-swift` 0.0.1 (alex-pinkus's grammar): the vendored grammar
  (robrix's) is of language ABI 10, which tree-sitter 0.21.3 refuses to load, so the official
  scorer cannot have parsed Swift with it.
The vendored JavaScript is a commit after 0.21.4 (`import.meta` is a `meta_property`); no
wheel has it. The runtime is tree-sitter 0.24.0: 0.25 and later recover from syntax errors
differently from 0.21.3 (other trees for code that does not parse), and 0.21.3 itself cannot
load every grammar above. Tree text: `str(node)` is 0.21's `sexp()`. Which wheel versions
produced a score is recorded in the run's provenance.
"""

from __future__ import annotations

import importlib
import warnings
from functools import lru_cache

from codeeval.errors import UserError

# language key -> (module, function): the call returns the grammar (the pointer or capsule a
# Language is made from)
GRAMMARS: dict[str, tuple[str, str]] = {
    "python": ("tree_sitter_python", "language"),
    "java": ("tree_sitter_java", "language"),
    "javascript": ("tree_sitter_javascript", "language"),
    "typescript": ("tree_sitter_typescript", "language_typescript"),
    "go": ("tree_sitter_go", "language"),
    "c": ("tree_sitter_c", "language"),
    "cpp": ("tree_sitter_cpp", "language"),
    "c_sharp": ("tree_sitter_c_sharp", "language"),
    "php": ("tree_sitter_php", "language_php"),
    "rust": ("tree_sitter_rust", "language"),
    "scala": ("tree_sitter_scala", "language"),
    "lua": ("tree_sitter_lua", "language"),
    "kotlin": ("tree_sitter_kotlin", "language"),
    "swift": ("tree_sitter_swift", "language"),
    "solidity": ("tree_sitter_solidity", "language"),
}

# MultiCodeBench's `language` field -> language key (the official scorer lower-cases the field
# and renames csharp to c_sharp, the grammar's name)
DATASET_LANGUAGES = {
    "Python": "python", "Java": "java", "JavaScript": "javascript", "TypeScript": "typescript",
    "Go": "go", "C": "c", "CPP": "cpp", "CSharp": "c_sharp", "PHP": "php", "Rust": "rust",
    "Scala": "scala", "Lua": "lua", "Kotlin": "kotlin", "Swift": "swift", "Solidity": "solidity",
}

# the distributions that bring the grammar modules (for the provenance), where not named alike
DISTRIBUTIONS = {"tree_sitter_kotlin": "ts-kotlin", "tree_sitter_swift": "py-tree-sitter-swift"}
GRAMMAR_PACKAGES = tuple(sorted(DISTRIBUTIONS.get(entry[0], entry[0].replace("_", "-"))
                                for entry in GRAMMARS.values()))


def language_key(name: str) -> str:
    """The language key for a dataset language name or a key itself."""
    if name in GRAMMARS:
        return name
    try:
        return DATASET_LANGUAGES[name]
    except KeyError:
        raise UserError(f"CodeBLEU has no grammar for language {name!r}; known: "
                        f"{', '.join(DATASET_LANGUAGES)}") from None


@lru_cache(maxsize=None)
def parser(key: str, user: str = "CodeBLEU", extra: str = "multicodebench"):
    """A tree-sitter Parser for a language key (one per language, reused); `user` and `extra`
    name what needs it and the install extra that brings the grammar, for the error line."""
    try:
        import tree_sitter
        module_name, function = GRAMMARS[key]
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"{user} needs the tree-sitter grammar wheels ({exc.name} is missing); "
                        f"install them with: pip install 'codeeval[{extra}]'") from None
    with warnings.catch_warnings():   # the 0.21-era wheels hand over a plain int pointer
        warnings.simplefilter("ignore", DeprecationWarning)
        grammar = tree_sitter.Language(getattr(module, function)())
    return tree_sitter.Parser(grammar)


def parse(key: str, code: str):
    """The syntax tree of `code` (UTF-8, as the official scorer encodes it)."""
    return parser(key).parse(code.encode("utf-8"))

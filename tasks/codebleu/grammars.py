"""Tree-sitter grammars for the 15 MultiCodeBench languages, from maintained PyPI wheels.

The official scorer compiles vendored grammar sources into one shared library at set-up time;
here every grammar comes prebuilt from a wheel (nothing is compiled at run time): its own
`tree-sitter-<lang>` wheel, except Kotlin, taken from `tree-sitter-language-pack` because
that pack ships fwcd's Kotlin grammar, the one the official Kotlin DFG code is written for
(`simple_identifier`, `function_value_parameters`), while the `tree-sitter-kotlin` wheel is a
different grammar. Wheel versions were chosen by how many official GPT-4 Block_chain scores
they reproduce (benchmarks/multicodebench_codebleu.py); pyproject pins them. Which wheel versions produced a score is recorded in the run's provenance,
since the AST and data-flow terms depend on the grammar's node types.
"""

from __future__ import annotations

import importlib
import warnings
from functools import lru_cache

from codeeval.errors import UserError

# language key -> (module, function, *arguments): the call returns the grammar (a Language or
# the pointer one is made from)
GRAMMARS: dict[str, tuple[str, ...]] = {
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
    "kotlin": ("tree_sitter_language_pack", "get_language", "kotlin"),
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

GRAMMAR_PACKAGES = tuple(sorted({entry[0].replace("_", "-") for entry in GRAMMARS.values()}))


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
        module_name, function, *arguments = GRAMMARS[key]
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise UserError(f"{user} needs the tree-sitter grammar wheels ({exc.name} is missing); "
                        f"install them with: pip install 'codeeval[{extra}]'") from None
    grammar = getattr(module, function)(*arguments)
    if not isinstance(grammar, tree_sitter.Language):
        with warnings.catch_warnings():   # older grammar wheels hand over a plain int pointer
            warnings.simplefilter("ignore", DeprecationWarning)
            grammar = tree_sitter.Language(grammar)
    return tree_sitter.Parser(grammar)


def parse(key: str, code: str):
    """The syntax tree of `code` (UTF-8, as the official scorer encodes it)."""
    return parser(key).parse(code.encode("utf-8"))

"""Per-language tables for the DFG extractor: which node types start which construct.

Transcribed from MultiCodeBench's DFG_<lang>.py files as they behave, including node types
that the grammars no longer (or never) produce: such entries are harmless and keep the
tables comparable with the official code. Notable behaviours:
- C: a `declaration` is dropped whole (the grammar has no `name` field), and `assignment`
  is not a C node type, so C flows come from plain identifier reuse and `for` loops.
- C++, Solidity, Lua, Kotlin: only nodes spanning exactly one token get special handling
  (`span_guard`), so their DFGs come from identifier reuse alone.
- TypeScript: the official TypeScript extractor hands every child of the root to the
  JavaScript one, so TypeScript uses the JavaScript table.
- JavaScript: plain `assignment_expression` is not in the official assignment list.
- Rust: `let` declarations are dropped whole (they have no `right` field).
- Swift: the callee of a call is never visited; Scala: `def`, `val`, `var` only.
Lua, Kotlin, Swift, Scala, Rust and PHP have no official reference outputs to check
against (the shipped GPT-4 outputs cover Block_chain only); their tables follow the official
code but are unverified.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class DataFlowRules:
    handlers: dict[str, tuple] = field(default_factory=dict)   # node type -> (method, *args)
    leaf_types: frozenset[str] = frozenset({"string_literal", "string", "character_literal"})
    identifier: str = "identifier"            # the token type that defines a variable
    exact_lookup: bool = False                # token text by exact span, not by overlap
    token_positions: bool = False             # positions are token numbers, not spans
    span_guard: bool = False                  # only one-token nodes get special handling
    do_first: frozenset[str] = frozenset()
    skip_children: frozenset[str] = frozenset()
    definition_needs_name: bool = False
    if_types: tuple[str, ...] = ("if_statement", "else")
    if_adds_incoming_without_else: bool = True
    if_joins_incoming: bool = False


def _loop(*types: str, method: str = "loop_twice") -> dict[str, tuple]:
    return {t: (method,) for t in types}


JAVASCRIPT = DataFlowRules(
    handlers={"assignment_pattern": ("assignment",),
              "augmented_assignment_expression": ("assignment",),
              "variable_declarator": ("definition", "name", "value"),
              "update_expression": ("increment",),
              "if_statement": ("if_flag",), "else": ("if_flag",),
              "for_statement": ("for_after", "variable_declaration"),
              **_loop("while_statement")},
    if_joins_incoming=True)

RULES: dict[str, DataFlowRules] = {
    "python": DataFlowRules(
        handlers={"default_parameter": ("definition", "name", "value"),
                  "assignment": ("pairwise_assignment",),
                  "augmented_assignment": ("pairwise_assignment",),
                  "for_in_clause": ("pairwise_assignment",),
                  "if_statement": ("if_clauses", ("elif_clause", "else_clause")),
                  "for_statement": ("python_for",), **_loop("while_statement")},
        do_first=frozenset({"for_in_clause"})),
    "java": DataFlowRules(
        handlers={"assignment_expression": ("assignment",),
                  "variable_declarator": ("definition", "name", "value"),
                  "update_expression": ("increment",),
                  "if_statement": ("if_flag",), "else": ("if_flag",),
                  "for_statement": ("for_after", "local_variable_declaration"),
                  "enhanced_for_statement": ("enhanced_for", "name", "value"),
                  **_loop("while_statement")}),
    "go": DataFlowRules(
        handlers={"assignment_statement": ("assignment",),
                  "var_spec": ("definition", "name", "value"),
                  "inc_statement": ("increment",),
                  "if_statement": ("if_flag",), "else": ("if_flag",),
                  "for_statement": ("go_for",)},
        if_joins_incoming=True),
    "javascript": JAVASCRIPT,
    "typescript": JAVASCRIPT,
    "c_sharp": DataFlowRules(
        handlers={"assignment_expression": ("assignment",),
                  "variable_declarator": ("definition",),
                  "postfix_unary_expression": ("increment",),
                  "if_statement": ("if_flag",), "else": ("if_flag",),
                  "for_statement": ("for_after", "local_variable_declaration"),
                  "for_each_statement": ("enhanced_for", "left", "right"),
                  **_loop("while_statement")}),
    "php": DataFlowRules(
        handlers={"assignment_expression": ("assignment",),
                  "augmented_assignment_expression": ("assignment",),
                  "simple_parameter": ("definition", "name", "default_value"),
                  "update_expression": ("increment",),
                  "if_statement": ("if_flag",), "else_clause": ("if_flag",),
                  "for_statement": ("for_after", "assignment_expression"),
                  "foreach_statement": ("php_foreach",), **_loop("while_statement")},
        if_types=("if_statement", "else_clause"), if_adds_incoming_without_else=False,
        if_joins_incoming=True, skip_children=frozenset({"text"})),
    "c": DataFlowRules(
        handlers={"declaration": ("definition", "name", "value"),
                  "assignment": ("pairwise_assignment",),
                  "augmented_assignment": ("pairwise_assignment",),
                  "if_statement": ("if_clauses", ("else_clause",)),
                  "for_statement": ("c_for",), **_loop("while_statement")},
        leaf_types=frozenset({"string_literal", "character_literal", "numeric_literal"}),
        definition_needs_name=True),
    "cpp": DataFlowRules(
        handlers={"parameter_declaration": ("definition", "declarator", "value"),
                  "assignment_expression": ("pairwise_assignment",),
                  "compound_assignment_expression": ("pairwise_assignment",),
                  "if_statement": ("if_clauses", ("elif_clause", "else_clause")),
                  **_loop("while_statement")},
        leaf_types=frozenset({"string_literal", "character_literal", "number_literal"}),
        exact_lookup=True, token_positions=True, span_guard=True,
        definition_needs_name=True, skip_children=frozenset({"ERROR"})),
    "solidity": DataFlowRules(
        leaf_types=frozenset({"string_literal", "number_literal", "boolean_literal"}),
        exact_lookup=True, token_positions=True, span_guard=True),
    "lua": DataFlowRules(
        leaf_types=frozenset({"string_literal", "number_literal", "boolean_literal",
                              "nil_literal"}),
        exact_lookup=True, token_positions=True, span_guard=True),
    "kotlin": DataFlowRules(
        leaf_types=frozenset({"string_template", "integer_literal", "boolean_literal"}),
        identifier="simple_identifier", span_guard=True),
    "rust": DataFlowRules(
        handlers={"let_declaration": ("nothing",),
                  "if_expression": ("if_clauses", ("else_clause",)),
                  "for_expression": ("rust_for",), **_loop("while_expression"),
                  "loop_expression": ("loop_body", ("loop", "block"))},
        leaf_types=frozenset({"string_literal", "char_literal", "literal"})),
    "scala": DataFlowRules(
        handlers={"function_definition": ("scala_function",),
                  "val_definition": ("scala_definition",),
                  "var_definition": ("scala_definition",),
                  "var_declaration": ("scala_declaration",)},
        leaf_types=frozenset({"string_literal", "character_literal"})),
    "swift": DataFlowRules(
        handlers={"call_expression": ("swift_call",),
                  "while_statement": ("loop_body", ("control_structure_body",), 2)},
        leaf_types=frozenset({"string_literal", "character_literal", "number_literal"}),
        exact_lookup=True),
}

"""The DFG extractor: the official recursive skeleton, driven by per-language tables.

`Extractor.visit(node, states)` returns the DFG entries under `node` and the variable states
after it (variable name -> positions where its current value was last set). Each construct
the tables name (`dataflow_rules.py`) is one method below, mirroring the corresponding branch
of MultiCodeBench's DFG_<lang>.py; anything else is visited child by child.
"""

from __future__ import annotations

from codeeval.tasks.codebleu.dataflow_rules import DataFlowRules


def span_of(node) -> tuple:
    return tuple(node.start_point), tuple(node.end_point)


def unique_names(names: list[str]) -> list[str]:
    """Distinct names in a fixed order (the official code leaves them in set order)."""
    return sorted(set(names))


def by_position(dfg: list) -> list:
    return sorted(dfg, key=lambda entry: entry[1])


def merge_repeats(dfg: list) -> list:
    """Loops visit their body twice; entries for one (name, position, relation) are merged."""
    merged: dict[tuple, list] = {}
    for name, pos, relation, names, positions in dfg:
        key = (name, pos, relation)
        if key not in merged:
            merged[key] = [names, positions]
        else:
            merged[key] = [unique_names(merged[key][0] + names),
                           sorted(set(merged[key][1] + positions))]
    out = [(k[0], k[1], k[2], v[0], v[1])
           for k, v in sorted(merged.items(), key=lambda item: item[0][1])]
    return by_position(out)


def _join_states(branches: list[dict], extra: dict | None = None) -> dict:
    joined: dict = {}
    for states in branches + ([extra] if extra is not None else []):
        for key, value in states.items():
            joined[key] = joined[key] + value if key in joined else list(value)
    return {key: sorted(set(value)) for key, value in joined.items()}


class Extractor:
    """One language's DFG extraction over one parsed code text."""

    def __init__(self, rules: DataFlowRules, tokens):
        self.rules, self.tokens = rules, tokens

    def text_and_position(self, span):
        if self.rules.exact_lookup:
            number, text = self.tokens.by_span[span]
            return text, (number if self.rules.token_positions else span)
        return self.tokens.overlapping(span), span

    def visit(self, node, states: dict) -> tuple[list, dict]:
        if node is None:
            return [], states
        states = states.copy()
        if self.rules.span_guard and span_of(node) not in self.tokens.by_span:
            dfg = []
            for child in node.children:
                part, states = self.visit(child, states)
                dfg += part
            return dfg, states
        if (not node.children or node.type in self.rules.leaf_types) and node.type != "comment":
            return self.leaf(node, states)
        handler = self.rules.handlers.get(node.type)
        if handler is None:
            return self.children(node, states)
        return getattr(self, handler[0])(node, states, *handler[1:])

    def leaf(self, node, states):
        if self.rules.exact_lookup and span_of(node) not in self.tokens.by_span:
            return [], states
        text, pos = self.text_and_position(span_of(node))
        if node.type == text:
            return [], states
        if text in states:
            return [(text, pos, "comesFrom", [text], states[text].copy())], states
        if node.type == self.rules.identifier:
            states[text] = [pos]
        return [(text, pos, "comesFrom", [], [])], states

    def children(self, node, states):
        dfg = []
        ordered = ([c for c in node.children if c.type in self.rules.do_first]
                   + [c for c in node.children if c.type not in self.rules.do_first])
        for child in ordered:
            if child.type in self.rules.skip_children:
                continue
            part, states = self.visit(child, states)
            dfg += part
        return by_position(dfg), states

    def visit_all(self, nodes, states):
        dfg = []
        for node in nodes:
            part, states = self.visit(node, states)
            dfg += part
        return dfg, states

    # -- definitions and assignments ------------------------------------------------------

    def definition(self, node, states, name_field=None, value_field=None):
        """`name = value` in a declaration: each name comes from each value token."""
        if name_field is None:   # C#: the declarator's first and (if two) second child
            name = node.children[0]
            value = node.children[1] if len(node.children) == 2 else None
        else:
            name = node.child_by_field_name(name_field)
            value = node.child_by_field_name(value_field)
        if name is None and self.rules.definition_needs_name:
            return [], states
        dfg = []
        if value is None:
            for span in self.tokens.variable_spans(name):
                text, pos = self.text_and_position(span)
                dfg.append((text, pos, "comesFrom", [], []))
                states[text] = [pos]
            return by_position(dfg), states
        part, states = self.visit(value, states)
        dfg += part
        dfg += self.link(name, value, "comesFrom", states)
        return by_position(dfg), states

    def link(self, targets, sources, relation, states):
        """One `relation` edge from every variable token of `sources` to each variable token
        of `targets`, which become the latest definitions of their names."""
        values = [self.text_and_position(s) for s in self.tokens.variable_spans(sources)]
        dfg = []
        for span in self.tokens.variable_spans(targets):
            text, pos = self.text_and_position(span)
            dfg += [(text, pos, relation, [v_text], [v_pos]) for v_text, v_pos in values]
            states[text] = [pos]
        return dfg

    def assignment(self, node, states):
        """`left = right`: one edge per (left token, right token) pair."""
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        dfg, states = self.visit(right, states)
        dfg += self.link(left, right, "computedFrom", states)
        return by_position(dfg), states

    def _pairs_from(self, left_nodes, right_nodes, states):
        dfg, states = self.visit_all(right_nodes, states)
        for left, right in zip(left_nodes, right_nodes):
            values = [self.text_and_position(s) for s in self.tokens.variable_spans(right)]
            for span in self.tokens.variable_spans(left):
                text, pos = self.text_and_position(span)
                dfg.append((text, pos, "computedFrom", [v[0] for v in values],
                            [v[1] for v in values]))
                states[text] = [pos]
        return dfg, states

    def _split_sides(self, node):
        left, right = node.child_by_field_name("left"), node.child_by_field_name("right")
        left_nodes = [x for x in left.children if x.type != ","]
        right_nodes = [x for x in right.children if x.type != ","]
        if len(left_nodes) != len(right_nodes):
            left_nodes, right_nodes = [left], [right]
        return left_nodes or [left], right_nodes or [right]

    def pairwise_assignment(self, node, states):
        """`a, b = x, y`: each left item computed from all tokens of its right item."""
        if node.type == "for_in_clause":
            left_nodes = [node.child_by_field_name("left")]
            right_nodes = [node.children[-1]]
        else:
            if node.child_by_field_name("right") is None:
                return [], states
            left_nodes, right_nodes = self._split_sides(node)
        dfg, states = self._pairs_from(left_nodes, right_nodes, states)
        return by_position(dfg), states

    def nothing(self, node, states):
        """Constructs the official extractor drops entirely (e.g. C declarations)."""
        return [], states

    def increment(self, node, states):
        spans = self.tokens.variable_spans(node)
        pairs = [self.text_and_position(s) for s in spans]
        dfg = []
        for text, pos in pairs:
            dfg += [(text, pos, "computedFrom", [t2], [p2]) for t2, p2 in pairs]
            states[text] = [pos]
        return by_position(dfg), states

    # -- branches -------------------------------------------------------------------------

    def if_clauses(self, node, states, else_types):
        """Python-style: clauses of `else_types` start from the incoming state."""
        dfg, current, branches, has_else = [], states.copy(), [], "else" in node.type
        for child in node.children:
            has_else = has_else or "else" in child.type
            if child.type not in else_types:
                part, current = self.visit(child, current)
            else:
                part, branch = self.visit(child, states)
                branches.append(branch)
            dfg += part
        branches.append(current)
        if not has_else:
            branches.append(states)
        return by_position(dfg), _join_states(branches)

    def if_flag(self, node, states):
        """Java-style: everything from the first `else` on starts from the incoming state."""
        rules = self.rules
        dfg, current, branches = [], states.copy(), []
        has_else, in_else = "else" in node.type, False
        for child in node.children:
            has_else = has_else or "else" in child.type
            if child.type not in rules.if_types and not in_else:
                part, current = self.visit(child, current)
            else:
                in_else = True
                part, branch = self.visit(child, states)
                branches.append(branch)
            dfg += part
        branches.append(current)
        if not has_else and rules.if_adds_incoming_without_else:
            branches.append(states)
        return by_position(dfg), _join_states(
            branches, states if rules.if_joins_incoming else None)

    # -- loops ----------------------------------------------------------------------------

    def loop_twice(self, node, states):
        dfg = []
        for _ in range(2):
            part, states = self.visit_all(node.children, states)
            dfg += part
        return merge_repeats(dfg), states

    def python_for(self, node, states):
        dfg = []
        for _ in range(2):
            left_nodes, right_nodes = self._split_sides(node)
            part, states = self._pairs_from(left_nodes, right_nodes, states)
            dfg += part
            if node.children[-1].type == "block":
                part, states = self.visit(node.children[-1], states)
                dfg += part
        return merge_repeats(dfg), states

    def for_after(self, node, states, marker):
        """All children, then again those after the first `marker` child (the loop body)."""
        dfg, states = self.visit_all(node.children, states)
        after = False
        for child in node.children:
            if after:
                part, states = self.visit(child, states)
                dfg += part
            elif child.type == marker:
                after = True
        return merge_repeats(dfg), states

    def go_for(self, node, states):
        dfg, states = self.visit_all(node.children, states)
        after = False
        for child in node.children:
            if after:
                part, states = self.visit(child, states)
                dfg += part
            elif child.type == "for_clause":
                part, states = self.visit(child.child_by_field_name("update"), states)
                dfg += part
                after = True
        return merge_repeats(dfg), states

    def c_for(self, node, states):
        dfg = []
        body = node.child_by_field_name("body")
        for _ in range(2):
            for field in ("initializer", "condition", "update"):
                part, states = self.visit(node.child_by_field_name(field), states)
                dfg += part
            if body is not None and body.type == "compound_statement":
                part, states = self.visit(body, states)
                dfg += part
        return merge_repeats(dfg), states

    def enhanced_for(self, node, states, name_field, value_field):
        return self._each(node, states, node.child_by_field_name(name_field),
                          node.child_by_field_name(value_field))

    def php_foreach(self, node, states):
        variables = [c for c in node.children if c.type == "variable_name"][:2]
        value = variables[0] if variables else None
        name = variables[1] if len(variables) > 1 else None
        return self._each(node, states, name, value)

    def _each(self, node, states, name, value):
        dfg, body = [], node.child_by_field_name("body")
        for _ in range(2):
            part, states = self.visit(value, states)
            dfg += part
            dfg += self.link(name, value, "computedFrom", states)
            part, states = self.visit(body, states)
            dfg += part
        return merge_repeats(dfg), states

    def rust_for(self, node, states):
        iterator = block = None
        for child in node.children:
            if child.type in ("identifier", "binary_expression", "call_expression"):
                iterator = child
            elif child.type == "block":
                block = child
        dfg, states = self.visit_all([n for n in (iterator, block) if n is not None], states)
        return merge_repeats(dfg), states

    def loop_body(self, node, states, body_types, times=1):
        dfg = []
        for _ in range(times):
            part, states = self.visit_all([c for c in node.children if c.type in body_types],
                                          states)
            dfg += part
        return merge_repeats(dfg), states

    # -- language-specific constructs -----------------------------------------------------

    def scala_function(self, node, states):
        dfg, params = [], node.child_by_field_name("parameters")
        for param in params.children if params is not None else ():
            for span in self.tokens.variable_spans(param):
                text, pos = self.text_and_position(span)
                dfg.append((text, pos, "comesFrom", [], []))
                states[text] = [pos]
        part, states = self.visit(node.child_by_field_name("body"), states)
        return by_position(dfg + part), states

    def scala_definition(self, node, states):
        pattern, value = node.child_by_field_name("pattern"), node.child_by_field_name("value")
        if pattern is None or value is None:
            return [], states
        dfg = [(self.text_and_position(s)[0], self.text_and_position(s)[1], "typedAs", [], [])
               for s in self.tokens.variable_spans(node.child_by_field_name("type"))]
        dfg += self.link(pattern, value, "computedFrom", states)
        return by_position(dfg), states

    def scala_declaration(self, node, states):
        names, type_node = node.child_by_field_name("name"), node.child_by_field_name("type")
        if names is None or type_node is None:
            return [], states
        types = [self.text_and_position(s) for s in self.tokens.variable_spans(type_node)]
        dfg = []
        for name in names.named_children:
            for span in self.tokens.variable_spans(name):
                text, pos = self.text_and_position(span)
                dfg += [(text, pos, "typedAs", [t2], [p2]) for t2, p2 in types]
                states[text] = [pos]
        return by_position(dfg), states

    def swift_call(self, node, states):
        """The callee's own name is never visited (the official lookup of it always fails)."""
        dfg = []
        for suffix in (c for c in node.children if c.type == "call_suffix"):
            part, states = self.visit_all(suffix.children, states)
            dfg += part
            break
        part, states = self.visit_all(
            [c for c in node.children if c.type not in ("simple_identifier", "call_suffix")],
            states)
        return by_position(dfg + part), states

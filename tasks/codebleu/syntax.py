"""CodeBLEU's syntax (AST subtree) match, as MultiCodeBench computes it.

Every subtree of the reference that has children (and the root) is written as tree-sitter's
s-expression, named nodes with field names; the score is the share of those found among
the candidate's subtrees. Reference subtrees are counted with repeats, candidate ones as a
set, exactly as the official `sub_tree in cand_sexps` test does.
"""

from __future__ import annotations

from codeeval.tasks.codebleu.grammars import parse


def subtree_expressions(code: str, key: str) -> list[str]:
    root = parse(key, code).root_node
    out, stack = [], [root]
    while stack:
        node = stack.pop()
        out.append(str(node))
        stack.extend(child for child in node.children if child.children)
    return out


def syntax_match(reference: str, candidate: str, key: str) -> float:
    reference_trees = subtree_expressions(reference, key)
    candidate_trees = set(subtree_expressions(candidate, key))
    if not reference_trees:
        return 0.0
    return sum(tree in candidate_trees for tree in reference_trees) / len(reference_trees)

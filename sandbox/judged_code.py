"""The test code compiled with its comparisons and assertions judged (standard library only).

Loaded by the worker from source as `codeeval_judged_code`, before `codeeval_steps`, whose
`make_plan` compiles every test statement with `judged_code`: each comparison the test code
writes (`==`, `<`, `in`..., chains, `isinstance(x, C)`) becomes a call of a judge of
`codeeval_comparisons`, and each `self.assertX(...)` a call of the harness's assertion
(`codeeval_unittest`), never looked up on the test. The judges are constants of the compiled
code (`linked`), not names: the solution's code can rebind a name of the tests' namespace.
"""

import ast
import copy
import types
import warnings

import codeeval_comparisons
import codeeval_unittest


# What the test code's comparisons call, as placeholders: compiled in as constants and then
# replaced by the functions themselves (`linked`), since a name in the tests' namespace is one
# the solution's code can rebind while the tests run.
JUDGES = {"\x00codeeval judged_comparison": codeeval_comparisons.judged_comparison,
          "\x00codeeval judged_chain": codeeval_comparisons.judged_chain,
          "\x00codeeval judged_isinstance": codeeval_comparisons.judged_isinstance}
COMPARISON, CHAIN, ISINSTANCE = JUDGES
# `self.assertEqual(...)` in the test code calls the harness's assertEqual directly: looked up
# on the test, it would be whatever the program set on the test's class for that one call.
ASSERTION = "\x00codeeval assertion "
JUDGES.update({ASSERTION + name: vars(codeeval_unittest.unittest.TestCase)[name][0]
               for name in codeeval_unittest.ASSERTIONS})


def judged_code(tree, path, mode):
    """The test code `tree` compiled with each comparison it writes (`assertTrue(x == y)`, an
    `assert` in a test function, `0 <= x <= 1`, `x in y`) a call that refuses an operand
    which may not judge it, as unittest's assertions do (codeeval_comparisons)."""
    own = {node.name for node in ast.walk(tree)   # a test's own assertEqual stays its own
           if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))}
    tree = ast.fix_missing_locations(JudgedComparisons(own).visit(copy.deepcopy(tree)))
    with warnings.catch_warnings():   # "'str' object is not callable": the placeholders
        warnings.simplefilter("ignore", SyntaxWarning)
        return linked(compile(tree, path, mode))


def linked(code):
    consts = tuple(linked(c) if type(c) is types.CodeType else
                   JUDGES.get(c, c) if type(c) is str else c for c in code.co_consts)
    changed = any(new is not old for new, old in zip(consts, code.co_consts))
    return code.replace(co_consts=consts) if changed else code


class JudgedComparisons(ast.NodeTransformer):
    """Each comparison but a lone `is` or `is not`, and each `isinstance(x, C)`, as a call of a
    judge, and each `self.<unittest assertion>(...)` as a call of the harness's (unless the
    test code defines a function of that name: `own`). A chain's later
    operands become lambdas, evaluated only when the pairs before hold, as in Python; in a class
    body they stay values (a lambda there does not see the class's names)."""

    class_body = False

    def __init__(self, own=frozenset()):
        self.own = own

    def visit_Call(self, node):   # isinstance(x, C): a `__class__` of the program's can claim C
        self.generic_visit(node)
        func = node.func
        if isinstance(func, ast.Name) and func.id == "isinstance" and \
                len(node.args) == 2 and not node.keywords and \
                not any(isinstance(a, ast.Starred) for a in node.args):
            node.func = ast.copy_location(ast.Constant(ISINSTANCE), func)
        elif isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and \
                func.value.id == "self" and func.attr in codeeval_unittest.ASSERTIONS and \
                func.attr not in self.own:
            node.func = ast.copy_location(ast.Constant(ASSERTION + func.attr), func)
            node.args = [func.value, *node.args]
        return node

    def visit_Compare(self, node):
        self.generic_visit(node)
        ops = [type(op).__name__ for op in node.ops]
        if len(ops) == 1 and ops[0] in ("Is", "IsNot"):
            return node
        if len(ops) == 1:
            call = ast.Call(ast.Constant(COMPARISON), [ast.Constant(ops[0]), node.left,
                                                       node.comparators[0]], [])
        else:
            later = node.comparators if self.class_body else [
                ast.Lambda(ast.arguments([], [], None, [], [], None, []), operand)
                for operand in node.comparators]
            call = ast.Call(ast.Constant(CHAIN), [ast.Constant(tuple(ops)),
                                                  ast.Constant(not self.class_body),
                                                  node.left, *later], [])
        return ast.copy_location(call, node)

    def scoped(self, class_body, nodes):
        """`nodes` (a node or a list) visited as code of a class body, or of a function."""
        outer, self.class_body = self.class_body, class_body
        try:
            return [self.visit(n) for n in nodes] if isinstance(nodes, list) else self.visit(nodes)
        finally:
            self.class_body = outer

    def visit_ClassDef(self, node):
        node.bases, node.keywords, node.decorator_list = (
            [self.visit(n) for n in nodes] for nodes in (node.bases, node.keywords,
                                                         node.decorator_list))
        node.body = self.scoped(True, node.body)
        return node

    def visit_FunctionDef(self, node):   # decorators and defaults: the enclosing scope's
        node.decorator_list = [self.visit(n) for n in node.decorator_list]
        node.args = self.visit(node.args)
        node.body = self.scoped(False, node.body)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        node.args = self.visit(node.args)
        node.body = self.scoped(False, node.body)
        return node

    def visit_comprehension_scope(self, node):   # its first iterable: the enclosing scope's
        first = node.generators[0]
        first.iter = self.visit(first.iter)
        fields = [f for f in node._fields if f != "generators"]
        for field in fields:
            setattr(node, field, self.scoped(False, getattr(node, field)))
        first.target = self.scoped(False, first.target)
        first.ifs = self.scoped(False, first.ifs)
        node.generators[1:] = self.scoped(False, node.generators[1:])
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = \
        visit_comprehension_scope

"""The layout's import rules: models/ is pure model code, deployments/ wrap it for Serve, serve_app/ assembles
the applications, and the bot reaches the models only through a deployment handle (it never imports torch)."""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# package -> top-level names (or dotted prefixes) its modules must never import
FORBIDDEN = {
    "models": {"ray", "aiogram", "starlette", "fastapi", "serve_app", "deployments", "bot"},
    "deployments": {"aiogram", "serve_app", "bot"},
    "serve_app": {"aiogram", "bot"},
    "bot": {"torch", "torchvision", "serve_app", "models.nst", "models.cyclegan", "models.tensors",
            "models.device", "models.loading", "models.weights_store", "models.onnxgraph",
            "models.arbitrary", "models.multistyle"},
}


def imports_of(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside functions, relative imports resolved."""
    tree = ast.parse(path.read_text(), str(path))
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[:len(parts) - node.level + 1] + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def breaks(module: str, rule: str) -> bool:
    return module == rule or module.startswith(rule + ".")


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_imports_flow_one_way(package):
    wrong = sorted(f"{path.relative_to(ROOT)}: {module}"
                   for path in (ROOT / package).rglob("*.py")
                   for module in imports_of(path)
                   if any(breaks(module, rule) for rule in FORBIDDEN[package]))
    assert wrong == []


def test_the_rules_see_a_forbidden_import(tmp_path):
    sample = ROOT / "models" / "_layout_probe.py"
    sample.write_text("def f():\n    from ray import serve\n")
    try:
        assert "ray" in imports_of(sample)
    finally:
        sample.unlink()


def test_the_bot_runs_without_torch():
    modules = sorted(".".join(p.relative_to(ROOT).with_suffix("").parts) for p in (ROOT / "bot").rglob("*.py"))
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "heavy = sorted(m for m in ('torch', 'torchvision') if m in sys.modules)\nprint(heavy)\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


# -- size and cycles ------------------------------------------------------------------------------------------
PACKAGES = ("models", "deployments", "serve_app", "bot")    # tests/ and bench/ are scripts: not held to these
MAX_CLASS_LINES, MAX_FUNCTION_LINES = 200, 50


def project_files() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (ROOT / package).rglob("*.py"))


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def oversized(tree: ast.AST, kinds: tuple[type, ...], limit: int) -> list[tuple[str, int]]:
    """(name, lines) of every definition of `kinds` longer than `limit` lines, its docstring and decorators'
    lines after `def` included."""
    return [(node.name, node.end_lineno - node.lineno + 1) for node in ast.walk(tree)
            if isinstance(node, kinds) and node.end_lineno - node.lineno + 1 > limit]


def test_no_class_over_200_lines_and_no_function_over_50():
    too_long = []
    for path in project_files():
        tree = ast.parse(path.read_text(), str(path))
        where = path.relative_to(ROOT)
        too_long += [f"{where}: class {n} has {k} lines" for n, k in oversized(tree, (ast.ClassDef,), MAX_CLASS_LINES)]
        too_long += [f"{where}: {n}() has {k} lines"
                     for n, k in oversized(tree, (ast.FunctionDef, ast.AsyncFunctionDef), MAX_FUNCTION_LINES)]
    assert too_long == []


def test_the_size_check_sees_a_long_function():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    assert oversized(ast.parse(f"def long():\n{body}"), (ast.FunctionDef,), MAX_FUNCTION_LINES) == [
        ("long", MAX_FUNCTION_LINES + 1)]


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports, wherever the import sits (inside a function, under
    TYPE_CHECKING): a cycle hidden from the interpreter is still two modules that each need the other."""
    modules = {module_name(p): p for p in project_files()}
    graph = {}
    for name, path in modules.items():
        targets = set()
        for imported in imports_of(path):
            while imported and imported not in modules:   # `from models.nst.run import NSTRun` -> models.nst.run
                imported = imported.rpartition(".")[0]
            if imported and imported != name:
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan), each sorted."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles():
    # A package's __init__ that re-exports its submodules is not a cycle with them: Python runs it first.
    graph = {m: {t for t in ts if not m.startswith(t + ".")} for m, ts in import_graph().items()}
    assert cycles(graph) == []


def test_the_cycle_check_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]

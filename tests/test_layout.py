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

"""Services depend on the shared domain core, never on each other."""

from __future__ import annotations

import ast
from pathlib import Path

SERVICES = Path(__file__).resolve().parents[2] / "services"


def _imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_service_imports_another() -> None:
    services = sorted(p.name for p in SERVICES.iterdir() if (p / "__init__.py").exists())
    assert len(services) >= 5
    crossings = []
    for service in services:
        for path in (SERVICES / service).rglob("*.py"):
            for module in _imports(path):
                parts = module.split(".")
                if parts[:2] == ["hotline", "services"] and len(parts) > 2 and parts[2] != service:
                    crossings.append(f"{path.relative_to(SERVICES)} imports {module}")
    assert not crossings, "services import each other:\n" + "\n".join(crossings)

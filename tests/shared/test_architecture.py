"""Services depend on the shared domain core, never on each other, and the core on no service.

The services live in the top-level ``services/`` package, reached as ``hotline.services`` (a link in
``hotline/``); both spellings, relative imports and ``importlib.import_module`` count as imports.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("hotline.services", "services")  # the two names a service package is reachable by


def _imports(path: Path, package: tuple[str, ...]) -> set[str]:
    """Absolute names of the modules ``path`` imports; ``package``: the dotted package it sits in."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:  # from ..router import x: resolved against the file's own package
                base = list(package[: len(package) - node.level + 1])
                names.add(".".join([*base, *([node.module] if node.module else [])]))
                names.update(".".join([*base, alias.name]) for alias in node.names if not node.module)
            elif node.module:
                names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = node.func
            called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            if called in ("import_module", "__import__") and isinstance(node.args[0].value, str):
                names.add(node.args[0].value)
    return names


def _service_of(module: str) -> str | None:
    for prefix in PACKAGES:
        if module.startswith(prefix + "."):
            return module[len(prefix) + 1 :].split(".")[0]
    return None


def crossings(services_dir: Path) -> list[str]:
    """Every import in a service package of another service package."""
    found = []
    services = sorted(p.name for p in services_dir.iterdir() if (p / "__init__.py").exists())
    for service in services:
        for path in sorted((services_dir / service).rglob("*.py")):
            package = ("services", *path.relative_to(services_dir).parent.parts)
            for module in _imports(path, package):
                other = _service_of(module)
                if other in services and other != service:
                    found.append(f"{path.relative_to(services_dir)} imports {module}")
    return found


def test_the_service_packages_are_one_tree() -> None:
    """``hotline.services`` is the top-level ``services/`` (a second copy would escape the check)."""
    assert (ROOT / "hotline" / "services").resolve() == (ROOT / "services").resolve()
    services = [p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").exists()]
    assert {"classifier", "escalation", "feed", "intake", "router"} <= set(services)


def test_no_service_imports_another() -> None:
    problems = crossings((ROOT / "services").resolve())
    assert not problems, "services import each other:\n" + "\n".join(problems)


def test_the_domain_core_imports_no_service() -> None:
    shared = (ROOT / "shared").resolve()
    problems = [
        f"{path.relative_to(shared)} imports {module}"
        for path in sorted(shared.rglob("*.py"))
        for module in _imports(path, ("shared", *path.relative_to(shared).parent.parts))
        if _service_of(module) is not None or module == "hotline.services"
    ]
    assert not problems, "the shared core depends on a service:\n" + "\n".join(problems)


def test_every_way_of_importing_another_service_is_caught(tmp_path: Path) -> None:
    (tmp_path / "router").mkdir()
    (tmp_path / "router" / "__init__.py").write_text("")
    intake = tmp_path / "intake"
    (intake / "sub").mkdir(parents=True)
    (intake / "__init__.py").write_text("")
    (intake / "sub" / "__init__.py").write_text("")
    (intake / "a.py").write_text("from hotline.services.router.routing import route_case\n")
    (intake / "b.py").write_text("import services.router.app\n")
    (intake / "c.py").write_text("from ..router import routing\n")
    (intake / "sub" / "d.py").write_text("from ...router.app import create_app\n")
    (intake / "e.py").write_text("import importlib\nimportlib.import_module('hotline.services.router.app')\n")
    (intake / "ok.py").write_text("from hotline.services.intake.work import Step\nfrom . import a\n")
    found = crossings(tmp_path)
    assert sorted(line.split(" imports ")[0] for line in found) == [
        "intake/a.py",
        "intake/b.py",
        "intake/c.py",
        "intake/e.py",
        "intake/sub/d.py",
    ], found

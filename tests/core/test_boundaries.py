"""The core stays platform-free: no chat, scheduler or environment access in briefings/."""

import ast
from pathlib import Path

import pytest

CORE = Path(__file__).resolve().parents[2] / "briefings"
FORBIDDEN = {
    "telegram",
    "slack_bolt",
    "slack_sdk",
    "apscheduler",
    "sqlalchemy",
    "alembic",
    "aiohttp",
    "httpx",
}


def imported_packages(source: str) -> set[str]:
    """Top-level packages a module imports, wherever the import statement sits."""
    imported: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    return imported


def _modules() -> list[Path]:
    return sorted(CORE.rglob("*.py"))


def test_the_core_has_modules() -> None:
    assert len(_modules()) >= 10


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_imports_no_platform_library(path: Path) -> None:
    imported = imported_packages(path.read_text(encoding="utf-8"))
    assert not imported & FORBIDDEN
    assert "bot" not in imported, "the core must not depend on the adapters"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(CORE)))
def test_core_module_reads_no_environment(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr in {"environ", "getenv"}:
            pytest.fail(f"{path.name}:{node.lineno} reads the environment")


def test_scanner_sees_imports_inside_functions() -> None:
    sample = "import os\ndef f():\n    from telegram.ext import Application\n    import slack_sdk\n"
    assert imported_packages(sample) & FORBIDDEN == {"telegram", "slack_sdk"}


def test_storage_is_one_of_the_forbidden() -> None:
    assert imported_packages("from sqlalchemy import select\nimport alembic") <= FORBIDDEN


CORE_TESTS = Path(__file__).resolve().parent
MEMORY_FAKES = CORE_TESTS.parents[1] / "fakes" / "memory.py"


@pytest.mark.parametrize(
    "path",
    [*sorted(CORE_TESTS.glob("*.py")), MEMORY_FAKES],
    ids=lambda p: p.name,
)
def test_core_tests_need_no_platform_either(path: Path) -> None:
    """Tests of the core run without the adapters: those live in tests/rendering and beyond."""
    imported = imported_packages(path.read_text(encoding="utf-8"))
    assert not imported & (FORBIDDEN | {"bot"})

"""The settings module reads its environment as `.env.example` documents."""

import ast
import re
from pathlib import Path

from tests.utils import BASE_DIR


def env_variables_read_by(path: Path) -> set[str]:
    """Names passed to `env(...)` / `env.<type>(...)` in a settings module."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        is_env = (isinstance(func, ast.Name) and func.id == "env") or (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id == "env"
        )
        first = node.args[0]
        if is_env and isinstance(first, ast.Constant) and isinstance(first.value, str):
            names.add(first.value)
    return names


def test_every_environment_variable_is_in_env_example():
    read = env_variables_read_by(BASE_DIR / "marketplace" / "settings.py")
    documented = (BASE_DIR / ".env.example").read_text()

    missing = sorted(n for n in read if not re.search(rf"\b{n}\b", documented))

    assert len(read) > 30  # the parser sees the settings module's env calls
    assert missing == []


def test_the_jobs_doc_lists_every_periodic_job():
    from marketplace.celery import app
    from tests.utils import BASE_DIR

    doc = (BASE_DIR / "docs" / "jobs.md").read_text()
    for name, entry in app.conf.beat_schedule.items():
        assert f"| `{name}` | `{entry['task']}`" in doc, name

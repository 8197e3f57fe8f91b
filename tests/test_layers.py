"""The package's shape, checked: no import cycles, no private names across modules, one place for each list.

The layers themselves are import-linter contracts in pyproject.toml (``lint-imports`` in CI); these tests add
what a layers contract does not see.
"""

import ast
from pathlib import Path

import grimp

import koken

PACKAGE = Path(koken.__file__).parent


def test_no_import_cycles_not_even_inside_functions():
    graph = grimp.build_graph("koken", exclude_type_checking_imports=True)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    cycles = []

    def visit(module: str, path: list[str]) -> None:
        state[module] = 1
        for imported in sorted(graph.find_modules_directly_imported_by(module)):
            if state.get(imported) == 1:
                cycles.append(path[path.index(imported):] + [imported])
            elif imported not in state:
                visit(imported, [*path, imported])
        state[module] = 2

    for module in sorted(graph.modules):
        if module not in state:
            visit(module, [module])
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        name = ".".join(relative.parts[:-1] if relative.name == "__init__" else relative.parts)
        yield name, ast.parse(path.read_text(encoding="utf-8"))


def test_no_private_name_is_imported_from_another_module():
    found = []
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("koken"):
                found += [f"{name} imports {alias.name} from {node.module}" for alias in node.names
                          if alias.name.startswith("_") and alias.name != "__version__" and node.module != name
                          and (alias.name, node.module) != ("_", "koken.base.i18n")]  # gettext's own name
    assert not found, found


def test_each_list_of_the_field_is_written_once():
    """The category ids and the market names live in koken.base.vocabulary only."""
    lists = {"home_appliances": 0, "国内": 0}
    for name, tree in _modules():
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and node.value in lists and name != "koken.base.vocabulary":
                lists[node.value] += 1
    assert lists == {"home_appliances": 0, "国内": 0}, lists


def test_the_command_line_computes_nothing_itself():
    """koken.cli imports no module below the library's public layer except to render (errors, version, files, text
    escaping, the language, the names of the field's terms) and to show the help in the language."""
    allowed = {"koken.api", "koken.library", "koken.attribution", "koken.audit.verify", "koken.audit.diff",
               "koken.audit.trace", "koken.reporting.methodology_pages", "koken.reporting.action_plan",
               "koken.methodology.json_schema", "koken.base.errors", "koken.base.version", "koken.base.files",
               "koken.base.text", "koken.base.i18n", "koken.base.vocabulary", "koken.base.paths", "koken.cli",
               "koken.cli.render", "koken.cli.commands", "koken.cli.helptext", "koken.cli.client"}
    graph = grimp.build_graph("koken", exclude_type_checking_imports=True)
    used = {m for module in ("koken.cli.commands", "koken.cli.render", "koken.cli.helptext")
            for m in graph.find_modules_directly_imported_by(module)}
    assert used <= allowed, sorted(used - allowed)

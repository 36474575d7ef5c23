"""House rules a reader relies on: dependency direction, public names, no work at import."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import timer_service

ROOT = Path(__file__).resolve().parents[2]
LAMBDA_PACKAGES = {"api", "ticker", "callbacks"}
# Which first-party package may import which: the core imports only itself; the Lambda packages
# the core (and the job types of callbacks); the console's assets nothing; the local stack is
# the composition root of the Lambdas on one machine; the CLI drives the local stack and calls
# deployed ones; the construct names the core's keys and limits (and the bundle layout the
# Lambda code reads: timer_service.chromium_pack_layout). Nothing imports loadtest.
MAY_IMPORT = {
    "timer_service": {"timer_service"},
    "api": {"api", "timer_service"},
    "ticker": {"ticker", "timer_service"},
    "callbacks": {"callbacks", "timer_service"},
    "timer_service_console": {"timer_service_console"},
    "timer_service_local": {
        "timer_service_local",
        "timer_service",
        "timer_service_console",
        *LAMBDA_PACKAGES,
    },
    "timer_service_cli": {
        "timer_service_cli",
        "timer_service",
        "timer_service_console",
        "timer_service_local",
    },
    "timer_service_cdk": {"timer_service_cdk", "timer_service"},
}
# Subpackages with a rule of their own: who may import them. The client (timer_service.client)
# is the core's only part made for callers outside the service: the command line and the load
# harness use it; the core's other modules, the Lambda handlers and the local stack never do.
# (What it imports is the core's rule: timer_service alone.)
IMPORTED_ONLY_BY = {
    "timer_service.client": {"timer_service.client", "timer_service_cli", "loadtest"},
}
FIRST_PARTY_PACKAGES = {*MAY_IMPORT, "loadtest", "tests"}
SOURCE_DIRS = {name: ROOT / name for name in MAY_IMPORT} | {
    "timer_service_cdk": ROOT / "infra" / "timer_service_cdk"
}
GRAPH_DIRS = {**SOURCE_DIRS, "loadtest": ROOT / "loadtest"}


def imported_top_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_each_package_imports_only_the_layers_below_it() -> None:
    offenders = {}
    for package, directory in SOURCE_DIRS.items():
        for path in directory.rglob("*.py"):
            bad = (imported_top_packages(path) & FIRST_PARTY_PACKAGES) - MAY_IMPORT[package]
            if bad:
                offenders[str(path.relative_to(ROOT))] = sorted(bad)
    assert offenders == {}


def test_the_client_is_imported_only_by_the_command_line_and_the_harness() -> None:
    offenders = {}
    for directory in GRAPH_DIRS.values():
        for path in directory.rglob("*.py"):
            module = ".".join(path.relative_to(directory.parent).with_suffix("").parts)
            for imported in runtime_imports(path, whole=True, typing_too=True):
                for package, importers in IMPORTED_ONLY_BY.items():
                    inside = imported == package or imported.startswith(package + ".")
                    allowed = any(module == i or module.startswith(i + ".") for i in importers)
                    if inside and not allowed:
                        offenders[str(path.relative_to(ROOT))] = package
    assert offenders == {}


def test_importing_the_client_loads_no_local_stack_console_cli_or_lambda_code() -> None:
    # GIVEN a fresh interpreter WHEN the client is imported THEN none of them is loaded
    absent = {
        "timer_service_local",
        "timer_service_console",
        "timer_service_cli",
        "api",
        "ticker",
        "callbacks",
        "moto",
        "aws_lambda_powertools",
        "boto3",
    }
    code = (
        "import sys, timer_service.client\n"
        "print(' '.join(sorted({m.split('.')[0] for m in sys.modules} & set(sys.argv[1:]))))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *sorted(absent)],
        env={"PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


def module_graph() -> dict[str, set[str]]:
    """First-party module -> the first-party modules it imports at run time (not under
    ``if TYPE_CHECKING``), lazily or not."""
    modules: dict[str, Path] = {}
    for directory in GRAPH_DIRS.values():
        for path in directory.rglob("*.py"):
            parts = path.relative_to(directory.parent).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            modules[name] = path
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets: set[str] = set()
        for imported in runtime_imports(path, whole=True, typing_too=True):
            module = imported
            while module and module not in modules:
                module = module.rpartition(".")[0]
            if module and module != name:
                targets.add(module)
        graph[name] = targets
    return graph


def test_no_import_circle() -> None:
    graph = module_graph()
    circles: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == 1:
                circles.append([*stack[stack.index(target) :], target])
            elif target not in state:
                visit(target)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    # a package's __init__ re-exporting its modules is not a circle of their code
    assert circles == []


def test_core_never_imports_lambda_event_shapes_or_resolvers() -> None:
    forbidden = (
        "aws_lambda_powertools.event_handler",
        "aws_lambda_powertools.utilities.data_classes",
        "aws_lambda_powertools.utilities.batch",
    )
    for path in (ROOT / "timer_service").rglob("*.py"):
        text = path.read_text()
        assert not any(name in text for name in forbidden), path


def test_public_names_are_exported_and_exist() -> None:
    assert sorted(timer_service.__all__) == timer_service.__all__
    for name in timer_service.__all__:
        assert hasattr(timer_service, name), name


def test_the_client_s_public_names_are_exported_and_exist() -> None:
    from timer_service import client

    assert sorted(client.__all__) == client.__all__
    for name in client.__all__:
        assert hasattr(client, name), name
    # every error it raises is importable from the package
    errors = {n for n in dir(client.errors) if n.endswith("Error") and n[0].isupper()}
    assert errors <= set(client.__all__)


def test_importing_handlers_builds_no_client_and_reads_no_table() -> None:
    # A fresh interpreter without AWS settings: importing must not fail or touch AWS.
    code = "import api.handler, timer_service_cli.main, callbacks.job_types.webhook; print('ok')"
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


# What each Lambda runs before its first event is handled, and the job-type code that must stay
# out of it: every module imported at a cold start is compiled or unmarshalled on the clock.
JOB_TYPE_LIBRARIES = {"httpx", "selectolax", "regex", "apprise"}
# The registry a Lambda builds from the bundle's entry points: this project's job types only (the
# example plugin installed in the dev environment is not in the bundle).
BUILT_IN_REGISTRY = (
    "from importlib.metadata import entry_points\n"
    "from timer_service.job_types import ENTRY_POINT_GROUP, JobTypeRegistry\n"
    "JobTypeRegistry(e.load() for e in entry_points(group=ENTRY_POINT_GROUP)"
    " if e.dist is not None and e.dist.name == 'timer-service')"
)
COLD_STARTS = {
    "ticker": (
        "import ticker.handler",
        JOB_TYPE_LIBRARIES | {"timer_service.job_types", "timer_service.egress", "callbacks"},
    ),
    # The API validates job configs with the job types' models: a webhook's needs no HTTP client.
    "api": (
        "import api.handler\n"
        f"{BUILT_IN_REGISTRY}.validate('webhook', {{'url': 'https://example.com/h'}})",
        JOB_TYPE_LIBRARIES | {"timer_service.egress"},
    ),
    # Callbacks need httpx for webhooks; an HTML monitor's parser waits for its first check.
    "callbacks": (
        f"import callbacks.handler\n{BUILT_IN_REGISTRY}",
        {"selectolax", "regex", "apprise"},
    ),
}


@pytest.mark.parametrize("handler", sorted(COLD_STARTS))
def test_handler_cold_start_leaves_out_job_type_code_it_does_not_run(handler: str) -> None:
    # GIVEN a fresh interpreter WHEN the handler is imported and readied THEN none is loaded.
    code, absent = COLD_STARTS[handler]
    code += "\nimport sys; print(' '.join(sorted(set(sys.argv[1:]) & set(sys.modules))))"
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code, *sorted(absent)],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == []


LOCAL_ONLY = ("timer_service_local/", "timer_service_cli/main.py")
FIRST_PARTY = {"timer_service", "api", "ticker", "callbacks"}


def lambda_sources() -> list[Path]:
    """The code a Lambda bundle runs: the handler packages and the core, minus the local stack."""
    sources = []
    for package in sorted(FIRST_PARTY):
        for path in (ROOT / package).rglob("*.py"):
            relative = path.relative_to(ROOT).as_posix()
            if relative.startswith(LOCAL_ONLY) or path.name.startswith("local_"):
                continue
            sources.append(path)
    return sources


def runtime_imports(
    path: Path, *, whole: bool = False, typing_too: bool = False, lazy_too: bool = True
) -> set[str]:
    """Modules ``path`` imports when it runs (not under ``if TYPE_CHECKING``, unless
    ``typing_too``; inside functions too, unless not ``lazy_too``: then what importing ``path``
    imports): their top-level package, or (``whole``) the whole dotted name, ``from a import b``
    giving ``a.b`` too."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        typing_only = isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        if typing_only and not typing_too:
            for child in node.orelse:
                visit(child)
            return
        if not lazy_too and isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            return
        if isinstance(node, ast.Import):
            names.update(a.name if whole else a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if whole:
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
            else:
                names.add(node.module.split(".")[0])
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return names


def test_mypy_follows_every_cdk_module_the_construct_imports() -> None:
    # pyproject.toml skips the aws_cdk modules nothing imports (a cold mypy run checks all ~300
    # otherwise): one the construct imports but the list lacks would be checked as Any.
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    followed = {
        module
        for override in config["overrides"]
        if override.get("follow_imports") == "normal"
        for module in override["module"]
    }
    imported = set()
    for path in SOURCE_DIRS["timer_service_cdk"].rglob("*.py"):
        imported |= {
            name.rsplit(".", 1)[0] if name.rsplit(".", 1)[-1][:1].isupper() else name
            for name in runtime_imports(path, whole=True, typing_too=True)
            if name == "aws_cdk" or name.startswith("aws_cdk.")
        }
    assert imported - followed == set()


MAX_SOURCE_LINES = 400  # a file a reader can hold in mind (issue 17: split before passing it)


def test_every_source_file_stays_under_the_line_limit() -> None:
    tracked = subprocess.run(
        ["git", "ls-files", "*.py", "*.js", "*.css", "*.html"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    long = {
        name: lines
        for name in tracked
        if not name.startswith("tests/data/")  # real-world pages, kept as published
        and (ROOT / name).is_file()
        and (lines := len((ROOT / name).read_text(encoding="utf-8").splitlines()))
        > MAX_SOURCE_LINES
    }
    assert long == {}

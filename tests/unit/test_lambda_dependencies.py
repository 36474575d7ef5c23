"""What the Lambda code imports from outside the project: the runtime dependencies (per uv.lock)
alone, and an optional extra's packages only where a bundle with that extra runs them."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Mapping
from functools import cache

import pytest

from tests.unit.test_architecture import (
    BUILT_IN_REGISTRY,
    FIRST_PARTY,
    ROOT,
    lambda_sources,
    runtime_imports,
)


def runtime_closure(extras: tuple[str, ...] = ()) -> set[str]:
    """Every distribution the project's runtime dependencies (with its optional ``extras``) pull
    in, per uv.lock."""
    import tomllib

    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = {package["name"]: package for package in lock["package"]}
    seen: set[str] = set()
    pending: list[tuple[str, tuple[str, ...]]] = [("timer-service", extras)]
    while pending:
        name, extras = pending.pop()
        key = f"{name}[{','.join(extras)}]"
        if key in seen:
            continue
        seen.add(key)
        package = packages[name]
        requirements = list(package.get("dependencies", []))
        for extra in extras:
            requirements += package.get("optional-dependencies", {}).get(extra, [])
        pending += [(r["name"], tuple(r.get("extra", []))) for r in requirements]
    return {key.split("[")[0] for key in seen}


# Lambda code that a bundle with one of the project's optional extras runs, and which may import
# that extra's packages: inside a function only, as the main bundle (which imports the module and
# lacks the extra) must never. The browser function's bundle adds `browser` (Playwright) to the
# main one (timer_service_cdk.browser_bundle.BrowserBundle.extras).
EXTRA_IMPORTERS = {"callbacks/html_monitor/browser.py": "browser"}


@cache
def _owners() -> Mapping[str, list[str]]:
    from importlib.metadata import packages_distributions

    return packages_distributions()


def _distributions(module: str) -> set[str]:
    return {d.lower().replace("_", "-") for d in _owners().get(module, [module])}


@cache
def _closure(extras: tuple[str, ...] = ()) -> frozenset[str]:
    return frozenset(name.lower().replace("_", "-") for name in runtime_closure(extras))


def _third_party(modules: set[str]) -> set[str]:
    return {
        m
        for m in modules
        if m not in FIRST_PARTY and m not in sys.stdlib_module_names and m != "__future__"
    }


def extra_only_imports(relative: str) -> set[str]:
    """What the module at ``relative`` imports from its extra that the runtime closure lacks."""
    only_in_extra = _closure((EXTRA_IMPORTERS[relative],)) - _closure()
    imported = _third_party(runtime_imports(ROOT / relative))
    return {m for m in imported if _distributions(m) & only_in_extra}


def test_lambda_code_imports_only_runtime_dependencies() -> None:
    closure = _closure()
    missing: dict[str, str] = {}
    for path in lambda_sources():
        relative = path.relative_to(ROOT).as_posix()
        extra = EXTRA_IMPORTERS.get(relative)
        lazily = _closure((extra,)) if extra else closure
        eager = runtime_imports(path, lazy_too=False)
        for module in _third_party(runtime_imports(path)):
            distributions = _distributions(module)
            if distributions & closure:
                continue
            if module not in eager and distributions & lazily:
                continue  # only the bundle with the extra runs the function that imports it
            missing[module] = relative
    assert missing == {}, "imported by Lambda code but not a runtime dependency"


@pytest.mark.parametrize("relative", sorted(EXTRA_IMPORTERS))
def test_a_module_allowed_an_extra_imports_it_and_the_extra_exists(relative: str) -> None:
    # GIVEN a module allowed an extra's packages THEN it does import one (else it needs no
    # exception), and the extra is the project's
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert EXTRA_IMPORTERS[relative] in project["optional-dependencies"]
    assert extra_only_imports(relative) != set()


def test_lambda_code_imports_without_the_optional_extras() -> None:
    # GIVEN a fresh interpreter in which no extra's package can be imported (as in the main
    # bundle) WHEN every module of the Lambda code is imported (callbacks.handler and
    # callbacks.html_monitor.browser among them) and the callbacks' registry built THEN none
    # fails and none of those packages is loaded
    blocked = sorted({m for relative in EXTRA_IMPORTERS for m in extra_only_imports(relative)})
    assert "playwright" in blocked  # what the browser extra brings
    modules = sorted(
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
        for path in lambda_sources()
    )
    code = (
        "import importlib, sys\n"
        "blocked = set(sys.argv[1].split(','))\n"
        "class NotInstalled:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.partition('.')[0] in blocked:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NotInstalled())\n"
        "for module in sys.argv[2:]:\n"
        "    importlib.import_module(module)\n"
        f"{BUILT_IN_REGISTRY}\n"
        "print(' '.join(sorted({m.partition('.')[0] for m in sys.modules} & blocked)) or 'none')"
    )
    env = {"PATH": "/usr/bin:/bin", "POWERTOOLS_TRACE_DISABLED": "true"}
    result = subprocess.run(
        [sys.executable, "-c", code, ",".join(blocked), *modules],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["none"]


def test_runtime_closure_holds_no_test_or_local_stack_package() -> None:
    closure = runtime_closure()
    assert {"httpx", "selectolax", "boto3", "aws-lambda-powertools", "apprise"} <= closure
    assert not closure & {"moto", "pytest", "rich", "hypothesis", "aws-cdk-lib", "mypy"}

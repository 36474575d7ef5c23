"""The construct's ``browser_fetcher``: a function of its own for html_monitor's browser checks,
which the callbacks alone may invoke."""

from __future__ import annotations

from typing import Any

import pytest

from tests.infra.conftest import Synthesized, synthesize
from tests.infra.test_construct import actions_of, statements
from timer_service.settings import Settings

HANDLER = "callbacks.html_monitor.browser_handler.lambda_handler"
BROWSER_FUNCTION = Settings.env_name("browser_function")


@pytest.fixture(scope="module")
def browser_stack() -> Synthesized:
    return synthesize(browser_fetcher=True)


def functions(stack: Synthesized) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        f["Properties"]["Handler"]: (logical_id, f["Properties"])
        for logical_id, f in stack.resources("AWS::Lambda::Function").items()
        if f["Properties"].get("Runtime", "").startswith("python")
    }


def test_browser_fetcher_makes_an_x86_64_function_with_room_for_chromium(
    browser_stack: Synthesized,
) -> None:
    _, browser = functions(browser_stack)[HANDLER]
    assert browser["Architectures"] == ["x86_64"]  # @sparticuz/chromium on npm is x86_64 only
    assert browser["MemorySize"] == 2048
    assert browser["Timeout"] == 90
    assert browser["EphemeralStorage"] == {"Size": 1024}
    assert "TIMERS_TABLE" not in browser["Environment"]["Variables"]  # it reads no resource


def test_browser_fetcher_lets_the_callbacks_invoke_that_function_only(
    browser_stack: Synthesized,
) -> None:
    found = functions(browser_stack)
    browser_id, _ = found[HANDLER]
    _, callback = found["callbacks.handler.lambda_handler"]
    assert callback["Environment"]["Variables"][BROWSER_FUNCTION] == {"Ref": browser_id}
    invokes = [
        s
        for s in statements(browser_stack, "CallbackFunctionRole")
        if "lambda:InvokeFunction" in actions_of(s)
    ]
    assert [s["Resource"] for s in invokes] == [{"Fn::GetAtt": [browser_id, "Arn"]}]
    browser_role = statements(browser_stack, "BrowserFunctionRole")
    assert all(a.startswith("logs:") for s in browser_role for a in actions_of(s))


def test_browser_function_passes_cdk_nag(browser_stack: Synthesized) -> None:
    (nag,) = [r for r in browser_stack.report["pluginReports"] if r["pluginName"] == "AwsSolutions"]
    assert nag["conclusion"] == "success"
    assert nag["violations"] == []


def test_without_browser_fetcher_there_is_no_browser_function(
    default_stack: Synthesized,
) -> None:
    found = functions(default_stack)
    assert HANDLER not in found
    _, callback = found["callbacks.handler.lambda_handler"]
    assert BROWSER_FUNCTION not in callback["Environment"]["Variables"]

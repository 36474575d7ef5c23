"""html_monitor's ``fetcher: "browser"`` on AWS: the callback asks the browser function (the
settings' ``browser_function``) with Lambda ``Invoke``; the session's IAM check holds that call
against the role the construct gives the callbacks (``browser_fetcher=True``)."""

from __future__ import annotations

import pytest

from tests.conftest import ApiCall, AwsResources
from tests.functional.conftest import runs, trigger
from tests.pages import PageServer
from timer_service.settings import Settings

FUNCTION = "timers-browser-test"


def test_browser_check_without_its_function_is_an_error_run_naming_it(
    pipeline: AwsResources,
    call_api: ApiCall,
    pages: PageServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a stack whose browser function is not there (the emulator has none)
    monkeypatch.setenv(Settings.env_name("browser_function"), FUNCTION)
    pages.set("/app.html", "<p id=app></p><script>app.textContent = 'hi'</script>")
    job = {"url": pages.url + "/app.html", "fetcher": "browser"}
    body = {"schedule": "rate(1 hour)", "jobType": "html_monitor", "job": job}
    assert call_api("PUT", "/periodic/app", body).status == 201
    # WHEN it fires
    trigger(call_api, pipeline, "app")
    # THEN the run is an error that names the function, and the page was not fetched
    (run,) = runs(call_api, "app")
    assert run["outcome"] == "error"
    assert f"the browser function {FUNCTION} could not be called" in run["summary"]
    assert pages.statuses_of("/app.html") == []

"""ec2_instances, sns, lambda and eventbridge through the API and the callback Lambda on moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import ALICE, ApiCall, AwsResources, set_settings
from tests.functional.conftest import dead_letters_api, runs, sqs, trigger

OTHER_ACCOUNT_ROLE = "arn:aws:iam::111111111111:role/timer-service-ec2"
# An image moto ships: asked for by id, as listing moto's 1,300 images costs a second a call.
IMAGE_ID = "ami-12c6146b"


def client(aws: AwsResources, service: str, credentials: dict[str, str] | None = None) -> Any:
    from timer_service.aws import Clients
    from timer_service.settings import Settings

    settings = Settings(endpoint_url=aws.endpoint_url)
    return Clients(settings)(service, credentials=credentials)


def launch(ec2: Any, count: int, **tags: str) -> list[str]:
    image = ec2.describe_images(ImageIds=[IMAGE_ID])["Images"][0]["ImageId"]
    reservation = ec2.run_instances(
        ImageId=image,
        MinCount=count,
        MaxCount=count,
        TagSpecifications=[
            {"ResourceType": "instance", "Tags": [{"Key": k, "Value": v} for k, v in tags.items()]}
        ],
    )
    return sorted(i["InstanceId"] for i in reservation["Instances"])


def states(ec2: Any, ids: list[str]) -> list[str]:
    found = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    by_id = {i["InstanceId"]: i["State"]["Name"] for r in found for i in r["Instances"]}
    return [by_id[i] for i in ids]


def put(call_api: ApiCall, timer_id: str, job_type: str, job: dict[str, Any], **extra: Any) -> None:
    body = {"schedule": "rate(1 day)", "jobType": job_type, "job": job} | extra
    answer = call_api("PUT", f"/periodic/{timer_id}", body)
    assert answer.status == 201, answer.body


def test_ec2_stop_then_start_changes_only_the_matching_instances(
    pipeline: AwsResources, call_api: ApiCall
) -> None:
    ec2 = client(pipeline, "ec2")
    dev = launch(ec2, 2, env="dev")
    prod = launch(ec2, 1, env="prod")
    filters = {"tag:env": ["dev"]}
    put(
        call_api, "stop-dev", "ec2_instances", {"action": "stop", "filters": filters}, history="all"
    )
    trigger(call_api, pipeline, "stop-dev")
    assert states(ec2, dev) == ["stopped", "stopped"]
    assert states(ec2, prod) == ["running"]
    (stopped,) = runs(call_api, "stop-dev")
    assert stopped["outcome"] == "changed"
    assert sorted(stopped["details"]["changed"]) == dev
    assert stopped["summary"].startswith("stopped i-")

    trigger(call_api, pipeline, "stop-dev")  # again: nothing left to stop
    assert runs(call_api, "stop-dev")[0]["outcome"] == "unchanged"

    put(call_api, "start-dev", "ec2_instances", {"action": "start", "filters": filters})
    trigger(call_api, pipeline, "start-dev")
    assert states(ec2, dev) == ["running", "running"]


def test_ec2_in_another_account_through_an_assumed_role(
    pipeline: AwsResources, call_api: ApiCall
) -> None:
    sts = client(pipeline, "sts")
    credentials = sts.assume_role(RoleArn=OTHER_ACCOUNT_ROLE, RoleSessionName="setup")
    theirs = client(pipeline, "ec2", credentials=credentials["Credentials"])
    mine = client(pipeline, "ec2")
    their_ids = launch(theirs, 2, team="data")
    my_ids = launch(mine, 1, team="data")
    job = {"action": "stop", "filters": [{"Name": "tag:team", "Values": ["data"]}]}
    put(call_api, "nightly", "ec2_instances", job | {"roleArn": OTHER_ACCOUNT_ROLE}, history="all")
    trigger(call_api, pipeline, "nightly")
    assert states(theirs, their_ids) == ["stopped", "stopped"]
    assert states(mine, my_ids) == ["running"]
    assert sorted(runs(call_api, "nightly")[0]["details"]["changed"]) == their_ids


def test_ec2_dry_run_changes_nothing_and_says_what_it_would_do(
    pipeline: AwsResources, call_api: ApiCall
) -> None:
    ec2 = client(pipeline, "ec2")
    ids = launch(ec2, 1, env="qa")
    job = {"action": "stop", "filters": {"tag:env": "qa"}, "dryRun": True}
    put(call_api, "rehearsal", "ec2_instances", job, history="all")
    trigger(call_api, pipeline, "rehearsal")
    assert states(ec2, ids) == ["running"]
    (run,) = runs(call_api, "rehearsal")
    assert (run["outcome"], run["summary"]) == ("ok", f"dry run: would have stopped {ids[0]}")


@pytest.fixture
def inbox(pipeline: AwsResources) -> Iterator[tuple[str, str]]:
    """An SQS queue that receives what the forwards send: (url, arn)."""
    url = sqs().create_queue(QueueName="forwarded")["QueueUrl"]
    arn = sqs().get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    yield url, arn["Attributes"]["QueueArn"]


def received(url: str) -> list[dict[str, Any]]:
    answer = sqs().receive_message(
        QueueUrl=url, WaitTimeSeconds=1, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
    )
    return list(answer.get("Messages", []))


def test_sns_forward_publishes_the_callback_data_with_the_firing(
    pipeline: AwsResources, call_api: ApiCall, inbox: tuple[str, str]
) -> None:
    sns = client(pipeline, "sns")
    topic = sns.create_topic(Name="orders")["TopicArn"]
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=inbox[1],
        Attributes={"RawMessageDelivery": "true"},
    )
    put(call_api, "fan", "sns", {"topicArn": topic}, timerCallbackData={"orderId": 7})
    fired = trigger(call_api, pipeline, "fan")
    (message,) = received(inbox[0])
    assert json.loads(message["Body"]) == {"orderId": 7}
    attributes = {k: v["StringValue"] for k, v in message["MessageAttributes"].items()}
    assert attributes == {
        "timerId": "fan",
        "firingId": fired["firingId"],
        "scheduledAt": fired["scheduledAt"],
    }


def test_eventbridge_forward_puts_the_firing_on_the_bus(
    pipeline: AwsResources, call_api: ApiCall, inbox: tuple[str, str]
) -> None:
    events = client(pipeline, "events")
    events.put_rule(Name="timers", EventPattern=json.dumps({"source": ["billing.timers"]}))
    events.put_targets(Rule="timers", Targets=[{"Id": "inbox", "Arn": inbox[1]}])
    job = {"source": "billing.timers", "detailType": "Invoice Due"}
    put(call_api, "invoice", "eventbridge", job, timerCallbackData={"invoice": "A-1"})
    fired = trigger(call_api, pipeline, "invoice")
    (message,) = received(inbox[0])
    event = json.loads(message["Body"])
    assert (event["source"], event["detail-type"]) == ("billing.timers", "Invoice Due")
    assert event["detail"] == {
        "timerId": "invoice",
        "firingId": fired["firingId"],
        "scheduledAt": fired["scheduledAt"],
        "attempt": 1,
        "timerCallbackData": {"invoice": "A-1"},
    }


def test_lambda_forward_invokes_asynchronously_with_the_firing(
    pipeline: AwsResources, call_api: ApiCall
) -> None:
    lambda_client = client(pipeline, "lambda")
    calls: list[dict[str, Any]] = []

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(params)

    lambda_client.meta.events.register("provide-client-params.lambda.Invoke", record)
    try:
        put(call_api, "kick", "lambda", {"functionName": "worker"}, timerCallbackData=[1, 2])
        fired = trigger(call_api, pipeline, "kick")
    finally:
        lambda_client.meta.events.unregister("provide-client-params.lambda.Invoke", record)
    (call,) = calls
    assert call["InvocationType"] == "Event"
    assert call["FunctionName"] == "worker"
    payload = json.loads(call["Payload"])
    assert payload["firingId"] == fired["firingId"]
    assert payload["timerCallbackData"] == [1, 2]


def test_forward_to_a_missing_topic_goes_to_the_dlq_at_once_with_the_reason(
    pipeline: AwsResources, call_api: ApiCall
) -> None:
    missing = "arn:aws:sns:us-east-1:123456789012:no-such-topic"
    put(call_api, "lost", "sns", {"topicArn": missing})
    trigger(call_api, pipeline, "lost")
    (dead,) = dead_letters_api(call_api)
    reason = dead["error"]
    assert reason.startswith(f"sns Publish {missing}: NotFound")
    (run,) = runs(call_api, "lost")
    assert run["outcome"] == "error" and run["summary"].startswith(reason)


def test_sqs_to_a_missing_queue_goes_to_the_dlq_at_once(
    pipeline: AwsResources, call_api: ApiCall
) -> None:
    # A missing queue fails the same way on every retry: not five deliveries, one.
    missing = pipeline.output_queue_url.rsplit("/", 1)[0] + "/no-such-queue"
    put(call_api, "nowhere", "sqs", {"queueUrl": missing}, history="all")
    trigger(call_api, pipeline, "nowhere")
    (dead,) = dead_letters_api(call_api)
    assert "NonExistentQueue" in dead["error"]
    (run,) = runs(call_api, "nowhere")
    assert run["outcome"] == "error"
    assert run["summary"].endswith("(attempt 1; to the dead-letter queue)")


def own_queue_spellings(url: str) -> list[str]:
    """The dispatch or dead-letter queue's URL as a tenant might spell it to get past a check."""
    account, name = url.rstrip("/").split("/")[-2:]
    escaped = "".join(f"%{ord(c):02X}" for c in name)
    return [
        url,
        url + "/",
        f"https://sqs.us-east-1.amazonaws.com/{account}/{name}",
        f"https://queue.amazonaws.com/{account}/{name}",
        f"https://us-east-1.queue.amazonaws.com/{account}/{name}",
        f"http://localhost:4566//{account}//{name}",
        f"https://sqs.us-east-1.amazonaws.com/{account}/{escaped}",
        f"https://sqs.us-east-1.amazonaws.com/{account}/{name}?Action=SendMessage",
        # found by an outside review: dot segments, and an account the emulator ignores
        f"http://localhost:4566/{account}/./{name}",
        f"http://localhost:4566/{account}/x/../{name}",
        f"http://localhost:4566/{account}/%2E/{name}",
        f"http://localhost:4566/000000000000/{name}",
    ]


@pytest.mark.parametrize("queue", ["dispatch", "dlq"])
def test_an_sqs_job_aimed_at_the_services_own_queues_is_refused_at_put(
    aws: AwsResources, call_api: ApiCall, queue: str
) -> None:
    url = aws.dispatch_queue_url if queue == "dispatch" else aws.dlq_url
    for n, spelling in enumerate(own_queue_spellings(url)):
        body = {"schedule": "rate(1 day)", "jobType": "sqs", "job": {"queueUrl": spelling}}
        answer = call_api("PUT", f"/periodic/plant-{n}", body)
        assert answer.status == 400, (spelling, answer.body)
        assert answer.body["error"]["field"] == "job.queueUrl"
        assert "own queues" in answer.body["error"]["message"]


def test_an_sqs_job_stored_before_the_check_is_refused_when_it_fires(
    pipeline: AwsResources, call_api: ApiCall
) -> None:
    # GIVEN a timer aimed at the dispatch queue, written past the API's check (an older version)
    from timer_service import wiring
    from timer_service.clock import SystemClock
    from timer_service.job_types import JobTypeRegistry
    from timer_service.models import TimerSpec
    from timer_service.service import TimerService
    from timer_service.settings import Settings

    unchecked = TimerService(
        store=wiring.timer_store(Settings.from_env()),
        clock=SystemClock(),
        job_types=JobTypeRegistry.from_entry_points(),
    )
    job = {"queueUrl": pipeline.dispatch_queue_url + "/"}
    spec = TimerSpec.model_validate({"schedule": "rate(1 day)", "jobType": "sqs", "job": job})
    unchecked.put(ALICE, "plant", spec)
    # WHEN it fires
    trigger(call_api, pipeline, "plant")
    # THEN nothing reached the dispatch queue, and the run says why
    assert sqs().receive_message(QueueUrl=pipeline.dispatch_queue_url).get("Messages", []) == []
    (dead,) = dead_letters_api(call_api)
    assert "own queues" in dead["error"]


def test_a_lambda_job_aimed_at_the_services_own_functions_is_refused_at_put(
    aws: AwsResources, call_api: ApiCall, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A forged API event would act as any tenant; a forged SQS event would fire their timers.
    set_settings(monkeypatch, service_functions=("svc-api", "svc-callbacks"))
    for name in ("svc-api", "arn:aws:lambda:us-east-1:123456789012:function:svc-callbacks:live"):
        body = {"schedule": "rate(1 day)", "jobType": "lambda", "job": {"functionName": name}}
        answer = call_api("PUT", "/periodic/forge", body)
        assert answer.status == 400, answer.body
        assert answer.body["error"]["field"] == "job.functionName"
    body = {"schedule": "rate(1 day)", "jobType": "lambda", "job": {"functionName": "mine"}}
    assert call_api("PUT", "/periodic/fine", body).status == 201

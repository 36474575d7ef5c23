"""Alarms and a dashboard for a deployed timer service.

Alarms (each to the alarm topic, and again when it clears):

- dead letters: a firing was dead-lettered (retries exhausted, or a permanent failure);
- dead letters not taken in: the SQS dead-letter queue holds what the dead-letter function
  could not take in;
- rejected messages: the callbacks dropped messages the service did not sign (someone else
  sends to the dispatch queue);
- ticker errors: a tick failed;
- missed ticks: fewer tick invocations than one per ticking shard per minute;
- dispatch lateness: p99 of (job start - scheduled time) over ``LATENESS_ALARM_MS``;
- callback errors: the callback Lambda failed outright (a crash, a timeout);
- API 5xx: the API answered with a server error.
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import Duration
from aws_cdk import aws_apigateway as apigateway
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as actions
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

__all__ = ["LATENESS_ALARM_MS", "METRICS_NAMESPACE", "Monitoring", "Watched"]

METRICS_NAMESPACE = "TimerService"  # as the handlers' powertools Metrics publish
LATENESS_ALARM_MS = 2000
FIVE_MINUTES = Duration.minutes(5)


def _service_metric(name: str, service: str, statistic: str) -> cloudwatch.Metric:
    return cloudwatch.Metric(
        namespace=METRICS_NAMESPACE,
        metric_name=name,
        dimensions_map={"service": service},
        statistic=statistic,
        period=FIVE_MINUTES,
    )


@dataclass(frozen=True)
class Watched:
    """The parts of a timer service the alarms and the dashboard watch."""

    api: apigateway.RestApi
    api_function: lambda_.IFunction
    ticker_function: lambda_.IFunction
    callback_function: lambda_.IFunction
    dispatch_queue: sqs.IQueue
    dlq: sqs.IQueue


class Monitoring(Construct):
    """The service's alarms (to ``alarm_topic``) and its CloudWatch dashboard."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        service: Watched,
        alarm_topic: sns.ITopic | None,
        ticks_per_minute: int,
    ) -> None:
        super().__init__(scope, construct_id)
        self.alarm_topic = alarm_topic or sns.Topic(
            self,
            "AlarmTopic",
            display_name="timer-service alarms",
            enforce_ssl=True,
            master_key=kms.Alias.from_alias_name(self, "SnsKey", "alias/aws/sns"),
        )
        lateness = _service_metric("DispatchLateness", "timer-callbacks", "p99")
        dispatched = _service_metric("FiringsDispatched", "timer-ticker", "Sum")
        delivered = _service_metric("FiringsDelivered", "timer-callbacks", "Sum")
        skipped = _service_metric("FiringsSkipped", "timer-callbacks", "Sum")
        tick_duration = _service_metric("TickDuration", "timer-ticker", "p99")
        dlq_depth = service.dlq.metric_approximate_number_of_messages_visible(
            period=FIVE_MINUTES, statistic="Maximum"
        )
        dead_lettered = _service_metric("DlqSends", "timer-callbacks", "Sum")
        rejected = _service_metric("MessagesRejected", "timer-callbacks", "Sum")
        ticks = service.ticker_function.metric_invocations(period=FIVE_MINUTES, statistic="Sum")
        self.alarms = [
            self._alarm(
                "DeadLetters",
                dead_lettered,
                threshold=0,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description="firings were dead-lettered: timer-service dlq list",
            ),
            self._alarm(
                "DeadLettersNotTakenIn",
                dlq_depth,
                threshold=0,
                evaluation_periods=3,
                datapoints=3,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description="the SQS dead-letter queue is not draining: see the dead-letter"
                " function's logs",
            ),
            self._alarm(
                "RejectedMessages",
                rejected,
                threshold=0,
                comparison=cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
                description="messages the service did not sign reached the dispatch queue:"
                " who else may send to it?",
            ),
            self._alarm(
                "TickerErrors",
                service.ticker_function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                threshold=1,
                description="a tick failed; the next one catches up from the last minute done",
            ),
            self._alarm(
                "MissedTicks",
                ticks,
                threshold=ticks_per_minute * 5 * 0.8,
                comparison=cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
                missing=cloudwatch.TreatMissingData.BREACHING,
                description="fewer ticks than one per shard per minute: check the schedules",
            ),
            self._alarm(
                "DispatchLateness",
                lateness,
                threshold=LATENESS_ALARM_MS,
                evaluation_periods=3,
                datapoints=2,
                description=f"p99 lateness of firings over {LATENESS_ALARM_MS} ms",
            ),
            self._alarm(
                "CallbackErrors",
                service.callback_function.metric_errors(period=FIVE_MINUTES, statistic="Sum"),
                threshold=1,
                description="the callback Lambda failed (crash or timeout): firings are retried",
            ),
            self._alarm(
                "ApiServerErrors",
                service.api.metric_server_error(period=FIVE_MINUTES, statistic="Sum"),
                threshold=1,
                description="the API answered 5xx",
            ),
        ]
        self.dashboard = cloudwatch.Dashboard(self, "Dashboard", default_interval=Duration.hours(3))
        self.dashboard.add_widgets(
            cloudwatch.GraphWidget(
                title="Firings", left=[dispatched, delivered, skipped], width=12
            ),
            cloudwatch.GraphWidget(
                title="Lateness p99 (ms) and tick duration p99 (ms)",
                left=[lateness],
                right=[tick_duration],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Queues",
                left=[
                    service.dispatch_queue.metric_approximate_number_of_messages_visible(),
                    service.dispatch_queue.metric_approximate_age_of_oldest_message(),
                ],
                right=[dlq_depth],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="Lambda errors",
                left=[
                    service.api_function.metric_errors(),
                    service.ticker_function.metric_errors(),
                    service.callback_function.metric_errors(),
                ],
                right=[ticks],
                width=12,
            ),
            cloudwatch.GraphWidget(
                title="API",
                left=[service.api.metric_count(), service.api.metric_client_error()],
                right=[service.api.metric_latency(statistic="p99")],
                width=12,
            ),
            cloudwatch.AlarmStatusWidget(title="Alarms", alarms=self.alarms, width=12),
        )

    def _alarm(
        self,
        construct_id: str,
        metric: cloudwatch.IMetric,
        *,
        threshold: float,
        description: str,
        comparison: cloudwatch.ComparisonOperator = (
            cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
        evaluation_periods: int = 1,
        datapoints: int = 1,
        missing: cloudwatch.TreatMissingData = cloudwatch.TreatMissingData.NOT_BREACHING,
    ) -> cloudwatch.Alarm:
        alarm = cloudwatch.Alarm(
            self,
            construct_id,
            metric=metric,
            threshold=threshold,
            comparison_operator=comparison,
            evaluation_periods=evaluation_periods,
            datapoints_to_alarm=datapoints,
            treat_missing_data=missing,
            alarm_description=f"timer-service: {description}",
        )
        alarm.add_alarm_action(actions.SnsAction(self.alarm_topic))
        alarm.add_ok_action(actions.SnsAction(self.alarm_topic))
        return alarm

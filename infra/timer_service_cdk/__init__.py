"""The timer service as a CDK construct: ``TimerService(stack, "Timers", shards=4)``.

Install with the CDK libraries: ``pip install "timer-service[cdk]"``; see infra/README.md.
"""

from timer_service_cdk.bundle import LambdaBundle
from timer_service_cdk.construct import TimerService
from timer_service_cdk.front import ApiAuth, UsagePlanLimits
from timer_service_cdk.grants import JobTypeGrants
from timer_service_cdk.monitoring import Monitoring
from timer_service_cdk.nag import NAG_SUPPRESSIONS, add_nag_checks

__all__ = [
    "NAG_SUPPRESSIONS",
    "ApiAuth",
    "JobTypeGrants",
    "LambdaBundle",
    "Monitoring",
    "TimerService",
    "UsagePlanLimits",
    "add_nag_checks",
]

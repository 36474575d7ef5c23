"""Bulk actions: pause, resume, trigger, delete or relabel every timer that a label selector or an
id list names, a bounded slice a call (``POST /periodic/bulk``).

A call acts on at most ``limit`` timers (at most :data:`MAX_BULK_LIMIT`), and stops early once
it has run :data:`BULK_TIME_BUDGET_S` seconds, well inside API Gateway's 29 s; it answers with
counts and a ``nextToken`` (the last id it acted on: the timers come in id order), which the next
call takes, until there is none. Each timer's change is its own conditional write, held to the
version the call read (as the single-timer pause, resume, delete and a PUT of labels are), so a
crash between calls, or within one, leaves each timer done or not, never half-done: the call
again from its token (or the whole action again: pause, resume, delete and relabel are
idempotent; a trigger is not) finishes it. A timer changed between the read and its write is
read again and acted on if it still matches; one that is gone is skipped.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from timer_service.bulk_requests import (
    BULK_TIME_BUDGET_S,
    DEFAULT_BULK_LIMIT,
    MAX_BULK_IDS,
    MAX_BULK_LIMIT,
    BulkAction,
    BulkFailure,
    BulkRequest,
    BulkResult,
)
from timer_service.errors import (
    FiringBurstExceededError,
    InvalidRequestError,
    TimerNotFoundError,
    TimerServiceError,
    VersionConflictError,
)
from timer_service.labels import check_labels, matches, relabelled
from timer_service.listing import TimerFilter
from timer_service.models import Timer
from timer_service.service import TimerService

__all__ = [
    "BULK_TIME_BUDGET_S",
    "DEFAULT_BULK_LIMIT",
    "MAX_BULK_IDS",
    "MAX_BULK_LIMIT",
    "BulkAction",
    "BulkFailure",
    "BulkRequest",
    "BulkResult",
    "run_bulk",
]


class _Tally:
    def __init__(self) -> None:
        self.matched = self.changed = 0
        self.skips: Counter[str] = Counter()
        self.failures: list[BulkFailure] = []

    def skip(self, reason: str) -> None:
        self.skips[reason] += 1

    def fail(self, timer_id: str, reason: str) -> None:
        self.failures.append(BulkFailure(id=timer_id, reason=reason))

    def result(self, action: BulkAction, next_token: str | None) -> BulkResult:
        reasons = self.skips + Counter(f.reason for f in self.failures)
        return BulkResult(
            action=action,
            matched=self.matched,
            changed=self.changed,
            skipped=sum(self.skips.values()),
            failed=len(self.failures),
            reasons=dict(sorted(reasons.items())),
            failures=self.failures,
            next_token=next_token,
        )


def _check(request: BulkRequest) -> None:
    if (request.selector is None) == (request.ids is None):
        raise InvalidRequestError("give either selector or ids", field="selector")
    if request.selector is not None and not request.selector:
        raise InvalidRequestError(
            "selector: at least one label (an action on every timer is not taken)",
            field="selector",
        )
    relabel = request.action == "relabel"
    if relabel and not (request.set_labels or request.remove_labels):
        raise InvalidRequestError("relabel: give setLabels or removeLabels", field="setLabels")
    if not relabel and (request.set_labels or request.remove_labels):
        field = "setLabels" if request.set_labels else "removeLabels"
        raise InvalidRequestError(f"{field}: only for the relabel action", field=field)


def run_bulk(service: TimerService, owner: str, request: BulkRequest) -> BulkResult:
    """One call of a bulk action: its next slice of timers acted on (module docstring)."""
    _check(request)
    limit, after = request.limit, request.next_token
    targets: list[tuple[str, Timer | None]]
    if request.ids is not None:
        ids = sorted({i for i in request.ids if after is None or i > after})
        found = service.get_many(owner, ids[:limit])
        targets = [(i, found.get(i)) for i in ids[:limit]]
        next_token = ids[limit - 1] if len(ids) > limit else None
    else:
        where = TimerFilter(labels=request.selector or {})
        timers, next_token = service.find(owner, where=where, limit=limit, after_id=after)
        targets = [(t.id, t) for t in timers]
    tally = _Tally()
    started_s = service.clock.now()
    done = 0
    if request.action == "trigger":
        done = _trigger(service, targets, tally)
    else:
        act = _action(service, owner, request)
        for _, timer in targets:
            if done and service.clock.now() - started_s > BULK_TIME_BUDGET_S:
                next_token = targets[done - 1][0]  # the rest in the next call
                break
            tally.matched += 1
            done += 1
            if timer is None:
                tally.skip("not found")
                continue
            _apply(service, owner, request, act, timer, tally)
    return tally.result(request.action, next_token)


def _trigger(service: TimerService, targets: list[tuple[str, Timer | None]], tally: _Tally) -> int:
    """Fire every timer found, in one send; the gone ones are skipped."""
    tally.matched = len(targets)
    live = [timer for _, timer in targets if timer is not None]
    for _ in range(len(targets) - len(live)):
        tally.skip("not found")
    try:
        tally.changed = len(service.trigger_timers(live))
    except FiringBurstExceededError:  # a 429 for the whole call: the same token again later
        raise
    except TimerServiceError as exc:  # not sent: none of them fired
        for timer in live:
            tally.fail(timer.id, exc.message)
    return len(targets)


#: An action on one timer as read, held to its version: whether it changed it, or why not.
_Act = Callable[[Timer], str | None]


def _action(service: TimerService, owner: str, request: BulkRequest) -> _Act:
    """The action on one timer: None when done, else why there was nothing to do."""

    def set_enabled(enabled: bool) -> _Act:
        def act(timer: Timer) -> str | None:
            if timer.enabled == enabled:
                return "already active" if enabled else "already paused"
            service.set_enabled(owner, timer.id, enabled=enabled, if_match=timer.version)
            return None

        return act

    def delete(timer: Timer) -> str | None:
        service.delete(owner, timer.id, if_match=timer.version)
        return None

    def relabel(timer: Timer) -> str | None:
        put, remove = request.set_labels, request.remove_labels
        labels = relabelled(timer.labels, put=put, remove=remove)
        if labels == timer.labels:
            return "labels unchanged"
        check_labels(labels)
        service.relabel(owner, timer.id, put=put, remove=remove, if_match=timer.version)
        return None

    actions: dict[str, _Act] = {
        "pause": set_enabled(False),
        "resume": set_enabled(True),
        "delete": delete,
        "relabel": relabel,
    }
    return actions[request.action]


def _apply(
    service: TimerService,
    owner: str,
    request: BulkRequest,
    act: _Act,
    timer: Timer,
    tally: _Tally,
) -> None:
    """``act`` on ``timer``; once more on the timer as it is now if another write came first
    and it still matches."""
    for attempt in (1, 2):
        try:
            skipped = act(timer)
        except VersionConflictError:
            try:
                current = service.get_many(owner, [timer.id]).get(timer.id)
            except TimerServiceError as exc:  # not read again: left as it is, and said so
                tally.fail(timer.id, exc.message)
                return
            if current is None:
                tally.skip("not found")
                return
            if request.selector is not None and not matches(current.labels, request.selector):
                tally.skip("no longer matches")
                return
            if attempt == 2:
                tally.fail(timer.id, "changed by another write meanwhile: run the action again")
                return
            timer = current
            continue
        except TimerNotFoundError:
            tally.skip("not found")
            return
        except TimerServiceError as exc:  # refused (a limit, too many labels) or not stored
            tally.fail(timer.id, exc.message)
            return
        if skipped is None:
            tally.changed += 1
        else:
            tally.skip(skipped)
        return

"""The SSRF guard for code that makes its own connections: every connection a job opens is checked.

:class:`timer_service.egress.Egress` checks and pins the address of each request it makes. Job
code can also connect by other means: Apprise sends through ``requests`` from its own worker
threads, a plugin may use any library. :func:`guarded` covers all of them: while a job runs, every
TCP ``connect`` and UDP ``sendto`` of its thread goes only to a public address (checked on the
address actually connected to, after name resolution, so DNS cannot change it in between), and so
does every thread the job starts and every callable it hands to a thread pool (Apprise's shared
pools included), whichever thread runs it. The service's own AWS calls (botocore) are exempt: they
go to the configured endpoints, never to an address a timer names.

A refused connection raises :class:`BlockedConnectionError` (an ``OSError``, which libraries
treat as a failed connection) and is listed in the guard's ``blocked``, so the run can say what
was refused even when a library swallowed the error.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ParamSpec, TypeVar

from timer_service.egress import BlockedTargetError, check_address

__all__ = ["BlockedConnectionError", "Guard", "guarded", "install"]

P = ParamSpec("P")
T = TypeVar("T")

_INET = (socket.AF_INET, socket.AF_INET6)


class BlockedConnectionError(ConnectionRefusedError):
    """A job tried to connect to an address a timer must not reach."""


@dataclass
class Guard:
    """One job's guard: the refusals so far (shared by every thread working for the job)."""

    blocked: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def refuse(self, target: str, reason: str) -> BlockedConnectionError:
        with self._lock:
            self.blocked.append(f"{target}: {reason}")
        return BlockedConnectionError(f"{target} is blocked: {reason}")


class _ThreadState(threading.local):
    guard: Guard | None = None
    service_call: bool = False  # inside botocore's send: the service's own AWS endpoint


_state = _ThreadState()


@contextmanager
def guarded(*, allow_private: bool = False) -> Iterator[Guard]:
    """Within the block, this thread's connections (and those of the threads and pooled work
    it starts) go only to public addresses; with ``allow_private`` nothing is checked."""
    guard = Guard()
    if allow_private:
        yield guard
        return
    install()
    previous, _state.guard = _state.guard, guard
    try:
        yield guard
    finally:
        _state.guard = previous


def _checked(guard: Guard, sock: socket.socket, address: Any) -> Any:
    """The address to connect to: ``address`` resolved and checked; raises when blocked."""
    if sock.family not in _INET or not isinstance(address, tuple) or _state.service_call:
        return address
    host, port, *rest = address
    target = f"{host}:{port}"
    try:
        infos = _Originals.getaddrinfo(host, port, sock.family, sock.type)
    except OSError as exc:
        raise guard.refuse(target, f"cannot resolve: {exc}") from exc
    if not infos:
        raise guard.refuse(target, "no address")
    for info in infos:
        try:
            check_address(str(info[4][0]))
        except BlockedTargetError as exc:
            raise guard.refuse(target, exc.message) from exc
    # Connect to the address that was checked, not to a name resolved once more.
    return (infos[0][4][0], port, *rest)


def _guarded_connect(sock: socket.socket, address: Any) -> None:
    guard = _state.guard
    if guard is not None:
        address = _checked(guard, sock, address)
    _Originals.connect(sock, address)


def _guarded_connect_ex(sock: socket.socket, address: Any) -> int:
    guard = _state.guard
    if guard is not None:
        address = _checked(guard, sock, address)
    return int(_Originals.connect_ex(sock, address))


def _guarded_sendto(sock: socket.socket, data: Any, *args: Any) -> int:
    guard = _state.guard
    if guard is not None and args:
        args = (*args[:-1], _checked(guard, sock, args[-1]))
    return int(_Originals.sendto(sock, data, *args))


def _carry(guard: Guard | None, fn: Callable[P, T]) -> Callable[P, T]:
    """``fn``, run under ``guard`` in whichever thread calls it."""

    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        previous, _state.guard = _state.guard, guard
        try:
            return fn(*args, **kwargs)
        finally:
            _state.guard = previous

    return run


def _guarded_thread_start(thread: threading.Thread) -> None:
    guard = _state.guard
    if guard is not None:
        thread.run = _carry(guard, thread.run)  # type: ignore[method-assign]
    _Originals.thread_start(thread)


def _guarded_submit(
    pool: ThreadPoolExecutor, fn: Callable[..., T], /, *args: Any, **kwargs: Any
) -> Future[T]:
    # Always the submitter's guard, none included: a pool's worker thread outlives the job
    # that happened to start it, and must not carry that job's guard into others' work.
    future: Future[T] = _Originals.submit(pool, _carry(_state.guard, fn), *args, **kwargs)
    return future


def _service_send(send: Callable[..., T]) -> Callable[..., T]:
    def run(*args: Any, **kwargs: Any) -> T:
        previous, _state.service_call = _state.service_call, True
        try:
            return send(*args, **kwargs)
        finally:
            _state.service_call = previous

    return run


class _Originals:
    """What the checks wrap, taken when they are put in place (so other wrappers, such as the
    local stack's AWS-call recorder, stay in the chain whichever came first)."""

    getaddrinfo = staticmethod(socket.getaddrinfo)
    connect: Any = None
    connect_ex: Any = None
    sendto: Any = None
    thread_start: Any = None
    submit: Any = None


_installing = threading.Lock()
_installed: list[bool] = []


def install() -> None:
    """Put the checks in place, once per process (threads that ask at once wait for the
    first: patching twice would make every wrapper call itself); outside :func:`guarded`
    they do nothing."""
    with _installing:
        if not _installed:
            _install()
            _installed.append(True)


def _install() -> None:
    from botocore.httpsession import URLLib3Session

    _Originals.connect = socket.socket.connect
    _Originals.connect_ex = socket.socket.connect_ex
    _Originals.sendto = socket.socket.sendto
    _Originals.thread_start = threading.Thread.start
    _Originals.submit = ThreadPoolExecutor.submit
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign,assignment]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign,assignment]
    socket.socket.sendto = _guarded_sendto  # type: ignore[method-assign,assignment]
    threading.Thread.start = _guarded_thread_start  # type: ignore[method-assign,assignment]
    ThreadPoolExecutor.submit = _guarded_submit  # type: ignore[method-assign,assignment]
    URLLib3Session.send = _service_send(URLLib3Session.send)  # type: ignore[method-assign]

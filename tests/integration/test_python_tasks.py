"""The asyncio Tasks Python apps run on (src/apps/python/runner.c), under the loop's default
task factory and under asyncio.eager_task_factory (Python 3.12+), which an app may install.

asgid runs each request on a reused Task and runs an app's first step at once with that Task
entered as the current one (asyncio's private _enter_task and _leave_task, as an eager Task's
first step does). Apps must not be able to tell: current_task(), cancellation and uncancel(),
asyncio.timeout, TaskGroup (whose parent is the request's Task) and eager children behave as
on a Task per request, whether they happen in that first step or after a suspension
(suspend=1 below), on the asyncio and uvloop worker classes.
"""
import concurrent.futures
import json
import time

import pytest

from python_apps.harness import PROBE, get, get_json, pyserver, requires_python  # noqa: F401
from rawhttp import request_bytes

pytestmark = requires_python

@pytest.fixture(params=["asyncio", "uvloop"])
def worker_class(request):
    return request.param


@pytest.fixture(params=["default", "eager"])
def task_factory(request):
    return request.param


@pytest.fixture
def probe(pyserver, worker_class, task_factory):
    srv = pyserver(PROBE, worker_class=worker_class,
                   env={"PROBE_PY_TASK_FACTORY": task_factory})
    if task_factory == "eager":
        version = tuple(get_json(srv, "/sys")["version"])
        if version < (3, 12):
            pytest.skip(f"asyncio.eager_task_factory came in Python 3.12; the worker runs "
                        f"{'.'.join(map(str, version))}")
    return srv


@pytest.mark.parametrize("suspend", ["", "?suspend=1"])
def test_app_runs_in_a_task_with_a_fresh_context(probe, suspend):
    # The app's code runs inside a real asyncio Task (anyio and sniffio need one), in a context
    # of its own: a context variable one request sets is unset for the next request, on the
    # same connection or another.
    with probe.raw() as conn:
        for _ in range(3):
            conn.send(request_bytes("GET", "/task" + suspend))
            resp = conn.read_response()
            assert resp.status == 200, resp
            seen = json.loads(resp.body)
            assert seen == {"is_task": True, "library": "asyncio", "cancelling": 0,
                            "found": "unset", "same_task": True}
    assert json.loads(get(probe, "/task" + suspend).body)["found"] == "unset"


@pytest.mark.parametrize("suspend", ["", "?suspend=1"])
def test_cancelling_its_own_task_reaches_the_app(probe, suspend):
    # An app that cancels its Task gets CancelledError at its next suspension, whether that
    # comes in its first step or later; requests after it are served as usual.
    for _ in range(2):
        resp = get(probe, "/self-cancel" + suspend)
        assert resp.status == 200, resp
        assert resp.body == b"cancelled"
        seen = json.loads(get(probe, "/task").body)
        assert seen["cancelling"] == 0 and seen["found"] == "unset"


@pytest.mark.parametrize("suspend", ["", "?ms=0"])
def test_asyncio_timeout_in_the_app(probe, suspend):
    # asyncio.timeout entered in the app's eager first step, or after a suspension.
    for _ in range(3):
        assert get(probe, "/timeout" + suspend).body == b"TimeoutError cancelling=0"


def test_app_cancelling_every_other_task(probe):
    # Some apps cancel all of asyncio.all_tasks() and await them (at shutdown, say): that must
    # not hang, and the server keeps serving after it.
    for _ in range(3):
        get(probe, "/sleep?ms=1")
    resp = get(probe, "/cancel-others")
    assert resp.status == 200 and resp.body.startswith(b"cancelled "), resp
    for _ in range(3):
        assert get(probe, "/sleep?ms=1").body == b"slept"
    assert json.loads(get(probe, "/task").body)["is_task"] is True


def test_a_cancelled_request_leaves_no_cancel_count(probe):
    # Requests cancelled from outside (their Tasks' cancel() never taken back) must not leave
    # a cancel count to later requests: asyncio.timeout would raise CancelledError instead of
    # TimeoutError in them.
    with concurrent.futures.ThreadPoolExecutor(6) as pool:
        held = [pool.submit(get, probe, "/hold?ms=3000") for _ in range(3)]
        time.sleep(0.5)
        assert get(probe, "/cancel-held").body == b"cancelled 3"
        assert all(h.result().status == 500 for h in held)  # cancelled: no response
        timeouts = [pool.submit(get, probe, "/timeout?ms=300") for _ in range(6)]
        answers = [(t.result().status, t.result().body) for t in timeouts]
    assert answers == [(200, b"TimeoutError cancelling=0")] * 6


@pytest.mark.parametrize("suspend", ["", "?suspend=1"])
def test_cancel_while_awaiting_a_task_waits_for_it(probe, suspend):
    # As with Task.cancel(): the cancel goes to the task being awaited, and the awaiting app
    # gets what that task makes of it (here it cleans up and returns a value).
    assert get(probe, "/bg-start").body == b"started"
    time.sleep(0.1)
    assert get(probe, "/cancel-bg" + suspend).body == b"bg cleaned up and returned"


def test_requests_answered_while_the_app_cancels_all_tasks(probe):
    # An app cancelling every task on every loop pass cancels requests (500), and Tasks that
    # have not run yet: each request still gets an answer.
    def status(target):
        try:
            return get(probe, target, timeout=4).status
        except OSError as exc:
            return repr(exc)

    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        sweep = pool.submit(get, probe, "/sweep?ms=1500", timeout=10)
        time.sleep(0.2)
        statuses = list(pool.map(status, ["/timeout?ms=50"] * 60))
        assert sweep.result().body.startswith(b"swept ")
    assert all(s in (200, 500) for s in statuses), statuses
    assert get(probe, "/timeout").body == b"TimeoutError cancelling=0"


@pytest.mark.parametrize("suspend", ["", "?suspend=1"])
def test_task_group_children_run_in_the_request(probe, suspend):
    # A TaskGroup's children run in a copy of the request's context and the group waits for
    # them all; the request's Task is the same after it, with no cancel left over. (A first
    # request starts a new Task; the second takes the parked one, and its first step runs
    # eagerly.)
    for _ in range(2):
        out = get_json(probe, "/task-group" + suspend)
        assert out == {"results": [[0, "in the group's parent"], [2, "in the group's parent"],
                                   [4, "in the group's parent"]],
                       "same_task": True, "cancelling": 0}


@pytest.mark.parametrize("suspend", ["", "?suspend=1"])
def test_task_group_failing_child_cancels_the_request_body_and_siblings(probe, suspend):
    # A child that fails cancels its siblings and the group's parent: the request's Task, whose
    # 10 s sleep inside the group ends at once (a parent that were another Task would leave
    # the request sleeping past the client's 5 s timeout). The group raises an ExceptionGroup
    # the app catches, takes its cancel back (cancelling() is 0) and the app goes on. With
    # the eager factory and no suspension, the child fails inside create_task, during the
    # request's eager first step.
    for _ in range(2):
        out = get_json(probe, "/task-group?fail=1" + suspend.replace("?", "&"))
        assert out == {"raised": "ExceptionGroup", "errors": ["ValueError: child failed"],
                       "sleeper": "cancelled", "same_task": True, "cancelling": 0}
    assert get(probe, "/timeout").body == b"TimeoutError cancelling=0"


@pytest.mark.parametrize("suspend", ["", "&suspend=1"])
def test_task_group_takes_back_its_cancel_of_the_request(probe, suspend):
    # The only child fails in its first step (inside create_task under the eager factory) and
    # the body does not wait: the group waits for the child, cancels its parent (the request's
    # Task) and raises an ExceptionGroup the app catches; the app's next await does not raise
    # CancelledError. Whether the group takes its cancel back depends on the Python version
    # (3.11's leaves cancelling() at 1): the request's Task must do as a Task the app creates.
    for _ in range(2):
        out = get_json(probe, "/task-group?fail=alone" + suspend)
        assert out["request"] == out["own_task"], out
        assert {k: v for k, v in out["request"].items() if k != "cancelling"} == {
            "raised": "ExceptionGroup", "errors": ["ValueError: child failed"],
            "same_task": True}


@pytest.mark.parametrize("suspend", ["", "?suspend=1"])
def test_a_cancel_taken_back_as_on_a_task_of_its_own(probe, suspend):
    # cancel() then uncancel() before the Task waits: whether the next await raises
    # CancelledError depends on the Python version (3.13 forgets the cancel), and the
    # request's Task must do as a Task the app creates does, in its eager first step too.
    for _ in range(2):
        out = get_json(probe, "/cancel-taken-back" + suspend)
        assert out["request"] == out["own_task"], out
        assert out["cancelling"] == 0


@pytest.mark.parametrize("suspend", ["", "?suspend=1"])
def test_create_task_children_under_the_loop_task_factory(probe, task_factory, suspend):
    # Children made with asyncio.create_task follow the app's task factory: under the eager
    # one, a child's first step runs inside create_task with the child as the current task,
    # and the request's Task is current again once create_task returns. Children return and
    # are cancelled as usual, and leave no cancel on the request's Task.
    for _ in range(2):
        out = get_json(probe, "/children" + suspend)
        assert out == {"eager": task_factory == "eager", "current_in_child": "the child",
                       "current_after": True, "result": "child result",
                       "cancelled": "cancelled", "cancelling": 0}

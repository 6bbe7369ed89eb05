"""One referee session: the kernel serves calls while the referee judges some questions.

The executor (the grading plugin's notebook client) runs a cell that starts the agent in the
kernel (``agent.serve``, its source sent with the cell, so nothing the notebook did to its own
names can stand in for it); meanwhile a thread of this process accepts the agent's connection
on a socket in the attempt's channel folder and runs the tests of ``questions`` through it. The
verdicts are stored in the plugin as each is decided, so a kernel lost mid-way keeps them; the
executor then sees the kernel die or hang and grades again without that question's tests.
"""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

from . import referee as referee_module

ACCEPT_TIMEOUT = 60.0  # seconds for the agent to connect once its cell has started


def serve_source(path: str) -> str:
    """The cell that makes the kernel serve the referee's calls on the socket at ``path``."""
    from .agent import agent_source

    return (
        "_grading_agent_namespace = {'__name__': '_grading_agent'}\n"
        f"exec(compile({agent_source()!r}, 'grading-agent', 'exec'), _grading_agent_namespace)\n"
        f"_grading_agent_namespace['serve']({path!r})\n"
        "del _grading_agent_namespace\n"
    )


def run_referee(guard, executor, questions: list[str], index: int) -> None:
    """Judge ``questions`` against the running kernel (see the module's docstring)."""
    import nbformat

    from .agent import unix_address
    from .kernel import kernel_pid
    from .remote import RemoteNamespace, Session, SessionBroken

    attempt = guard.attempt
    path = attempt.channel / f"referee-{time.monotonic_ns()}.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    unix_address(str(path), listener.bind)
    attempt.give(path)
    listener.listen(1)
    listener.settimeout(ACCEPT_TIMEOUT)
    pid = kernel_pid(executor.km)
    test_timeout = float(guard.config["test_timeout"])
    state: dict = {"cell_ended": False}

    def interrupt() -> None:
        if pid is not None and not state["cell_ended"]:
            try:
                os.kill(pid, signal.SIGINT)
            except OSError:
                pass

    def record(question: str, case_index: int, passed: bool, message: str) -> None:
        guard.referee_verdicts[(question, case_index)] = (passed, message)

    def judge_all() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:  # the agent never came: the notebook broke its own kernel
            return
        finally:
            listener.close()
        state["connection"] = connection
        session = Session(connection, call_timeout=test_timeout, interrupt=interrupt)
        env = RemoteNamespace(session)
        try:
            for question in questions:
                test = guard.referee_tests[question]
                guard.executing = ("test", question)
                if question in guard.skip_tests:
                    for case_index in range(len(test.cases)):
                        record(
                            question, case_index, False, referee_module.crashed_message(question)
                        )
                else:
                    referee_module.judge(
                        test,
                        env,
                        lambda i, passed, message, q=question: record(q, i, passed, message),
                    )
                guard.judged.add(question)
        except SessionBroken:  # the kernel stopped answering: end it; the executor restarts
            if pid is not None and not state["cell_ended"]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        except BaseException as error:  # noqa: BLE001 -- raised again by the executor's thread
            if not state["cell_ended"]:
                state["error"] = error
        finally:
            session.close()

    cases = sum(len(guard.referee_tests[q].cases) for q in questions)
    cell = nbformat.v4.new_code_cell(serve_source(str(path)))
    cell.metadata["grading_referee"] = cases
    thread = threading.Thread(target=judge_all, name="referee", daemon=True)
    thread.start()
    try:
        executor.execute_cell(cell, index, store_history=False)
    finally:
        thread.join(timeout=5)
        if thread.is_alive():  # the cell ended first: the kernel no longer serves
            state["cell_ended"] = True
            listener.close()
            connection = state.get("connection")
            if connection is not None:
                try:
                    connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            thread.join(timeout=30)
        path.unlink(missing_ok=True)
    for question in questions:  # what the kernel's end left undecided
        test = guard.referee_tests[question]
        for case_index in range(len(test.cases)):
            if (question, case_index) not in guard.referee_verdicts:
                record(question, case_index, False, UNREACHED.format(question=question))
    if "error" in state:
        raise state["error"]


UNREACHED = (
    "❌ Test case failed\nThe tests of {question} could not reach the notebook's kernel (the "
    "notebook had broken Python's sockets or the kernel itself), so they score 0."
)

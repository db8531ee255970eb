"""Ctrl-C / SIGTERM inside graceful_shutdown: unwind once, a stuck cleanup or a second signal ends the process."""

import signal
import subprocess
import sys
import textwrap
import time

PRELUDE = textwrap.dedent(
    """
    import os, signal, sys, time
    from openenv_harness.harness.interrupts import graceful_shutdown
    print("ready", flush=True)
    """
)


def _start(body: str) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", PRELUDE + textwrap.dedent(body)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    time.sleep(0.3)  # inside the block
    return proc


def test_stuck_cleanup_is_ended_after_the_grace_period():
    proc = _start(
        """
        with graceful_shutdown(grace_s=1.0):
            try:
                time.sleep(60)
            finally:
                time.sleep(60)  # a cleanup that never finishes
        """
    )
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 128 + signal.SIGTERM
    assert time.monotonic() - t0 < 10
    assert "cleanup after SIGTERM did not finish within 1 s" in err
    assert "Thread" in err and "line" in err  # every thread's stack, to see where it was stuck


def test_second_signal_exits_at_once():
    proc = _start(
        """
        with graceful_shutdown(grace_s=60.0):
            try:
                time.sleep(60)
            except KeyboardInterrupt:
                print("unwinding", flush=True)
                time.sleep(60)  # slow cleanup; the user presses Ctrl-C again
        """
    )
    proc.send_signal(signal.SIGINT)
    assert proc.stdout.readline() == "unwinding\n"
    t0 = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 128 + signal.SIGINT and time.monotonic() - t0 < 10
    assert "second signal (SIGINT)" in err


def test_finished_cleanup_cancels_the_watchdog_and_restores_handlers():
    proc = _start(
        """
        with graceful_shutdown(grace_s=1.0):
            try:
                time.sleep(60)
            except KeyboardInterrupt as exc:
                print("interrupted:", exc, flush=True)
        time.sleep(2.0)  # past the grace period: a watchdog left armed would end the process here
        print("alive", signal.getsignal(signal.SIGTERM) is signal.SIG_DFL, flush=True)
        """
    )
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert out == f"interrupted: signal {int(signal.SIGTERM)}\nalive True\n"

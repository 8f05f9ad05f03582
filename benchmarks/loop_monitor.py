"""Event-loop health: a 1 ms ticker measures its own lateness; samples of the stack say who caused it.

The ticker runs on the monitored loop and records how late each tick ran. While the loop is more
than `stall` late, its stack is sampled about every millisecond: by a profiling timer (SIGPROF
per millisecond of the process's CPU; Python runs the handler on the loop's own thread, the main
one) and by a watchdog thread (`sys._current_frames()`, which also sees the loop thread blocked
in a call and notes the other threads that ran). Executor jobs are noted with their CPU. Each
late tick becomes an incident, attributed when the report is made (not on the loop being
measured) to the code the samples show, split by what the loop thread was doing meanwhile
(from /proc/self/task/<tid>/schedstat, read at every tick):

- on CPU: the loop thread ran the code on its stack (the owner is the innermost frame of a
  known code base: the integration, the emulator, tests/benchmarks, Home Assistant, the test
  harness);
- preempted: the thread was runnable but the machine ran something else (other processes);
- sleeping: the thread waited; another thread of the process that ran meanwhile held the GIL
  (its stack or its executor job names the holder), or the loop thread was stuck in a blocking
  call.

Stalls of under about 5 ms may go unsampled ("unsampled" in the report): the profiling timer
follows the kernel's tick, and the watchdog waits for the GIL up to the switch interval (5 ms).
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterator
import contextlib
from dataclasses import dataclass, field
import functools
import logging
import os
from pathlib import Path
import signal
import statistics
import sys
import threading
import time
from types import FrameType
from typing import Any

REPO = Path(__file__).resolve().parent.parent
INTEGRATION = "cloud_sip_ua"
# Owners: code bases a piece of work belongs to (innermost such frame wins).
_OWNERS = (INTEGRATION, "emulator", "bench/tests", "HA core", "harness")
_HARNESS = (
    "pytest_homeassistant_custom_component",
    "_pytest",
    "pytest",
    "pluggy",
    "pytest_asyncio",
    "pytest_socket",
    "pytest_timeout",
    "syrupy",
)


def category(filename: str) -> str:
    """Return which code base a source file belongs to."""
    path = filename.replace("\\", "/")
    if "/custom_components/cloud_sip_ua/" in path:
        return INTEGRATION
    repo = str(REPO) + "/"
    if path.startswith(repo + "emulator/"):
        return "emulator"
    if path.startswith((repo + "tests/", repo + "benchmarks/", repo + "scripts/")):
        return "bench/tests"
    if "/site-packages/" in path:
        package = path.split("/site-packages/", 1)[1].split("/", 1)[0]
        if package == "homeassistant":
            return "HA core"
        if package.removesuffix(".py") in _HARNESS:
            return "harness"
        return "library"
    return "stdlib"


def short(filename: str) -> str:
    """Return a readable path: relative to the repository or to site-packages."""
    path = filename.replace("\\", "/")
    if "/site-packages/" in path:
        return path.split("/site-packages/", 1)[1]
    with contextlib.suppress(ValueError):
        return str(Path(path).relative_to(REPO))
    if "/lib/python" in path:
        return path.split("/lib/python", 1)[1].split("/", 1)[-1]
    return path


type Frame = tuple[str, str, int]  # file, function, line


def stack_of(frame: FrameType | None, depth: int = 60) -> tuple[Frame, ...]:
    """Return the frames from the innermost outwards."""
    frames: list[Frame] = []
    while frame is not None and len(frames) < depth:
        code = frame.f_code
        frames.append((code.co_filename, code.co_name, frame.f_lineno or 0))
        frame = frame.f_back
    return tuple(frames)


def is_idle(stack: tuple[Frame, ...]) -> bool:
    """Tell whether a sample says nothing: the loop waits in its selector, or runs the ticker."""
    if not stack:
        return True
    filename, function, _line = stack[0]
    if function == "select" and "selectors" in filename:
        return True
    # The ticker itself (the frames up to the loop's own); not the executor-job wrapper.
    for filename, function, _line in stack:
        if _is_loop_driver((filename, function, _line)):
            return False
        if filename == __file__ and function == "_on_tick":
            return True
    return False


def _is_loop_driver(frame: Frame) -> bool:
    """Tell whether a frame runs the event loop itself (whatever runs the loop lies beyond)."""
    return frame[1] in _LOOP_DRIVERS and frame[0].endswith("asyncio/base_events.py")


_LOOP_DRIVERS = frozenset({"_run_once", "run_forever", "run_until_complete"})


def owner_of(stack: tuple[Frame, ...]) -> tuple[str, str]:
    """Return (owner, site): the innermost frame of a known code base in the running callback.

    The search stops at the event loop: on the loop thread, the test harness that started the
    loop lies beyond it and owns nothing the loop runs. When only library or standard library
    frames ran (asyncio's transports, aiohttp), the site is the callback the loop called.
    """
    inside: list[Frame] = []
    for frame in stack:
        if _is_loop_driver(frame):
            break
        inside.append(frame)
    for filename, function, line in inside:
        if filename == __file__:
            continue  # the monitor's own wrappers pass work through
        kind = category(filename)
        if kind in _OWNERS:
            return kind, f"{short(filename)}:{function}:{line}"
    if not inside:
        return "unknown", "?"
    callback = inside[0]  # another thread: where it is
    if len(inside) < len(stack):  # the loop thread: the callback the loop called
        callback = inside[-1]
        if len(inside) > 1 and callback[1] == "_run" and "events.py" in callback[0]:
            callback = inside[-2]
    filename, function, line = callback
    return category(inside[0][0]), f"{short(filename)}:{function}:{line}"


def _schedstat(path: str) -> tuple[int, int] | None:
    """Return (ns on CPU, ns waiting on a run queue) of a thread, None if it is gone."""
    try:
        with open(path, "rb") as file:  # noqa: PTH123 - a tiny /proc read, off the loop
            run, wait, _slices = file.read().split()
    except OSError, ValueError:
        return None
    return int(run), int(wait)


@dataclass(slots=True)
class Sample:
    """The loop thread's stack at one moment of a stall, and the other threads that ran."""

    stack: tuple[Frame, ...]
    # (thread name, its stack) of other threads that ran most of the time since the last sample.
    busy: list[tuple[str, tuple[Frame, ...]]]
    # "signal": taken on the loop thread itself (exact); "watchdog": taken from the watchdog
    # thread, which gets the GIL only where the loop thread lets go of it (biased to I/O calls).
    source: str = "watchdog"


@dataclass(slots=True)
class Job:
    """One executor job: what ran, where, when, and how much CPU its thread spent on it."""

    ident: int
    name: str
    owner: str
    start: float
    end: float = 0.0  # 0 while it runs
    cpu: float = 0.0


def describe(func: Callable[..., object]) -> tuple[str, str]:
    """Return a job's function as `module.qualname` and the code base it belongs to."""
    while isinstance(func, functools.partial):
        func = func.func
    target = getattr(func, "__func__", func)
    module = getattr(target, "__module__", None) or "?"
    name = f"{module}.{getattr(target, '__qualname__', type(target).__name__)}"
    code = getattr(target, "__code__", None)
    if code is not None:
        return name, category(code.co_filename)
    file = getattr(sys.modules.get(module), "__file__", None)
    return name, category(file) if file else "library"


@dataclass(slots=True)
class Incident:
    """One late tick: how late, what the loop thread did meanwhile, and who is to blame."""

    phase: str
    lag: float  # seconds the tick was late
    run: float  # seconds the loop thread was on CPU between the two ticks
    preempted: float  # seconds it was runnable but not running
    wall: float  # seconds between the two ticks
    samples: list[Sample]
    start: float  # time.monotonic() of the tick before
    end: float  # and of this one
    kind: str = ""  # on CPU | GIL | blocking | preempted | idle | unsampled
    owner: str = ""
    site: str = ""
    integration_on_stack: bool = False
    # The outermost frame of the integration, when it called the blamed code.
    via: str = ""

    def classify(self, jobs: list[Job]) -> None:
        """Decide what the lag is blamed on (`jobs`: executor jobs that ran meanwhile)."""
        self.integration_on_stack = any(
            category(f[0]) == INTEGRATION for s in self.samples for f in s.stack
        )
        sleeping = self.wall - self.run - self.preempted
        work = [s for s in self.samples if not is_idle(s.stack)]
        # Samples taken on the loop thread itself are exact: prefer them when there are any.
        work = [s for s in work if s.source == "signal"] or work
        if self.preempted >= max(self.run, sleeping):
            self.kind, self.owner, self.site = "preempted", "machine", "other processes"
            return
        if self.run >= sleeping:
            if not work:
                self.kind, self.owner, self.site = "unsampled", "unknown", "-"
                return
            self.kind = "on CPU"
            self.owner, self.site = _majority([owner_of(s.stack) for s in work])
            self.via = _caller(
                [s.stack for s in work if owner_of(s.stack)[1] == self.site]
            )
            return
        holders = [owner_of(stack) for s in self.samples for _name, stack in s.busy]
        if holders:
            self.kind = "GIL"
            self.owner, self.site = _majority(holders)
        elif jobs and (job := max(jobs, key=lambda j: j.cpu)).cpu > 0.3 * sleeping:
            # The watchdog could not get the GIL either: blame the executor job that ran.
            self.kind, self.owner, self.site = "GIL", job.owner, f"job {job.name}"
        elif work:
            self.kind = "blocking"
            self.owner, self.site = _majority([owner_of(s.stack) for s in work])
        else:
            self.kind, self.owner, self.site = "idle", "machine", "late wake-up"

    @property
    def blames_integration(self) -> bool:
        """Tell whether the integration's own work (on the loop or holding the GIL) made it late."""
        return self.owner == INTEGRATION and self.kind in ("on CPU", "GIL", "blocking")


def _caller(stacks: list[tuple[Frame, ...]]) -> str:
    """Return the outermost frame of the integration in the first stack that has one."""
    for stack in stacks:
        ours = [f for f in stack if category(f[0]) == INTEGRATION]
        if ours:
            filename, function, line = ours[-1]
            return f"{short(filename)}:{function}:{line}"
    return ""


def _majority(found: list[tuple[str, str]]) -> tuple[str, str]:
    """Return the most frequent owner and, among its sites, the most frequent one."""
    owner = Counter(o for o, _s in found).most_common(1)[0][0]
    site = Counter(s for o, s in found if o == owner).most_common(1)[0][0]
    return owner, site


@dataclass(slots=True)
class PhaseStats:
    """The ticks of one phase."""

    name: str
    lags: list[float] = field(default_factory=list)
    incidents: list[Incident] = field(default_factory=list)
    seconds: float = 0.0


class LoopMonitor:
    """Measures the lateness of a 1 ms ticker on `loop` and attributes the stalls."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        *,
        tick: float = 0.001,
        stall: float = 0.003,
        poll: float = 0.001,
    ) -> None:
        """Monitor `loop` (call start() from its thread)."""
        self.loop = loop
        self.tick = tick
        self.stall = stall
        self.poll = poll
        self.phases: dict[str, PhaseStats] = {}
        self._between = PhaseStats("(between phases)")
        self._phase = self._between
        # Phase changes since the last tick: (when, the phase from then on). A tick counts for
        # the phase that had most of the time since the tick before.
        self._switches: list[tuple[float, PhaseStats]] = []
        self._ticked_in = self._between
        self._handle: asyncio.TimerHandle | None = None
        self._due = 0.0
        self._last = 0.0
        self._last_stat = (0, 0)
        self._stat_fd = -1
        self._loop_ident = 0
        self._samples: dict[float, list[Sample]] = defaultdict(list)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._watchdog: threading.Thread | None = None
        self.slow_callbacks: list[tuple[str, str]] = []
        self.jobs: list[Job] = []
        self._signal_samples: deque[tuple[float, Sample]] = deque(maxlen=10000)
        self._old_handler: signal.Handlers | Callable[..., Any] | int | None = None
        self._original_run_in_executor: Callable[..., Any] | None = None

    # ---- the ticker (on the loop) -----------------------------------------------------------

    def start(self) -> None:
        """Start ticking and watching (from the loop's thread)."""
        self._loop_ident = threading.get_ident()
        native = threading.get_native_id()
        self._stat_fd = os.open(f"/proc/self/task/{native}/schedstat", os.O_RDONLY)
        self._last_stat = self._read_stat()
        self._last = time.monotonic()
        self._due = self._last + self.tick
        self._handle = self.loop.call_at(self._due, self._on_tick)
        self._track_executor_jobs()
        if threading.current_thread() is threading.main_thread():
            # The loop runs on the main thread, where Python runs signal handlers: a profiling
            # timer (1 ms of the process's CPU) samples the loop's stack without the GIL race.
            self._old_handler = signal.signal(signal.SIGPROF, self._on_signal)
            signal.setitimer(signal.ITIMER_PROF, self.poll, self.poll)
        self._watchdog = threading.Thread(
            target=self._watch, name="loop-health-watchdog", daemon=True
        )
        self._watchdog.start()

    def stop(self) -> None:
        """Stop ticking and watching."""
        if self._old_handler is not None:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.signal(signal.SIGPROF, self._old_handler)
            self._old_handler = None
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        if self._original_run_in_executor is not None:
            del self.loop.run_in_executor
            self._original_run_in_executor = None
        self._stop.set()
        if self._watchdog is not None:
            self._watchdog.join()
        if self._stat_fd >= 0:
            os.close(self._stat_fd)
            self._stat_fd = -1

    def _read_stat(self) -> tuple[int, int]:
        """Return the loop thread's (ns on CPU, ns on a run queue)."""
        run, wait, _slices = os.pread(self._stat_fd, 128, 0).split()
        return int(run), int(wait)

    def _on_tick(self) -> None:
        """Record this tick's lateness; attribute it if the watchdog saw a stall."""
        now = time.monotonic()
        due = self._due
        lag = now - due
        stat = self._read_stat()
        phase = self._phase_of_interval(now)
        phase.lags.append(lag)
        with self._lock:
            samples = self._samples.pop(due, [])
            self._due = now + self.tick
        while self._signal_samples:
            seen_due, sample = self._signal_samples.popleft()
            if seen_due == due:
                samples.append(sample)
        if lag >= self.stall or samples:
            # Kept raw: attributing it (in report) would be work on the loop being measured.
            phase.incidents.append(
                Incident(
                    phase=phase.name,
                    lag=lag,
                    run=(stat[0] - self._last_stat[0]) / 1e9,
                    preempted=(stat[1] - self._last_stat[1]) / 1e9,
                    wall=now - self._last,
                    samples=samples,
                    start=self._last,
                    end=now,
                )
            )
        self._last = now
        self._last_stat = stat
        self._handle = self.loop.call_at(self._due, self._on_tick)

    def _on_signal(self, _signum: int, frame: FrameType | None) -> None:
        """Note the loop thread's stack if the loop is late (on the loop thread, no locks)."""
        due = self._due
        if time.monotonic() - due >= self.stall:
            self._signal_samples.append((due, Sample(stack_of(frame), [], "signal")))

    def _track_executor_jobs(self) -> None:
        """Note every executor job (Home Assistant's and the import executor's) with its CPU."""
        original = self._original_run_in_executor = self.loop.run_in_executor
        jobs = self.jobs

        def run_in_executor(
            executor: Any, func: Callable[..., Any], *args: Any
        ) -> asyncio.Future[Any]:
            name, owner = describe(func)

            def job() -> Any:
                record = Job(threading.get_ident(), name, owner, time.monotonic())
                jobs.append(record)
                cpu = time.thread_time()
                try:
                    return func(*args)
                finally:
                    record.cpu = time.thread_time() - cpu
                    record.end = time.monotonic()

            return original(executor, job)

        # (setattr: mypy refuses an assignment to a method.)
        setattr(self.loop, "run_in_executor", run_in_executor)

    # ---- phases ---------------------------------------------------------------------------

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[PhaseStats]:
        """Count the ticks inside the block as the phase `name` (again: added to it)."""
        stats = self.phases.setdefault(name, PhaseStats(name))
        self._switch(stats)
        started = time.monotonic()
        try:
            yield stats
        finally:
            stats.seconds += time.monotonic() - started
            self._switch(self._between)

    def _switch(self, stats: PhaseStats) -> None:
        """Make `stats` the current phase."""
        self._switches.append((time.monotonic(), stats))
        self._phase = stats

    def _phase_of_interval(self, now: float) -> PhaseStats:
        """Return the phase that ran longest since the last tick; forget the switches."""
        if not self._switches:
            return self._phase
        spans: dict[str, float] = defaultdict(float)
        by_name = {self._ticked_in.name: self._ticked_in}
        begin, current = self._last, self._ticked_in
        for when, stats in self._switches:
            spans[current.name] += when - begin
            begin, current = when, stats
            by_name[stats.name] = stats
        spans[current.name] += now - begin
        self._switches.clear()
        self._ticked_in = self._phase
        return by_name[max(spans, key=lambda name: spans[name])]

    # ---- the watchdog (its own thread) -----------------------------------------------------

    def _watch(self) -> None:
        """Sample the loop thread's stack while the loop is late."""
        me = threading.get_ident()
        baseline: dict[int, tuple[float, int]] = {}
        refreshed = 0.0
        while not self._stop.is_set():
            time.sleep(self.poll)
            due = self._due
            now = time.monotonic()
            if now - due < self.stall:
                if now - refreshed > 0.02:
                    baseline = self._thread_cpu(me)
                    refreshed = now
                continue
            frames = sys._current_frames()  # noqa: SLF001 - the sampling profiler's way in
            current = self._thread_cpu(me)
            busy: list[tuple[str, tuple[Frame, ...]]] = []
            for ident, (seen, run) in current.items():
                if ident == self._loop_ident:
                    continue
                # A thread born since the last reading: all its time counts.
                before = baseline.get(ident, (due, 0))
                # Ran for at least half of the stall so far (the window may start earlier).
                window = min(seen - before[0], now - due)
                if window > 0 and (run - before[1]) / 1e9 > 0.5 * window:
                    name = _thread_name(ident)
                    busy.append((name, stack_of(frames.get(ident))))
            baseline, refreshed = current, now
            sample = Sample(stack_of(frames.get(self._loop_ident)), busy)
            del frames
            with self._lock:
                if self._due == due:
                    self._samples[due].append(sample)

    def _thread_cpu(self, me: int) -> dict[int, tuple[float, int]]:
        """Return each other thread's (time read, ns on CPU)."""
        found: dict[int, tuple[float, int]] = {}
        for thread in threading.enumerate():
            if thread.ident in (None, me) or thread.native_id is None:
                continue
            stat = _schedstat(f"/proc/self/task/{thread.native_id}/schedstat")
            if stat is not None:
                found[thread.ident] = (time.monotonic(), stat[0])
        return found

    # ---- asyncio's own slow-callback report (debug mode) ------------------------------------

    def capture_slow_callbacks(self) -> logging.Handler:
        """Keep asyncio's "Executing ... took" warnings (debug mode) with the current phase."""
        monitor = self

        class _Handler(logging.Handler):
            def emit(self, record: logging.LogRecord) -> None:
                if record.getMessage().startswith("Executing"):
                    monitor.slow_callbacks.append(
                        (monitor._phase.name, record.getMessage())  # noqa: SLF001
                    )

        handler = _Handler(logging.WARNING)
        logging.getLogger("asyncio").addHandler(handler)
        return handler


def _thread_name(ident: int) -> str:
    """Return a thread's name."""
    for thread in threading.enumerate():
        if thread.ident == ident:
            return thread.name
    return str(ident)


# ---- the report --------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    """Format seconds as milliseconds."""
    return f"{seconds * 1000:.1f}"


def percentile(values: list[float], fraction: float) -> float:
    """Return the value below which `fraction` of the values lie."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


def report(monitor: LoopMonitor, *, top: int = 5, budget: float = 0.005) -> str:
    """Attribute the stalls; return the per-phase table, the top offenders and the verdict."""
    for stats in monitor.phases.values():
        for incident in stats.incidents:
            incident.classify(
                [
                    j
                    for j in monitor.jobs
                    if j.start < incident.end
                    and (j.end == 0.0 or j.end > incident.start)
                ]
            )
    header = (
        f"{'phase':<31}{'secs':>6}{'ticks':>7}{'worst ms':>10}{'p99 ms':>8}"
        f"{'median':>8}{'>5 ms':>7}{'>3 ms':>7}"
    )
    lines = ["", header]
    phases = list(monitor.phases.values())
    for stats in phases:
        lags = stats.lags or [0.0]
        lines.append(
            f"{stats.name:<31}{stats.seconds:>6.1f}{len(stats.lags):>7}{_ms(max(lags)):>10}"
            f"{_ms(percentile(lags, 0.99)):>8}{_ms(statistics.median(lags)):>8}"
            f"{sum(lag > budget for lag in lags):>7}"
            f"{sum(lag > monitor.stall for lag in lags):>7}"
        )
    lines.append("")
    lines.append(
        "top offenders per phase (ticks > 3 ms late; kind: on CPU = the loop ran it, GIL = "
        "another thread held it, preempted = the machine ran other processes)"
    )
    for stats in phases:
        if not stats.incidents:
            continue
        total = sum(i.lag for i in stats.incidents)
        groups: dict[tuple[str, str, str], list[Incident]] = defaultdict(list)
        for incident in stats.incidents:
            site = incident.site.rsplit(":", 1)[0]  # group by function, not line
            groups[(incident.kind, incident.owner, site)].append(incident)
        ranked = sorted(groups.items(), key=lambda kv: -sum(i.lag for i in kv[1]))
        lines.append(f"  {stats.name}: {len(stats.incidents)} late ticks")
        for (kind, owner, _site), found in ranked[:top]:
            worst = max(found, key=lambda i: i.lag)
            share = sum(i.lag for i in found) / total
            lines.append(
                f"    {share:>4.0%} {len(found):>3}x worst {_ms(worst.lag):>6} ms  "
                f"{kind:<9} {owner:<12} {worst.site}"
                f"  (cpu {_ms(worst.run)} / preempted {_ms(worst.preempted)} ms)"
            )
            if worst.via and worst.via != worst.site:
                lines.append(f"{'':>40}via {worst.via}")
    busiest: dict[str, list[Job]] = defaultdict(list)
    for job in monitor.jobs:
        busiest[job.name].append(job)
    ranked_jobs = sorted(busiest.values(), key=lambda js: -max(j.cpu for j in js))
    lines.append("")
    lines.append(
        "executor jobs with the most CPU (a job that holds the GIL stalls the loop too):"
    )
    for found_jobs in ranked_jobs[:top]:
        job = max(found_jobs, key=lambda j: j.cpu)
        lines.append(
            f"  {_ms(job.cpu):>6} ms cpu (max of {len(found_jobs)}x)  {job.owner:<12} {job.name}"
        )
    ours = [i for s in phases for i in s.incidents if i.blames_integration]
    on_stack = [i for s in phases for i in s.incidents if i.integration_on_stack]
    worst_ours = max(ours, key=lambda i: i.lag, default=None)
    lines.append("")
    if worst_ours is not None:
        lines.append(
            f"worst lag attributable to cloud_sip_ua: {_ms(worst_ours.lag)} ms (goal < 5 ms) "
            f"in {worst_ours.phase}: {worst_ours.kind} at {worst_ours.site}"
        )
    else:
        lines.append(
            "worst lag attributable to cloud_sip_ua: 0.0 ms (goal < 5 ms): "
            "no stall of over 3 ms was the integration's"
        )
    worst_stack = max((i.lag for i in on_stack), default=0.0)
    worst_all = max((lag for s in phases for lag in s.lags), default=0.0)
    lines.append(
        f"  (worst with cloud_sip_ua anywhere on the loop's stack: {_ms(worst_stack)} ms; "
        f"worst lag overall: {_ms(worst_all)} ms)"
    )
    if monitor.slow_callbacks:
        lines.append("")
        lines.append("asyncio debug mode, slow callbacks:")
        lines.extend(f"  [{p}] {m[:200]}" for p, m in monitor.slow_callbacks[:20])
    return "\n".join(lines)

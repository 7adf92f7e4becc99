/**
 * The Python test harness, written into each run folder as `harness.py` and run as
 * `python -I -S -B harness.py` (isolated mode: no PYTHON* variables, no user site, the
 * script's folder not on sys.path; site-packages are added as plain paths, see `sitePaths`).
 *
 * It reads one JSON request from stdin: {nonce, program, filename, moduleName, tests:
 * [{source, timeoutMs}], programMs, budgetMs, outputChars, sitePaths}. The program is
 * compiled (a SyntaxError is reported as `syntaxError`, and no test runs), executed once as
 * module `moduleName` (default '__main__'), then each test runs in a copy of the program's
 * globals, inside try/except, under its own time limit (signal.setitimer; a program that
 * swallows the first timeout gets a second one 50 ms later; one that swallows that too ends
 * the process, its results so far reported), with print() captured (the first `outputChars`
 * characters are reported). The budget caps the whole run: tests that would start after it
 * are reported as not run.
 *
 * Output, on the original stdout only (fd 1 is pointed at stderr before any candidate code
 * runs, so stray writes cannot mix in): one line per finished test, `<nonce>T <json>`, then
 * one line `<nonce>R {"results": [...], "syntaxError"?: str, "programError"?: str}`. The
 * runner prefers the R line and falls back to the T lines when the process was killed.
 * Candidate code runs in the same process: the protocol guards against accidents (prints,
 * exit(), swallowed exceptions), not against code written to forge results.
 */
export const PYTHON_HARNESS = String.raw`
import sys, os, _signal, time, builtins

# No json, signal nor types: with their imports (re, enum, ...) they would double the cost of a
# run. The request is JSON written by the engine, which is also a Python literal once true,
# false and null are names; results are written by a small encoder.
_ESC = {i: "\\u%04x" % i for i in range(32)}
_ESC.update({ord('"'): '\\"', ord("\\"): "\\\\", 10: "\\n", 13: "\\r", 9: "\\t"})

def _dumps(v):
    if v is None:
        return "null"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if v == v and v not in (float("inf"), float("-inf")) else "null"
    if isinstance(v, str):
        return '"' + v.translate(_ESC) + '"'
    if isinstance(v, dict):
        return "{" + ",".join(_dumps(str(k)) + ":" + _dumps(x) for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_dumps(x) for x in v) + "]"
    return _dumps(str(v))

def _winnow_main():
    req = eval(sys.stdin.buffer.read().decode("utf-8"), {"__builtins__": {}, "true": True, "false": False, "null": None})
    nonce = req["nonce"]
    out_fd = os.dup(1)
    os.dup2(2, 1)
    out = os.fdopen(out_fd, "w", encoding="utf-8", errors="replace", closefd=True)
    out_chars = int(req.get("outputChars", 2000))
    t_start = time.monotonic()
    budget = req.get("budgetMs")
    deadline = t_start + budget / 1000.0 if budget else None

    for p in req.get("sitePaths") or []:
        if os.path.isdir(p) and p not in sys.path:
            sys.path.append(p)

    tests = req.get("tests") or []
    results = [None] * len(tests)
    final = {"results": results}

    def emit(kind, obj):
        out.write(nonce + kind + " " + _dumps(obj) + "\n")
        out.flush()

    def fmt(e):
        try:
            s = str(e)
        except BaseException:
            s = "<unprintable>"
        name = type(e).__name__
        msg = name + (": " + s if s else "")
        return msg[:500]

    class WinnowTimeout(BaseException):
        pass

    state = {"armed": False, "fired": 0, "current": None}

    def finish_hard():
        # The program swallowed the timeout twice: report what is known and stop here.
        i = state["current"]
        for j in range(len(tests)):
            if results[j] is None:
                if j == i:
                    results[j] = {"passed": False, "timedOut": True, "error": "timed out (the program ignored the timeout)"}
                elif i is None:
                    results[j] = {"passed": False, "timedOut": True, "error": "program timed out (it ignored the timeout)"}
                else:
                    results[j] = {"passed": False, "skipped": True, "error": "not run: an earlier test did not stop"}
        if i is None:
            final["programError"] = "timed out"
        emit("R", final)
        os._exit(3)

    def on_alarm(signum, frame):
        if not state["armed"]:
            return
        state["fired"] += 1
        if state["fired"] >= 3:
            finish_hard()
        raise WinnowTimeout()

    _signal.signal(_signal.SIGALRM, on_alarm)

    class Capture:
        def __init__(self):
            self.parts = []
            self.n = 0
        def write(self, s):
            if not isinstance(s, str):
                raise TypeError("write() argument must be str, not " + type(s).__name__)
            if self.n < out_chars:
                self.parts.append(s[: out_chars - self.n])
            self.n += len(s)
            return len(s)
        def flush(self):
            pass
        def isatty(self):
            return False
        def writable(self):
            return True
        @property
        def encoding(self):
            return "utf-8"
        def value(self):
            return "".join(self.parts)[:out_chars]

    base_limit = sys.getrecursionlimit()

    def run(fn, seconds):
        """Returns (error or None, timed_out, captured output)."""
        # The code runs 2 frames below this one (fn, then the exec'd code), under the harness's
        # own frames: raise the recursion limit by that many, so it gets the depth it would have
        # at the top of a script (before 3.12 the exec() C call counts as one more).
        depth = 0
        f = sys._getframe()
        while f is not None:
            depth += 1
            f = f.f_back
        sys.setrecursionlimit(base_limit + depth + 1 + (1 if sys.version_info < (3, 12) else 0))
        cap = Capture()
        saved = sys.stdout, sys.stderr
        sys.stdout = sys.stderr = cap
        state["fired"] = 0
        err = None
        timed = False
        try:
            try:
                state["armed"] = True
                _signal.setitimer(_signal.ITIMER_REAL, max(seconds, 0.001), 0.05)
                fn()
            finally:
                state["armed"] = False
                _signal.setitimer(_signal.ITIMER_REAL, 0, 0)
        except WinnowTimeout:
            timed = True
        except SystemExit as e:
            err = "SystemExit: " + repr(e.code)
        except BaseException as e:
            err = fmt(e)
        finally:
            sys.stdout, sys.stderr = saved
        return err, timed, cap.value()

    src = req.get("program", "")
    filename = req.get("filename") or "program.py"
    try:
        code = compile(src, filename, "exec", dont_inherit=True)
    except BaseException as e:
        final["syntaxError"] = fmt(e)
        for j in range(len(tests)):
            results[j] = {"passed": False, "error": "syntax error"}
        emit("R", final)
        os._exit(0)

    name = req.get("moduleName") or "__main__"
    mod = type(sys)(name)
    mod.__file__ = os.path.abspath(filename)
    mod.__builtins__ = builtins
    sys.modules[name] = mod
    g = mod.__dict__

    def remaining():
        return None if deadline is None else deadline - time.monotonic()

    program_s = float(req.get("programMs", 3000)) / 1000.0
    rem = remaining()
    err, timed, printed = run(lambda: exec(code, g), program_s if rem is None else min(program_s, rem))
    if timed or err is not None:
        final["programError"] = "timed out" if timed else err
        for j in range(len(tests)):
            results[j] = {"passed": False, "timedOut": True, "error": "program timed out"} if timed else {"passed": False, "error": "program raised " + err}
        emit("R", final)
        os._exit(0)

    for i, t in enumerate(tests):
        rem = remaining()
        if rem is not None and rem <= 0:
            results[i] = {"passed": False, "skipped": True, "timedOut": True, "error": "not run: time budget spent"}
            continue
        state["current"] = i
        try:
            tcode = compile(t["source"], "<test " + str(i) + ">", "exec", dont_inherit=True)
        except BaseException as e:
            results[i] = {"passed": False, "error": "test does not compile: " + fmt(e)}
            emit("T", dict(results[i], i=i))
            continue
        seconds = float(t.get("timeoutMs") or 3000) / 1000.0
        if rem is not None:
            seconds = min(seconds, rem)
        scope = dict(g)
        err, timed, printed = run(lambda: exec(tcode, scope), seconds)
        r = {"passed": err is None and not timed}
        if timed:
            r["timedOut"] = True
            r["error"] = "timed out"
        elif err is not None:
            r["error"] = err
        if printed:
            r["stdout"] = printed
        results[i] = r
        emit("T", dict(r, i=i))
    state["current"] = None
    emit("R", final)
    os._exit(0)

_winnow_main()
`;

// The two Python programs that run inside the sandbox for HumanEval (see humaneval_exec.hpp).
#include "eval/humaneval_driver.hpp"

#include <string>

namespace dsv3::eval {

// The value codec both sides use on the pipe: only plain built-in values of exact types
// cross it, so a returned object cannot bring its own __eq__.
constexpr const char* kValueCodecPy = R"PY(def enc(x, depth=0):
    if depth > 100:
        raise TypeError("value nested too deeply")
    t = type(x)
    if x is None: return ["n"]
    if t is bool: return ["b", x]
    if t is int: return ["i", hex(x)]
    if t is float: return ["f", x.hex()]
    if t is complex: return ["c", x.real.hex(), x.imag.hex()]
    if t is str: return ["s", x]
    if t is bytes: return ["y", x.hex()]
    if t is list: return ["l", [enc(v, depth + 1) for v in x]]
    if t is tuple: return ["t", [enc(v, depth + 1) for v in x]]
    if t is dict: return ["d", [[enc(k, depth + 1), enc(v, depth + 1)] for k, v in x.items()]]
    if t is set: return ["S", [enc(v, depth + 1) for v in x]]
    if t is frozenset: return ["F", [enc(v, depth + 1) for v in x]]
    raise TypeError("value of type %s is not a plain built-in value" % t.__name__)


def dec(v):
    tag = v[0]
    if tag == "n": return None
    if tag == "b": return bool(v[1])
    if tag == "i": return int(v[1], 16)
    if tag == "f": return float.fromhex(v[1])
    if tag == "c": return complex(float.fromhex(v[1]), float.fromhex(v[2]))
    if tag == "s": return str(v[1])
    if tag == "y": return bytes.fromhex(v[1])
    if tag == "l": return [dec(e) for e in v[1]]
    if tag == "t": return tuple(dec(e) for e in v[1])
    if tag == "d": return {dec(k): dec(e) for k, e in v[1]}
    if tag == "S": return {dec(e) for e in v[1]}
    if tag == "F": return frozenset(dec(e) for e in v[1])
    raise ValueError("bad tag")
)PY";

const char* humaneval_checker_py() {
  static const std::string text = R"PY(# dsv3 HumanEval checker: the trusted side. Runs the problem's prompt and test code and
# calls the candidate, which lives in a separate process, through a pipe. Only plain
# built-in values (exact types) cross the pipe, so the candidate's return values cannot
# override __eq__. The verdict, with the harness's nonce, goes to fd 3, which the candidate
# never holds; this process is made non-dumpable so the candidate (same uid) cannot read its
# memory or open its file descriptors through /proc.
import ctypes, json, os, subprocess, sys

RESULT_FD, NONCE_FD = 3, 4
box, entry = sys.argv[1], sys.argv[2]
os.set_inheritable(RESULT_FD, False)
os.set_inheritable(NONCE_FD, False)
if ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0) != 0:  # PR_SET_DUMPABLE = 4
    sys.exit(3)
nonce = os.read(NONCE_FD, 128).decode()
os.close(NONCE_FD)
result = os.fdopen(RESULT_FD, "w")


def report(status, detail="", calls=0):
    result.write(json.dumps({"nonce": nonce, "status": status, "detail": detail[:500], "calls": calls}))
    result.flush()


)PY" + std::string(kValueCodecPy) + R"PY(


class CandidateError(Exception):
    pass


to_child_r, to_child_w = os.pipe()
from_child_r, from_child_w = os.pipe()
child = subprocess.Popen([sys.executable, "-I", os.path.join(box, "candidate_runner.py"), str(to_child_r),
                          str(from_child_w), os.path.join(box, "candidate.py"), entry],
                         pass_fds=(to_child_r, from_child_w), close_fds=True, stdin=subprocess.DEVNULL)
os.close(to_child_r)
os.close(from_child_w)
to_child = os.fdopen(to_child_w, "w")
from_child = os.fdopen(from_child_r, "r")


def receive():
    line = from_child.readline(64 << 20)
    if not line.endswith("\n"):
        raise CandidateError("the candidate process ended or sent a malformed reply")
    try:
        msg = json.loads(line)
        if not isinstance(msg, list) or not msg or not isinstance(msg[0], str):
            raise ValueError
        return msg
    except ValueError:
        raise CandidateError("malformed reply from the candidate process")


calls = 0


def candidate(*args, **kwargs):
    global calls
    calls += 1
    to_child.write(json.dumps(["call", enc(list(args)), enc(dict(kwargs))]) + "\n")
    to_child.flush()
    msg = receive()
    if msg[0] == "ok" and len(msg) == 2:
        try:
            return dec(msg[1])
        except Exception:
            raise CandidateError("malformed value from the candidate process")
    if msg[0] == "raise":
        raise CandidateError("candidate raised " + str(msg[1:])[:300])
    raise CandidateError("unexpected reply from the candidate process")


try:
    first = receive()
    if first != ["ready"]:
        raise CandidateError("candidate did not load: " + str(first)[:300])
    ns = {"__name__": "__checker__"}
    with open(os.path.join(box, "test.py")) as f:
        exec(compile(f.read(), "test.py", "exec"), ns)
    ns[entry] = candidate  # tests may call the entry point by name (HumanEval/33)
    ns["check"](candidate)
except BaseException as e:  # noqa: any failure of the checked program is a failure
    report("failed", "%s: %s" % (type(e).__name__, e), calls)
    child.kill()
    sys.exit(0)
child.kill()
if calls == 0:
    report("failed", "the test never called the candidate", calls)
else:
    report("passed", "", calls)
sys.exit(0)
)PY";
  return text.c_str();
}

const char* humaneval_candidate_runner_py() {
  static const std::string text = R"PY(# dsv3 HumanEval candidate side: loads the program under test and answers calls from the
# checker over a pipe. Return values must be plain built-in values (exact types).
import json, os, sys

rfd, wfd, path, entry = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
inp = os.fdopen(rfd, "r")
out = os.fdopen(wfd, "w")


def send(msg):
    out.write(json.dumps(msg) + "\n")
    out.flush()


)PY" + std::string(kValueCodecPy) + R"PY(


g = {"__name__": "__main__"}
try:
    with open(path) as f:
        src = f.read()
    exec(compile(src, "candidate.py", "exec"), g)
    fn = g[entry]
except BaseException as e:
    send(["load_error", "%s: %s" % (type(e).__name__, str(e)[:300])])
    sys.exit(1)
send(["ready"])
for line in inp:
    msg = json.loads(line)
    try:
        r = fn(*dec(msg[1]), **dec(msg[2]))
        reply = ["ok", enc(r)]
    except BaseException as e:
        reply = ["raise", type(e).__name__, str(e)[:300]]
    send(reply)
)PY";
  return text.c_str();
}

}  // namespace dsv3::eval

#pragma once
// Python sources written into each sandbox run (read-only there):
//  checker.py           trusted: runs prompt + test, calls the candidate through a pipe, writes
//                       the verdict with the harness's nonce to fd 3 (never given to the candidate)
//  candidate_runner.py  loads the program under test in a separate process and answers calls;
//                       only plain built-in values (exact types) cross the pipe.
namespace dsv3::eval {
const char* humaneval_checker_py();
const char* humaneval_candidate_runner_py();
}  // namespace dsv3::eval

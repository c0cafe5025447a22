#!/usr/bin/env python3
"""A scripted stand-in for an AI coding CLI (Claude Code, Aider, ...), for Berth's task tests
and benchmark. Python 3 standard library only.

On a terminal it behaves like one of those programs: a banner, a "> " prompt, and for each
line typed a spinner redrawn in place while it "works" for --delay seconds (so the screen keeps
changing and agentapi reports the program as running), then an answer and the prompt again
(the screen settles and agentapi reports it stable).

Deterministically, some turns ask a question back instead of answering at once: a line that
contains "question" or ends with "?", and, with --question-every N, every Nth turn. The program
then prints the question and an "answer> " prompt, waits for the next line, works again, and
answers with both. "exit" ends the program with code 0; end of input too.

Answers are recognisable in logs: "Done (turn N): <line>" and, after a question,
"Done (turn N): <line> (you said: <answer>)".

Options may also come from the environment, so a template can set them without quoting:
SCRIPTED_AI_DELAY (seconds, default 1.0), SCRIPTED_AI_QUESTION_EVERY (default 0: never).
"""
import argparse
import os
import sys
import time

SPINNER = "|/-\\"
FRAME_SECONDS = 0.1


def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def work(delay, what):
    """Redraws a spinner line for `delay` seconds, then erases it, as AI CLIs do."""
    start = time.monotonic()
    frame = 0
    while True:
        elapsed = time.monotonic() - start
        out("\r\x1b[K%s Working on %s (%.1fs)" % (SPINNER[frame % len(SPINNER)], what, elapsed))
        if elapsed >= delay:
            break
        time.sleep(min(FRAME_SECONDS, max(0.0, delay - elapsed)))
        frame += 1
    out("\r\x1b[K")


def read_line(prompt):
    out(prompt)
    line = sys.stdin.readline()
    if not line:
        return None
    return line.strip()


def asks_question(line, turn, every):
    return "question" in line.lower() or line.endswith("?") or (every > 0 and turn % every == 0)


def quoted(line, limit=60):
    return line if len(line) <= limit else line[: limit - 3] + "..."


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--delay", type=float,
                        default=float(os.environ.get("SCRIPTED_AI_DELAY", "1.0")),
                        help="seconds spent working on each line (default 1.0)")
    parser.add_argument("--question-every", type=int,
                        default=int(os.environ.get("SCRIPTED_AI_QUESTION_EVERY", "0")),
                        help="ask a question back every Nth turn (0: only when asked)")
    args = parser.parse_args()
    if args.delay < 0 or args.delay > 600:
        parser.error("--delay must be between 0 and 600 seconds")

    out("\x1b[1mScripted AI\x1b[0m 1.0 - a stand-in for an AI coding assistant\r\n")
    out("Type a task and press Enter.\r\n\r\n")
    turn = 0
    while True:
        line = read_line("> ")
        if line is None:
            return 0
        if not line:
            continue
        if line == "exit":
            out("Bye.\r\n")
            return 0
        turn += 1
        work(args.delay, quoted(line, 30))
        if asks_question(line, turn, args.question_every):
            out("Before I change anything for \"%s\":\r\n" % quoted(line))
            out("\x1b[33mQuestion:\x1b[0m should I also update the tests? (yes/no)\r\n")
            answer = read_line("answer> ")
            if answer is None:
                return 0
            work(args.delay, "your answer")
            out("\x1b[32mDone (turn %d):\x1b[0m %s (you said: %s)\r\n\r\n" % (turn, line, answer))
        else:
            out("\x1b[32mDone (turn %d):\x1b[0m %s\r\n\r\n" % (turn, line))


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit(130)

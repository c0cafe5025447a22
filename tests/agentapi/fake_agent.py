#!/usr/bin/env python3
"""A stand-in for an AI coding CLI, for berth agentapi's tests.

Prints a banner and a "> " prompt, reads a line, "thinks" for --delay seconds (redrawing a
progress line so the screen keeps changing), erases that line, and answers. A line with
"question" in it gets a question back; "exit" ends the program with code 3.
"""
import argparse
import sys
import time


def out(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def think(delay):
    out("thinking")
    end = time.monotonic() + delay
    while time.monotonic() < end:
        time.sleep(0.05)
        out(".")
    out("\r\x1b[K")  # erase the progress line, as spinners do


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.5)
    args = parser.parse_args()
    out("\x1b[1mFake agent\x1b[0m ready\r\n")
    while True:
        out("> ")
        line = sys.stdin.readline()
        if not line:
            return 0
        line = line.strip()
        if line == "exit":
            return 3
        think(args.delay)
        if "question" in line:
            out("Do you want me to continue? (yes/no)\r\n")
        else:
            out("\x1b[32mYou said:\x1b[0m " + line + "\r\n")


if __name__ == "__main__":
    sys.exit(main())

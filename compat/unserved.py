#!/usr/bin/env python3
"""Lists the operations of Coder's API description that Berth's route table does not serve,
grouped by the description's tags, as docs/compatibility.md shows them.

Usage: python3 compat/unserved.py [swagger.json] > list.md
"""
import json
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent
swagger_path = sys.argv[1] if len(sys.argv) > 1 else root.parent / "shared/coder-api/swagger.json"
swagger = json.loads(pathlib.Path(swagger_path).read_text())
# Route literals may be split over lines ("…/versions/" "{…}"): join adjacent literals first.
routes = re.sub(r'"\s*\n\s*"', "", (root / "src/api/routes.cpp").read_text())
served = set()
for method, path in re.findall(r'\b(?:pub|priv|agent|daemon)\("([A-Z]+)",\s*"([^"]+)"', routes):
    if path.startswith("/api/v2"):
        served.add((method, re.sub(r"\{[^}]+\}", "{}", path[len("/api/v2"):])))

groups = {}
total = 0
for path, operations in swagger["paths"].items():
    for method, operation in operations.items():
        total += 1
        if (method.upper(), re.sub(r"\{[^}]+\}", "{}", path)) in served:
            continue
        tag = (operation.get("tags") or ["Other"])[0]
        groups.setdefault(tag, []).append((path, method.upper()))

unserved = sum(len(v) for v in groups.values())
print(f"{total - unserved} of the description's {total} operations are served; these {unserved} are not.\n")
for tag in sorted(groups):
    print(f"### {tag}\n")
    for path, method in sorted(groups[tag]):
        print(f"- `{method} {path}`")
    print()

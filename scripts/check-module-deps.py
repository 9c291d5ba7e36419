#!/usr/bin/env python3
"""Fails when a module's declared CMake DEPS differ from what its sources include.

A module is a directory src/<m>/ with a CMakeLists.txt that calls wims_module(<m> ...). Its include
graph is every `#include "<other>/..."` in its .h and .cc files (any depth) where <other> is another
module; its declared graph is every `wims::<other>` in its CMakeLists.txt. The two must be equal, and
the graph must have no cycle. Prints each difference and exits 1; exits 0 when they agree.
"""
import pathlib
import re
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "src"
modules = sorted(p.parent.name for p in root.glob("*/CMakeLists.txt"))
include_re = re.compile(r'^\s*#\s*include\s+"([a-z_]+)/', re.M)
dep_re = re.compile(r"\bwims::([a-z_]+)\b")

errors = []
graph = {}
for m in modules:
    included = set()
    for f in sorted((root / m).rglob("*")):
        if f.suffix in (".h", ".cc"):
            included.update(include_re.findall(f.read_text(errors="replace")))
    included = {d for d in included if d in modules and d != m}
    text = (root / m / "CMakeLists.txt").read_text()
    text = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    declared = {d for d in dep_re.findall(text) if d != m}
    for d in sorted(included - declared):
        errors.append(f"src/{m}: includes {d}/ but its CMake DEPS lack wims::{d}")
    for d in sorted(declared - included):
        errors.append(f"src/{m}: CMake DEPS name wims::{d} but nothing in src/{m} includes {d}/")
    graph[m] = included

state = {}
def visit(m, path):
    state[m] = 1
    for d in sorted(graph[m]):
        if state.get(d) == 1:
            errors.append("include cycle: " + " -> ".join(path + [m, d]))
        elif d not in state:
            visit(d, path + [m])
    state[m] = 2
for m in modules:
    if m not in state:
        visit(m, [])

for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
